"""Login throttling: strangers per account, per account and address, and per address;
browsers that logged in to the account before (device cookies) only by their own failures.

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
from sqlalchemy import and_, delete, or_, select

from app.auth.models import LoginThrottle
from app.core.db import utcnow
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
