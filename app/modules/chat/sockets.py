"""Socket events of chat (protocol: docs/realtime.md, "Chat").

Every event checks the user's access to the channel as it is now, so a student taken out
of a class loses the channel on their next event, and that socket leaves the room. (A check
kept from the socket's earlier event counts only while nothing it read has changed:
app/realtime/auth_cache.py.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room

from app.auth import names
from app.core import signals
from app.core.db import is_db_int
from app.core.errors import InvalidInput, NotFound, PermissionDenied
from app.extensions import socketio
from app.modules.chat import group_commit, operations, queries
from app.realtime import auth_cache, socket_event
from app.realtime.ordering import register_sequenced_event, room_joined
from app.realtime.rooms import project_scope, user_scope

# A typing notice is passed on at most once per this many seconds per socket and channel
# (the page sends one every 3 s while someone types; the rest is noise).
TYPING_INTERVAL_SECONDS = 2.0
# At most this many channels in one chat_watch (a page lists an exchange's channels: a few
# teams, the teachers, a pupil's direct conversations).
WATCH_LIMIT = 100
_typing_seen: dict[tuple[str, int], float] = {}
_typing_lock = threading.Lock()

# A channel room's changes reach every socket in seq order, also across processes (a batch
# carries gap-free seqs, first to last).
register_sequenced_event("chat_event", lambda event: (event["seq"], event["seq"]))
register_sequenced_event("chat_event_batch", lambda batch: (batch["events"][0]["seq"], batch["events"][-1]["seq"]))


def _payload(payload) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput(_("This request is not understood. Please reload the page."))
    return payload


def _seq(payload: dict, key: str, required: bool = False) -> int | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not is_db_int(value, minimum=0):
        raise InvalidInput(_("This request is not understood. Please reload the page."), field=key)
    return value


def _channel(payload: dict):
    channel_id = payload.get("channel_id")
    try:
        return _access(channel_id)
    except (PermissionDenied, NotFound):
        # Access ended (or never was): this socket must stop receiving the channel too.
        if isinstance(channel_id, int):
            leave_room(queries.channel_room(channel_id))
            leave_room(queries.notice_room(channel_id))
        raise


def _access(channel_id) -> queries.ChannelAccess:
    """queries.channel_for_user, kept for this socket while nothing it read has changed
    (app/realtime/auth_cache.py). The first check of a channel on a socket is never kept:
    it tells which project's changes the kept one depends on."""
    if not is_db_int(channel_id):
        return queries.channel_for_user(channel_id, current_user)  # (refuses it)
    project_id = auth_cache.remembered(("project of channel", channel_id))
    if project_id is None:
        access = queries.channel_for_user(channel_id, current_user)
        auth_cache.remember(("project of channel", channel_id), access.project.id)
        return access
    return auth_cache.cached_check(
        ("channel", channel_id),
        [user_scope(current_user.id), project_scope(project_id)],
        lambda: queries.channel_for_user(channel_id, current_user),
        keep=lambda access: replace(
            access,
            # next_seq moves with every message, in plain SQL (operations.write_messages).
            channel=auth_cache.detached_copy(access.channel, left_out=("next_seq",)),
            project=auth_cache.detached_copy(access.project),
        ),
        restore=lambda kept: replace(
            kept, channel=auth_cache.merge_copy(kept.channel), project=auth_cache.merge_copy(kept.project)
        ),
    )


def _message(channel, payload: dict):
    return queries.message_in_channel(channel, payload.get("message_id"))


@socket_event("chat_join")
def chat_join(payload=None):
    """Joins the channel's room. With last_seq: the events after it (a page; has_more says
    whether to ask again). Without: the newest messages, to start from."""
    payload = _payload(payload)
    access = _channel(payload)
    channel = access.channel
    last_seq = _seq(payload, "last_seq")
    join_room(queries.channel_room(channel.id))
    # Those already here see the newcomer online at once (and offline: _announce_offline).
    announce = {"channel_id": channel.id, **_person(current_user, access.public_name(current_user))}
    emit("chat_online", announce, to=queries.channel_room(channel.id), include_self=False)
    result = {
        "channel": queries.channel_view(channel, current_user),
        "last_read_seq": queries.last_read_seq(channel.id, current_user.id),
    }
    room_joined(queries.channel_room(channel.id), result["channel"]["last_seq"])
    if last_seq is None:
        messages, has_older = queries.messages_before(channel.id, None)
        return {**result, "messages": queries.message_views(messages), "has_older": has_older}
    events, has_more = queries.events_after(channel.id, last_seq)
    return {**result, "events": queries.event_views(events), "has_more": has_more}


@socket_event("chat_watch")
def chat_watch(payload=None):
    """The page's other channels, whose unread counts it keeps live: it gets a chat_notice for
    each new message in those the user may read now (and that count as unread for them)."""
    payload = _payload(payload)
    channel_ids = payload.get("channel_ids")
    if (
        not isinstance(channel_ids, list)
        or len(channel_ids) > WATCH_LIMIT
        or not all(is_db_int(channel_id) for channel_id in channel_ids)
    ):
        raise InvalidInput(_("This request is not understood. Please reload the page."), field="channel_ids")
    readable = queries.readable_among(channel_ids, current_user)
    watching = []
    for channel_id in dict.fromkeys(channel_ids):
        channel = readable.get(channel_id)
        if channel is not None and queries.counts_unread(channel, current_user):
            join_room(queries.notice_room(channel_id))
            watching.append(channel_id)
        else:
            leave_room(queries.notice_room(channel_id))
    return {"watching": watching}


