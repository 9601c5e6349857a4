"""Login throttling per account name and per client address; hourly limits of other requests.

After a few free failures each further failure doubles the wait, up to a cap: an attacker
is slowed to a crawl, while the real owner is never locked out for good. Counters live in
the database so every server process sees the same ones. Names that match no account are
throttled exactly like real ones, so the delay reveals nothing.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import select

from app.auth.models import LoginThrottle
from app.core.db import utcnow
from app.core.errors import RateLimited
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


# Fixed hourly windows, for requests that must not come in floods from one place: a counter
# per (scope, key) counts the events of the current hour, which began at its first event. The
# rows reuse the login table: `failures` is the count, `last_failure_at` the window's start.
_WINDOW = timedelta(hours=1)
# Password-reset requests: a fixed number per hour for each typed address and each client
# address, counted the same whether an account has the address or not, so the limit says
# nothing about who has an account.
RESET_ADDRESS = "reset-mail"
RESET_CLIENT = "reset-ip"
# Teachers' registrations and pupils' code joins per client address. A whole school shares one
# address, so the join limit leaves room for several classes joining in the same hour; wrong
# codes get far less room, so that codes cannot be found by trying (app/auth/join_codes.py).
REGISTER_CLIENT = "register"
JOIN_CLIENT = "join"
CODE_MISS_CLIENT = "join-miss"


def _client_key(address: str) -> str:
    return (address or "unknown")[:254]


def _window_row(scope: str, key: str, now) -> LoginThrottle:
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))
    if row is None:
        row = LoginThrottle(scope=scope, key=key, failures=0)
        db.session.add(row)
    if row.last_failure_at is None or now - row.last_failure_at >= _WINDOW:
        row.failures, row.last_failure_at = 0, now
    return row


def hourly_wait(limits: list[tuple[str, str, int]]) -> int:
    """Seconds until every (scope, key, limit) counter has room again; 0 when all have."""
    now, wait = utcnow(), 0
    for scope, key, limit in limits:
        row = _window_row(scope, key, now)
        if row.failures >= limit:
            wait = max(wait, math.ceil((row.last_failure_at + _WINDOW - now).total_seconds()))
    return wait


def count_hourly(counters: list[tuple[str, str]]) -> None:
    now = utcnow()
    for scope, key in counters:
        _window_row(scope, key, now).failures += 1


def take_hourly(limits: list[tuple[str, str, int]]) -> int:
    """Counts one event on each counter; when one is full, counts nothing and returns the
    seconds until there is room (0: go ahead)."""
    wait = hourly_wait(limits)
    if not wait:
        count_hourly([(scope, key) for scope, key, _limit in limits])
    return wait


def take_reset_request(email: str, address: str) -> int:
    """Counts one password-reset request; when a limit is reached, counts nothing and returns
    the seconds until a new request is allowed (0: go ahead)."""
    config = current_app.config
    return take_hourly(
        [
            (RESET_ADDRESS, email.strip().lower()[:254], config["PASSWORD_RESET_PER_ADDRESS"]),
            (RESET_CLIENT, _client_key(address), config["PASSWORD_RESET_PER_CLIENT"]),
        ]
    )


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def refuse_too_many_registrations(address: str) -> None:
    """Raises RateLimited when this address has registered its hourly number of teachers."""
    limit = current_app.config["REGISTRATIONS_PER_ADDRESS_PER_HOUR"]
    wait = hourly_wait([(REGISTER_CLIENT, _client_key(address), limit)])
    if wait:
        raise RateLimited(
            ngettext(
                "Too many registrations from your network. Please wait %(num)d minute and try again.",
                "Too many registrations from your network. Please wait %(num)d minutes and try again.",
                _minutes(wait),
            )
        )


def count_registration(address: str) -> None:
    count_hourly([(REGISTER_CLIENT, _client_key(address))])


def refuse_too_many_joins(address: str) -> None:
    """Raises RateLimited when this address has had its hourly number of wrong class codes
    (checked first: then no code is tried at all, right or wrong) or of pupils joining."""
    config, key = current_app.config, _client_key(address)
    wait = hourly_wait([(CODE_MISS_CLIENT, key, config["WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR"])])
    if wait:
        raise RateLimited(
            ngettext(
                "Too many wrong class codes from your network. Please wait %(num)d minute, "
                "then check the code with your teacher.",
                "Too many wrong class codes from your network. Please wait %(num)d minutes, "
                "then check the code with your teacher.",
                _minutes(wait),
            ),
            field="code",
        )
    wait = hourly_wait([(JOIN_CLIENT, key, config["CODE_JOINS_PER_ADDRESS_PER_HOUR"])])
    if wait:
        raise RateLimited(
            ngettext(
                "Too many pupils joined from your network in the last hour. Please wait %(num)d minute "
                "and try again, or ask your teacher for a login card.",
                "Too many pupils joined from your network in the last hour. Please wait %(num)d minutes "
                "and try again, or ask your teacher for a login card.",
                _minutes(wait),
            )
        )


def count_join(address: str) -> None:
    count_hourly([(JOIN_CLIENT, _client_key(address))])


def count_wrong_code(address: str) -> None:
    count_hourly([(CODE_MISS_CLIENT, _client_key(address))])
