"""Login throttling: strangers per account, per account and address, and per address;
browsers that logged in to the account before (device cookies) only by their own failures;
hourly limits of other requests (registrations, class-code joins, password-reset mails).

After a few free failures each further failure doubles the wait, up to a cap: an attacker
is slowed to a crawl, while the real owner is never locked out for good. Counters live in
the database so every server process sees the same ones. Names that match no account are
throttled exactly like real ones, so the delay reveals nothing.

Who counts where (docs/architecture.md, "Login throttling", has the guarantees):

- A client without a valid device cookie for the typed account (an "untrusted" one) is
  counted against the account name (ACCOUNT, LOGIN_ACCOUNT_FREE_ATTEMPTS free), the account
  name at its address (ACCOUNT_ADDRESS, LOGIN_FREE_ATTEMPTS free) and its address alone
  (ADDRESS, ADDRESS_ALLOWANCE_FACTOR times as many). The account-wide allowance is the
  largest: one address guessing is stopped by its own pair counter long before it, so only
  guessing spread over many addresses shuts the account to strangers.
- A browser whose device cookie (device_cookies.py) names the account is counted only
  against that cookie entry (DEVICE): the owner's browser gets in however many strangers
  guess. After LOGIN_DEVICE_MAX_FAILURES failures the entry is locked out for
  LOGIN_DEVICE_LOCKOUT_MINUTES and its browser is an untrusted client again, so a stolen
  cookie buys only that many extra guesses.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import LoginThrottle
from app.core.db import utcnow
from app.core.errors import RateLimited
from app.extensions import db

ACCOUNT = "account"
ACCOUNT_ADDRESS = "acct-addr"  # LoginThrottle.scope holds 10 characters
ADDRESS = "address"
DEVICE = "device"
# An address is shared by a whole school behind one router: it gets this many times more room.
ADDRESS_ALLOWANCE_FACTOR = 10
# Failures older than this no longer count: a forgotten password last month is not an attack.
_FORGET_AFTER = timedelta(hours=24)
# The pair key is "account|address", within the 254 characters of LoginThrottle.key.
_PAIR_ACCOUNT_CHARS = 200


def _account_key(username: str) -> str:
    return username.strip().lower()[:254]


def _pair_prefix(username: str) -> str:
    return _account_key(username)[:_PAIR_ACCOUNT_CHARS] + "|"


def _untrusted_counters(username: str, address: str) -> list[tuple[str, str, int]]:
    """(scope, key, free failures) of every counter an untrusted client is held to."""
    free = current_app.config["LOGIN_FREE_ATTEMPTS"]
    address = (address or "unknown")[:254]
    return [
        (ACCOUNT, _account_key(username), current_app.config["LOGIN_ACCOUNT_FREE_ATTEMPTS"]),
        (ACCOUNT_ADDRESS, (_pair_prefix(username) + address)[:254], free),
        (ADDRESS, address, free * ADDRESS_ALLOWANCE_FACTOR),
    ]


def _row(scope: str, key: str) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))


def _row_for_failure(scope: str, key: str, now) -> LoginThrottle:
    row = _row(scope, key)
    if row is None:
        row = LoginThrottle(scope=scope, key=key, failures=0)
        db.session.add(row)
    if row.last_failure_at is not None and now - row.last_failure_at > _FORGET_AFTER:
        row.failures = 0
    return row


def usable_device(nonce: str | None) -> str | None:
    """The device cookie entry, unless it is locked out (then its browser is untrusted)."""
    if nonce is None:
        return None
    row = _row(DEVICE, nonce[:254])
    if row is not None and row.blocked_until is not None and row.blocked_until > utcnow():
        return None
    return nonce


def seconds_to_wait(username: str, address: str, device: str | None = None) -> int:
    """How long this login must wait; 0 when it may go ahead. A usable device entry
    (usable_device) never waits: its failures lock it out instead."""
    if device is not None:
        return 0
    now = utcnow()
    waits = [0]
    for scope, key, _free in _untrusted_counters(username, address):
        row = _row(scope, key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            waits.append(math.ceil((row.blocked_until - now).total_seconds()))
    return max(waits)


def record_failure(username: str, address: str, device: str | None = None) -> None:
    now = utcnow()
    if device is not None:
        row = _row_for_failure(DEVICE, device[:254], now)
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= current_app.config["LOGIN_DEVICE_MAX_FAILURES"]:
            row.blocked_until = now + timedelta(minutes=current_app.config["LOGIN_DEVICE_LOCKOUT_MINUTES"])
            row.failures = 0
        return
    cap = current_app.config["LOGIN_MAX_DELAY_SECONDS"]
    for scope, key, free in _untrusted_counters(username, address):
        row = _row_for_failure(scope, key, now)
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - free
        if over > 0:
            row.blocked_until = now + timedelta(seconds=min(cap, 2 ** (over - 1)))


def record_success(username: str, address: str, device: str | None = None) -> None:
    """A correct password from a trusted browser clears its device counter (the browser gets a
    new entry anyway). From an untrusted client it clears the account's counter and the pair's:
    the failures were most likely the owner's own. The address's counter stays: one right
    password at a school's address says nothing about the other guesses made there."""
    if device is not None:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.scope == DEVICE, LoginThrottle.key == device))
        return
    for scope, key, _free in _untrusted_counters(username, address)[:2]:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))


def forget_account(username: str) -> None:
    """After a password reset: the account's delays, at every address, were most likely the
    owner's own tries."""
    db.session.execute(
        delete(LoginThrottle).where(
            or_(
                and_(LoginThrottle.scope == ACCOUNT, LoginThrottle.key == _account_key(username)),
                and_(
                    LoginThrottle.scope == ACCOUNT_ADDRESS,
                    LoginThrottle.key.startswith(_pair_prefix(username), autoescape=True),
                ),
            )
        )
    )


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
