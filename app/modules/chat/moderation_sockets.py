"""Socket events of chat moderation (protocol: docs/realtime.md, "Chat moderation").

Like every chat event, each loads the channel and checks the user's role as it is now.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import leave_room

from app.auth.models import User
from app.core.db import is_db_int
from app.core.errors import InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.modules.chat import moderation, queries
from app.modules.chat import moderation_queries as mq
from app.realtime import socket_event


def _payload(payload) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput(_("This request is not understood. Please reload the page."))
    return payload


def _access(payload: dict):
    channel_id = payload.get("channel_id")
    try:
        return queries.channel_for_user(channel_id, current_user)
    except (PermissionDenied, NotFound):
        if isinstance(channel_id, int):  # access ended: stop receiving the channel too
            leave_room(queries.channel_room(channel_id))
        raise


@socket_event("chat_report")
def chat_report(payload=None):
    """A reader reports a message of the channel to the exchange's teachers."""
    payload = _payload(payload)
    access = _access(payload)
    message = queries.message_in_channel(access.channel, payload.get("message_id"))
    report, already = moderation.report_message(
        current_user, access, message, payload.get("reason"), payload.get("details")
    )
    if already:
        notice = _("You have already reported this message. The teachers will look at it.")
    else:
        notice = _("Thank you. The teachers of this exchange will look at the message.")
    return {"report_id": report.id, "already_reported": already, "notice": notice}


@socket_event("chat_mute")
def chat_mute(payload=None):
    """A teacher mutes a pupil (or guest) in every channel of the channel's exchange."""
    payload = _payload(payload)
    access = _access(payload)
    user_id = payload.get("user_id")
    target = db.session.get(User, user_id) if is_db_int(user_id) else None
    if target is None:
        raise NotFound(_("This person does not exist."))
    mute = moderation.mute_user(current_user, access.project, target, payload.get("minutes"), payload.get("reason"))
    return {"until": mute.until.isoformat()}


@socket_event("chat_mute_status")
def chat_mute_status(payload=None):
    """Whether the asking person is muted in the channel's exchange now (the page asks on connect)."""
    payload = _payload(payload)
    access = _access(payload)
    mute = mq.active_mute(access.project.id, current_user.id)
    if mute is None:
        return {"muted_until": None}
    return {"muted_until": mute.until.isoformat(), "notice": moderation.muted_message(mute)}
