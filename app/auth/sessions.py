"""Server-side login sessions behind Flask-Login.

The cookie carries only a random token; the row behind it is what makes a session valid.
Logging out ends the row, so a copied cookie is worthless afterwards, and an idle session
ends on the server, not only in the browser.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app, session
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.auth.models import User, UserSession
from app.core.db import utcnow
from app.core.signals import sessions_ended
from app.extensions import db

# Writing last_seen_at on every request would turn each page view into a write.
_TOUCH_INTERVAL = timedelta(minutes=1)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(token_hash=_hash_token(token), user_id=user.id, created_at=now, last_seen_at=now))
    user.session_token = token
    return token


def _end(rows: list[UserSession]) -> None:
    """Ends the sessions; their open sockets are disconnected after the commit, on every
    process (app/realtime/revoke.py): HTTP refuses an ended session at once, and a socket
    that only listens must stop hearing at once too."""
    now = utcnow()
    for row in rows:
        row.ended_at = now
    if rows:
        sessions_ended.send(rows[0].user_id, session_ids=[row.id for row in rows])


def end_session(token: str | None) -> None:
    if not token:
        return
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash_token(token)))
    if row is not None and row.ended_at is None:
        _end([row])


def end_all_sessions(user: User, keep_token: str | None = None) -> None:
    """Ends every live session of the user but the one of keep_token (a password change keeps
    the session that made it, with its sockets)."""
    keep = _hash_token(keep_token) if keep_token else None
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None)))
    _end([row for row in rows if row.token_hash != keep])


def session_id_of(token: str) -> int | None:
    """The id of the session row behind a token (a socket notes it at connect)."""
    return db.session.scalar(select(UserSession.id).where(UserSession.token_hash == _hash_token(token)))


@functools.cache
def _session_statement():
    # Built once: it runs on every request and socket event, and building it cost a third
    # as much as running it.
    return (
        select(UserSession)
        .options(joinedload(UserSession.user).joinedload(User.school))
        .where(UserSession.token_hash == bindparam("token_hash"))
    )


def load_session_user(token: str) -> User | None:
    """Flask-Login's user loader: the live session's user, or None when ended or idle."""
    # One query per request (and per socket event): the session row with its user and the
    # user's school (their time zone, and the country chat shows with each message they send).
    row = db.session.scalar(_session_statement(), {"token_hash": _hash_token(token)})
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    idle_limit = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
    # A disabled account is refused even if a session of it was somehow left open.
    if now - row.last_seen_at > idle_limit or now - row.created_at > lifetime or not row.user.is_active:
        _end([row])
        db.session.commit()
        session.clear()
        return None
    if now - row.last_seen_at > _TOUCH_INTERVAL:
        row.last_seen_at = now
        db.session.commit()
    user = row.user
    user.session_token = token
    return user
