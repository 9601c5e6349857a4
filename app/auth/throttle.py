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
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

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
# A request that counts first locks its counter's row until its transaction ends, so requests
# that run at the same time (greenlets of one process, or several processes) wait for each
# other for that moment instead of all seeing room and all going ahead.
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


def _of(scope: str, key: str) -> tuple:
    return (LoginThrottle.scope == scope, LoginThrottle.key == key)


def _seconds_left(window_start, now) -> int:
    return max(1, math.ceil((window_start + _WINDOW - now).total_seconds()))


def _update(scope: str, key: str, **values) -> int:
    statement = update(LoginThrottle).where(*_of(scope, key)).values(**values)
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


def hourly_wait(scope: str, key: str, limit: int) -> int:
    """Seconds until this counter has room again, 0 when it has; locks and counts nothing.
    For an early, cheap refusal before slow work: take_slot() decides."""
    now = utcnow()
    query = select(LoginThrottle.failures, LoginThrottle.last_failure_at).where(*_of(scope, key))
    row = db.session.execute(query).first()
    if row is None or row.last_failure_at is None or now - row.last_failure_at >= _WINDOW or row.failures < limit:
        return 0
    return _seconds_left(row.last_failure_at, now)


def _locked_wait(scope: str, key: str, limit: int) -> int:
    """Locks the counter until the transaction ends (PostgreSQL: its row; SQLite: the database's
    write lock), starts a new window if the last one is over, and returns the seconds until
    there is room (0: there is)."""
    now = utcnow()
    for _attempt in range(3):
        if _update(scope, key, failures=LoginThrottle.failures):  # a write that only takes the lock
            break
        try:
            with db.session.begin_nested():
                db.session.add(LoginThrottle(scope=scope, key=key, failures=0, last_failure_at=now))
            break
        except IntegrityError:
            continue  # made by a request running at the same time: lock that row
    query = select(LoginThrottle.failures, LoginThrottle.last_failure_at).where(*_of(scope, key))
    count, started = db.session.execute(query).one()
    if started is None or now - started >= _WINDOW:
        _update(scope, key, failures=0, last_failure_at=now)
        return 0
    return _seconds_left(started, now) if count >= limit else 0


def _count(scope: str, key: str) -> None:
    _update(scope, key, failures=LoginThrottle.failures + 1)


def take_slot(scope: str, key: str, limit: int) -> int:
    """Counts one event when the counter has room and returns 0; otherwise counts nothing and
    returns the seconds until it has room. Part of the caller's transaction: a rollback
    gives the slot back."""
    wait = _locked_wait(scope, key, limit)
    if not wait:
        _count(scope, key)
    return wait


def take_reset_request(email: str, address: str) -> int:
    """Counts one password-reset request on each counter; when a limit is reached, returns the
    seconds until a new request is allowed (0: go ahead), and the caller rolls back."""
    config = current_app.config
    counters = [
        (RESET_ADDRESS, email.strip().lower()[:254], config["PASSWORD_RESET_PER_ADDRESS"]),
        (RESET_CLIENT, _client_key(address), config["PASSWORD_RESET_PER_CLIENT"]),
    ]
    return max(take_slot(scope, key, limit) for scope, key, limit in counters)


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _refuse_registration(wait: int) -> None:
    if wait:
        raise RateLimited(
            ngettext(
                "Too many registrations from your network. Please wait %(num)d minute and try again.",
                "Too many registrations from your network. Please wait %(num)d minutes and try again.",
                _minutes(wait),
            )
        )


def refuse_too_many_registrations(address: str) -> None:
    """Raises RateLimited when this address has registered its hourly number of teachers
    (before any work; take_registration() counts)."""
    limit = current_app.config["REGISTRATIONS_PER_ADDRESS_PER_HOUR"]
    _refuse_registration(hourly_wait(REGISTER_CLIENT, _client_key(address), limit))


def take_registration(address: str) -> None:
    limit = current_app.config["REGISTRATIONS_PER_ADDRESS_PER_HOUR"]
    _refuse_registration(take_slot(REGISTER_CLIENT, _client_key(address), limit))


def _refuse_join(wait: int) -> None:
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


def refuse_too_many_joins(address: str) -> None:
    """Raises RateLimited when this address has had its hourly number of pupils joining
    (before any work; take_join() counts)."""
    limit = current_app.config["CODE_JOINS_PER_ADDRESS_PER_HOUR"]
    _refuse_join(hourly_wait(JOIN_CLIENT, _client_key(address), limit))


def take_join(address: str) -> None:
    limit = current_app.config["CODE_JOINS_PER_ADDRESS_PER_HOUR"]
    _refuse_join(take_slot(JOIN_CLIENT, _client_key(address), limit))


def lock_code_tries(address: str) -> None:
    """Before a class code is looked up: raises RateLimited when this address has used up its
    wrong codes of the hour, and otherwise locks its counter until the caller's commit, so
    that codes tried at the same time are looked up one after the other and each wrong one
    is counted (count_wrong_code) before the next is looked at."""
    limit = current_app.config["WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR"]
    wait = _locked_wait(CODE_MISS_CLIENT, _client_key(address), limit)
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


def count_wrong_code(address: str) -> None:
    _count(CODE_MISS_CLIENT, _client_key(address))
