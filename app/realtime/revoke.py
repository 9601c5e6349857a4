"""Ending a person's live connections when their access shrinks.

Every socket event checks access again, but a socket that has joined a room keeps receiving
what is broadcast there until it sends something. So when a pupil leaves a class, or their
account goes, all their sockets are disconnected right after the commit, on whichever process
holds them (with Redis, the message queue carries the disconnect to the others). The page
reconnects by itself (static/js/live.js) and every join is checked again.
"""

from __future__ import annotations

from flask import current_app

from app.core.signals import access_reduced
from app.extensions import db, socketio
from app.realtime.emit import run_after_commit


def disconnect_user(user_id: int) -> int:
    """Disconnects every open socket of the user, on every process; returns how many."""
    state = current_app.extensions["crossclass_realtime"]
    local = {sid for sid, owner in list(state.socket_owners.items()) if owner == user_id}
    sids = sorted(local | set(state.presence.sids(user_id)))
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


@access_reduced.connect
def _on_access_reduced(user_id: int, **_details) -> None:
    disconnect_user_after_commit(user_id)
