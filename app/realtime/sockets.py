"""Connection handling and live presence, the first user of the real-time plumbing."""

from __future__ import annotations

import math

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from app.auth import queries
from app.auth.sessions import session_id_of
from app.core.signals import socket_left
from app.extensions import socketio
from app.realtime import error_ack, may_use_realtime, on_socket, socket_event
from app.realtime.rooms import class_presence_room, user_room


def _refuse(code: str, message: str, **details):
    # python-socketio sends a refusal as {message, data}; socket.io-client hands it to
    # "connect_error" as err.message and err.data. The builtin ConnectionRefusedError
    # would be replaced by a generic message and lose the code.
    raise SocketRefused(message, {"code": code, "message": message, **details})


def _paused_message() -> str:
    return _(
        "Live updates are paused for a moment because this page sent too many messages too fast. "
        "They start again by themselves."
    )


@on_socket("connect")
def on_connect(auth=None):
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") not in current_app.config["ALLOWED_ORIGINS"]:
        _refuse("bad_origin", _("Connections from this site are not allowed."))
    if not current_user.is_authenticated:
        _refuse("unauthorized", _("Please log in first."))
    if not may_use_realtime(current_user):
        _refuse("unauthorized", _("Your account cannot use live features yet."))
    state = current_app.extensions["crossclass_realtime"]
    # A user disconnected for flooding (app/realtime/flood.py) stays off for the cool-down.
    cooldown = state.gate.cooldown_remaining(current_user.id)
    if cooldown > 0:
        _refuse("rate_limited", _paused_message(), retry_after=math.ceil(cooldown))
    watched_classes = queries.class_ids_taught_by(current_user.id) if current_user.is_teacher else []
    # Count this socket first, then make room: checking before adding would let simultaneous
    # connects (several tabs restoring at once) all pass the check.
    # Noted with its login session, so ending that session ends this socket on any process
    # (app/realtime/revoke.py).
    login = session_id_of(current_user.session_token)
    open_sockets = state.presence.add(current_user.id, request.sid, login=login)
    state.keep_presence_alive()
    over_limit = open_sockets - current_app.config["SOCKETS_PER_USER"]
    if over_limit > 0:
        _replace_oldest_sockets(current_user.id, request.sid, over_limit)
    state.socket_owners[request.sid] = current_user.id
    # What the rate limit's gate needs to refuse this socket's events without a context:
    # its owner, and its messages in the owner's language.
    state.gate.watch(
        request.sid,
        current_user.id,
        refusal=error_ack("rate_limited", _("You are sending too fast. Please slow down.")),
        notice={"code": "rate_limited", "message": _paused_message()},
    )

    join_room(user_room(current_user.id))
    for class_id in watched_classes:
        join_room(class_presence_room(class_id))
    if open_sockets == 1 and current_user.is_student:
        _announce_presence(current_user.id, online=True)


@on_socket("disconnect")
def on_disconnect(reason=None):
    state = current_app.extensions["crossclass_realtime"]
    state.auth_cache.forget(request.sid)
    state.gate.forget(request.sid)
    # Not current_user: the session may have ended (logout elsewhere) while the socket
    # was open, and the socket must still be taken off its owner's count.
    user_id = state.socket_owners.pop(request.sid, None)
    if user_id is None:
        return
    # python-socketio takes the sid out of its rooms only after this handler returns.
    rooms = socketio.server.rooms(request.sid, namespace=request.namespace or "/")
    open_sockets = state.presence.remove(user_id, request.sid)
    if open_sockets == 0 and queries.is_student(user_id):
        _announce_presence(user_id, online=False)
    try:
        socket_left.send(user_id, sid=request.sid, rooms=rooms, open_sockets=open_sockets)
    except Exception:
        # A receiver's failure (a broadcast that could not go out) must not break the disconnect.
        current_app.logger.exception("socket_left receivers failed for user %s", user_id)


def _replace_oldest_sockets(user_id: int, new_sid: str, count: int) -> None:
    """Ends the user's `count` oldest sockets, on any process, so the new one fits the limit.

    The newest socket is the window the person is looking at; refusing it showed "Too many
    open windows" there, while the oldest places were often held by pages already left (a
    socket whose page is gone without a word lives until the ping timeout, 45 s). An old
    window still open is told why (`socket_replaced`) and does not reconnect by itself
    (static/js/live.js), so two windows never take turns pushing each other out; it connects
    again when the person comes back to it.
    """
    state = current_app.extensions["crossclass_realtime"]
    oldest = [sid for sid in state.presence.sids(user_id) if sid != new_sid][:count]
    for sid in oldest:
        # Off the count now: the limit holds at once, whatever the disconnect takes.
        state.presence.remove(user_id, sid)
    notice = {
        "code": "replaced",
        "message": _(
            "Live updates stopped here because CrossClass is open in too many other windows. "
            "Reload this page to continue here."
        ),
    }
    app = current_app._get_current_object()

    def disconnect_replaced() -> None:
        # After this connect is done, in an app context of its own: a disconnect runs its
        # handlers at once, and they must not run inside this socket's connect.
        with app.app_context():
            for sid in oldest:
                socketio.emit("socket_replaced", notice, to=sid)
                socketio.server.disconnect(sid, namespace="/")

    socketio.start_background_task(disconnect_replaced)


def _announce_presence(student_id: int, online: bool) -> None:
    for class_id in queries.class_ids_of_student(student_id):
        socketio.emit("presence", {"user_id": student_id, "online": online}, to=class_presence_room(class_id))


@socket_event("presence_sync")
def presence_sync(_payload=None):
    """Which of my students are online now; the page calls it after every (re)connect."""
    if not current_user.is_teacher:
        return {"online": []}
    student_ids = queries.student_ids_taught_by(current_user.id)
    state = current_app.extensions["crossclass_realtime"]
    return {"online": sorted(state.presence.online(student_ids))}
