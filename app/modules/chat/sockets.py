"""Socket events of chat (protocol: docs/realtime.md, "Chat").

Every event loads the channel and checks the user's membership as it is now, so a student
taken out of a class loses the channel on their next event, and that socket leaves the room.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room, leave_room

from app.core.errors import InvalidInput, NotFound, PermissionDenied
from app.modules.chat import operations, queries
from app.realtime import socket_event


def _payload(payload) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput(_("This request is not understood. Please reload the page."))
    return payload


def _seq(payload: dict, key: str, required: bool = False) -> int | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(_("This request is not understood. Please reload the page."), field=key)
    return value


def _channel(payload: dict):
    channel_id = payload.get("channel_id")
    try:
        return queries.channel_for_user(channel_id, current_user)
    except (PermissionDenied, NotFound):
        # Access ended (or never was): this socket must stop receiving the channel too.
        if isinstance(channel_id, int):
            leave_room(queries.channel_room(channel_id))
        raise


def _message(channel, payload: dict):
    return queries.message_in_channel(channel, payload.get("message_id"))


@socket_event("chat_join")
def chat_join(payload=None):
    """Joins the channel's room. With last_seq: the events after it (a page; has_more says
    whether to ask again). Without: the newest messages, to start from."""
    payload = _payload(payload)
    channel = _channel(payload).channel
    last_seq = _seq(payload, "last_seq")
    join_room(queries.channel_room(channel.id))
    result = {"channel": queries.channel_view(channel)}
    if last_seq is None:
        messages, has_older = queries.messages_before(channel.id, None)
        return {**result, "messages": [queries.message_view(m) for m in messages], "has_older": has_older}
    events, has_more = queries.events_after(channel.id, last_seq)
    return {**result, "events": [queries.event_view(e) for e in events], "has_more": has_more}


@socket_event("chat_events")
def chat_events(payload=None):
    """Gap repair: the events with after_seq < seq <= until_seq (or to the end), in order."""
    payload = _payload(payload)
    channel = _channel(payload).channel
    events, has_more = queries.events_after(
        channel.id, _seq(payload, "after_seq", required=True), _seq(payload, "until_seq")
    )
    return {"events": [queries.event_view(e) for e in events], "has_more": has_more}


@socket_event("chat_history")
def chat_history(payload=None):
    """Scroll-back: the messages before before_seq, oldest first."""
    payload = _payload(payload)
    channel = _channel(payload).channel
    messages, has_older = queries.messages_before(channel.id, _seq(payload, "before_seq", required=True))
    return {"messages": [queries.message_view(m) for m in messages], "has_older": has_older}


@socket_event("chat_send")
def chat_send(payload=None):
    payload = _payload(payload)
    access = _channel(payload)
    message, duplicate = operations.send_message(
        current_user, access, payload.get("client_id"), payload.get("body"), payload.get("reply_to")
    )
    return {"id": message.id, "seq": message.seq, "duplicate": duplicate, "message": queries.message_view(message)}


@socket_event("chat_edit")
def chat_edit(payload=None):
    payload = _payload(payload)
    access = _channel(payload)
    message = operations.edit_message(current_user, access, _message(access.channel, payload), payload.get("body"))
    return {"id": message.id, "message": queries.message_view(message)}


@socket_event("chat_delete")
def chat_delete(payload=None):
    payload = _payload(payload)
    access = _channel(payload)
    message = operations.delete_message(current_user, access, _message(access.channel, payload))
    return {"id": message.id}


@socket_event("chat_hide")
def chat_hide(payload=None):
    payload = _payload(payload)
    access = _channel(payload)
    message = operations.hide_message(current_user, access, _message(access.channel, payload))
    return {"id": message.id}


@socket_event("chat_lock")
def chat_lock(payload=None):
    payload = _payload(payload)
    access = _channel(payload)
    channel = operations.set_channel_lock(current_user, access, payload.get("locked", True))
    return {"is_locked": channel.is_locked}
