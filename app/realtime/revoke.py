"""Ending a person's live connections when their access shrinks.

Every socket event checks access again, but a socket that has joined a room keeps receiving
what is broadcast there until it sends something. So when a pupil leaves a class, or their
account goes, all their sockets are disconnected right after the commit, on whichever process
holds them (with Redis, the message queue carries the disconnect to the others). The page
reconnects by itself (static/js/live.js) and every join is checked again.
"""

from __future__ import annotations

from flask import current_app

from app.core.signals import access_reduced, sessions_ended
from app.extensions import db, socketio
from app.realtime.emit import run_after_commit


def _sids_of(user_id: int) -> list[str]:
    """The user's open sockets, on this process and (through presence) on the others."""
    state = current_app.extensions["crossclass_realtime"]
    local = {sid for sid, owner in list(state.socket_owners.items()) if owner == user_id}
    return sorted(local | set(state.presence.sids(user_id)))


def disconnect_user(user_id: int) -> int:
    """Disconnects every open socket of the user, on every process; returns how many."""
    sids = _sids_of(user_id)
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
    return len(sids)


def disconnect_user_after_commit(user_id: int) -> None:
    app = current_app._get_current_object()

    def disconnect() -> None:
        # In a fresh app context: the disconnect handlers run at once and use the database,
        # and the session that is finishing its commit can run no more SQL.
        with app.app_context():
            disconnect_user(user_id)

    run_after_commit(db.session, disconnect, f"disconnect the sockets of user {user_id}")


def disconnect_sessions_after_commit(user_id: int, session_ids) -> None:
    """Disconnects, right after the commit and on every process, the user's sockets opened
    under these login sessions; the user's other sessions keep theirs."""
    app = current_app._get_current_object()
    session_ids = sorted(set(session_ids))

    def disconnect() -> None:
        with app.app_context():
            state = current_app.extensions["crossclass_realtime"]
            for sid in state.presence.sids(user_id, logins=session_ids):
                socketio.server.disconnect(sid, namespace="/")

    run_after_commit(db.session, disconnect, f"disconnect the sockets of {len(session_ids)} ended sessions")


def leave_rooms_after_commit(user_ids, rooms) -> None:
    """Takes the users' open sockets out of these rooms right after the commit, on every process.

    Narrower than disconnecting: for rooms that the users lose while everything else they had
    stays (their page keeps its connection). With Redis, the message queue carries the leave
    to the process that holds the socket.
    """
    app = current_app._get_current_object()
    user_ids, rooms = sorted(set(user_ids)), list(rooms)
    if not user_ids or not rooms:
        return

    def leave() -> None:
        with app.app_context():
            for user_id in user_ids:
                for sid in _sids_of(user_id):
                    for room in rooms:
                        socketio.server.leave_room(sid, room, namespace="/")

    run_after_commit(db.session, leave, f"take {len(user_ids)} users out of {len(rooms)} rooms")


@access_reduced.connect
def _on_access_reduced(user_id: int, **_details) -> None:
    disconnect_user_after_commit(user_id)


@sessions_ended.connect
def _on_sessions_ended(user_id: int, session_ids, **_details) -> None:
    disconnect_sessions_after_commit(user_id, session_ids)