@socket_event("chat_events")
def chat_events(payload=None):
    """Gap repair: the events with after_seq < seq <= until_seq (or to the end), in order."""
    payload = _payload(payload)
    channel = _channel(payload).channel
    events, has_more = queries.events_after(
        channel.id, _seq(payload, "after_seq", required=True), _seq(payload, "until_seq")
    )
    return {"events": queries.event_views(events), "has_more": has_more}


@socket_event("chat_history")
def chat_history(payload=None):
    """Scroll-back: the messages before before_seq, oldest first."""
    payload = _payload(payload)
    channel = _channel(payload).channel
    messages, has_older = queries.messages_before(channel.id, _seq(payload, "before_seq", required=True))
    return {"messages": queries.message_views(messages), "has_older": has_older}


@socket_event("chat_send")
def chat_send(payload=None):
    payload = _payload(payload)
    access = _channel(payload)
    outgoing = operations.prepare_message(
        current_user, access, payload.get("client_id"), payload.get("body"), payload.get("reply_to")
    )
    sent = outgoing if isinstance(outgoing, operations.SentMessage) else group_commit.send(outgoing)
    return {"id": sent.id, "seq": sent.seq, "duplicate": sent.duplicate, "message": sent.view}


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


@socket_event("chat_react")
def chat_react(payload=None):
    """Puts a reaction on (on: true), takes it off (on: false), or toggles it (no on)."""
    payload = _payload(payload)
    access = _channel(payload)
    message, seq = operations.set_reaction(
        current_user, access, _message(access.channel, payload), payload.get("emoji"), payload.get("on")
    )
    return {"id": message.id, "seq": seq, "reactions": queries.message_view(message)["reactions"]}


@socket_event("chat_read")
def chat_read(payload=None):
    """The highest seq the page has shown while visible; the read mark never goes back."""
    payload = _payload(payload)
    access = _channel(payload)
    return {"last_read_seq": operations.mark_read(current_user, access, _seq(payload, "seq", required=True))}


@socket_event("chat_typing")
def chat_typing(payload=None):
    """Tells the others in the channel that this user is typing; nothing is stored."""
    payload = _payload(payload)
    access = _channel(payload)
    if not access.may_write or (access.channel.is_locked and not access.may_moderate):
        raise PermissionDenied(_("You can read this chat but not write in it."))
    if not _typing_due(request.sid, access.channel.id):
        return {"relayed": False}
    room = queries.channel_room(access.channel.id)
    typing = {"channel_id": access.channel.id, **_person(current_user, access.public_name(current_user))}
    emit("chat_typing", typing, to=room, include_self=False)
    return {"relayed": True}


@socket_event("chat_presence")
def chat_presence(payload=None):
    """Who of the channel's readers is online now (anywhere in CrossClass), by the names the
    asking user may see (this answer goes to their socket alone)."""
    payload = _payload(payload)
    access = _channel(payload)
    presence = current_app.extensions["crossclass_realtime"].presence
    online = presence.online(queries.reader_ids(access))
    people = list(queries.users_by_id(online).values())
    shown = names.NameResolver(current_user).load(people)
    people.sort(key=shown.sort_key)
    return {"channel_id": access.channel.id, "online": [_person(user, shown(user)) for user in people]}


@signals.socket_left.connect
def _announce_offline(user_id: int, sid=None, rooms=(), open_sockets: int = 0, **_extra) -> None:
    """Someone's last socket closed: the channels it was reading drop them from their lists at once."""
    if open_sockets:
        return
    for room in rooms:
        if not room.startswith(queries.CHANNEL_ROOM_PREFIX):
            continue
        try:
            channel_id = int(room.removeprefix(queries.CHANNEL_ROOM_PREFIX))
            socketio.emit("chat_offline", {"channel_id": channel_id, "user_id": user_id}, to=room, skip_sid=sid)
        except Exception:
            current_app.logger.exception("chat_offline to %s failed", room)


def _person(user, name: str) -> dict:
    """Who, for an event; what goes to a whole room carries the public name (ChannelAccess.public_name)."""
    return {"user_id": user.id, "name": name}


def _typing_due(sid: str, channel_id: int) -> bool:
    now = time.monotonic()
    with _typing_lock:
        if len(_typing_seen) > 10_000:  # sockets that went away leave their stamps behind
            for key in [k for k, stamp in _typing_seen.items() if now - stamp > TYPING_INTERVAL_SECONDS]:
                del _typing_seen[key]
        last = _typing_seen.get((sid, channel_id))
        if last is not None and now - last < TYPING_INTERVAL_SECONDS:
            return False
        _typing_seen[(sid, channel_id)] = now
        return True
