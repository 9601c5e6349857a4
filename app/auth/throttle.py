"""Login throttling per account name and per client address.

After a few free failures each further failure doubles the wait, up to a cap: an attacker
is slowed to a crawl, while the real owner is never locked out for good. Counters live in
the database so every server process sees the same ones. Names that match no account are
throttled exactly like real ones, so the delay reveals nothing.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.auth.models import LoginThrottle
from app.core.db import utcnow
from app.extensions import db

ACCOUNT = "account"
ADDRESS = "address"
# An address is shared by a whole school behind one router: it gets this many times more room.
ADDRESS_ALLOWANCE_FACTOR = 10
# Failures older than this no longer count: a forgotten password last month is not an attack.
_FORGET_AFTER = timedelta(hours=24)


def _keys(username: str, address: str) -> list[tuple[str, str]]:
    return [(ACCOUNT, username.strip().lower()[:254]), (ADDRESS, (address or "unknown")[:254])]


def seconds_to_wait(username: str, address: str) -> int:
    """How long this login must wait; 0 when it may go ahead."""
    now = utcnow()
    waits = [0]
    for scope, key in _keys(username, address):
        row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            waits.append(math.ceil((row.blocked_until - now).total_seconds()))
    return max(waits)


def record_failure(username: str, address: str) -> None:
    free = current_app.config["LOGIN_FREE_ATTEMPTS"]
    cap = current_app.config["LOGIN_MAX_DELAY_SECONDS"]
    now = utcnow()
    for scope, key in _keys(username, address):
        row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))
        if row is None:
            row = LoginThrottle(scope=scope, key=key, failures=0)
            db.session.add(row)
        allowance = free if scope == ACCOUNT else free * ADDRESS_ALLOWANCE_FACTOR
        if row.last_failure_at is not None and now - row.last_failure_at > _FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - allowance
        if over > 0:
            row.blocked_until = now + timedelta(seconds=min(cap, 2 ** (over - 1)))


def record_success(username: str) -> None:
    """A correct password clears the account's counter (not the address's)."""
    scope, key = _keys(username, "")[0]
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))
    if row is not None:
        db.session.delete(row)


# Password-reset requests: a fixed number per hour for each typed address and each client
# address, counted the same whether an account has the address or not, so the limit says
# nothing about who has an account. The rows reuse the login table: `failures` counts the
# requests of the current hour, which began at `last_failure_at`.
RESET_ADDRESS = "reset-mail"
RESET_CLIENT = "reset-ip"
_RESET_WINDOW = timedelta(hours=1)


def take_reset_request(email: str, address: str) -> int:
    """Counts one password-reset request; when a limit is reached, counts nothing and returns
    the seconds until a new request is allowed (0: go ahead)."""
    now = utcnow()
    limits = {
        RESET_ADDRESS: current_app.config["PASSWORD_RESET_PER_ADDRESS"],
        RESET_CLIENT: current_app.config["PASSWORD_RESET_PER_CLIENT"],
    }
    keys = [(RESET_ADDRESS, email.strip().lower()[:254]), (RESET_CLIENT, (address or "unknown")[:254])]
    rows, wait = [], 0
    for scope, key in keys:
        row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))
        if row is None:
            row = LoginThrottle(scope=scope, key=key, failures=0)
            db.session.add(row)
        if row.last_failure_at is None or now - row.last_failure_at >= _RESET_WINDOW:
            row.failures, row.last_failure_at = 0, now
        if row.failures >= limits[scope]:
            wait = max(wait, math.ceil((row.last_failure_at + _RESET_WINDOW - now).total_seconds()))
        rows.append(row)
    if wait:
        return wait
    for row in rows:
        row.failures += 1
    return 0
