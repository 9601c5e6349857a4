"""Emit after commit: nothing reaches a client that the database did not keep.

Writers call emit_after_commit() inside their transaction; the events wait in the session
and go out only when its outermost transaction commits (app/core/after_commit.py, which
also drops an event queued in a savepoint that was rolled back).
"""

from __future__ import annotations

import functools

from sqlalchemy.orm import Session, scoped_session

from app.core.after_commit import run_after_commit
from app.extensions import socketio

__all__ = ["emit_after_commit", "run_after_commit"]


def emit_after_commit(session: Session | scoped_session, event_name: str, data, room: str) -> None:
    run_after_commit(session, functools.partial(_emit, event_name, data, room), f"emit {event_name} to {room}")


def _emit(event_name: str, data, room: str) -> None:
    socketio.emit(event_name, data, to=room)
