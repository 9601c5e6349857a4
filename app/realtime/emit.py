"""Emit after commit: nothing reaches a client that the database did not keep.

Writers call emit_after_commit() inside their transaction; the events wait in the session
and go out only when that session commits, and vanish when it rolls back.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import socketio

_PENDING = "crossclass_pending_emits"


def emit_after_commit(session: Session, event_name: str, data, room: str) -> None:
    session.info.setdefault(_PENDING, []).append((event_name, data, room))


@event.listens_for(Session, "after_commit")
def _flush_emits(session: Session) -> None:
    for event_name, data, room in session.info.pop(_PENDING, []):
        socketio.emit(event_name, data, to=room)


@event.listens_for(Session, "after_rollback")
def _drop_emits(session: Session) -> None:
    session.info.pop(_PENDING, None)
