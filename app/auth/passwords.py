"""argon2id password hashing and the one-time passwords printed on login cards."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.db import serving_under_gevent

# OWASP's recommended argon2id minimum (19 MiB, t=2, p=1). argon2-cffi's default (64 MiB,
# t=3, p=4) took 440 ms a login on this project's 2-core machines, so a class of 25 logging
# in at the start of a lesson waited 11 s; this takes about 60 ms (bench/presence.py).
_hasher = PasswordHasher(memory_cost=19_456, time_cost=2, parallelism=1)
# Verified against when the account does not exist, so a wrong name costs the same time
# as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("crossclass-timing-equaliser")

# No 0/O, 1/l/I: pupils copy these from paper.
_CARD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _off_the_event_loop(function, *args):
    """Runs CPU-heavy hashing in gevent's native thread pool when serving under gevent.

    argon2 releases the GIL, so other greenlets (every open socket of the process) keep
    being served while a login is checked, and a second core can hash at the same time.
    """
    if serving_under_gevent():
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


def hash_password(password: str) -> str:
    return _off_the_event_loop(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    matches = _off_the_event_loop(_verify, password_hash or _DUMMY_HASH, password)
    return matches and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def one_time_password() -> str:
    """Ten characters in two groups of five (about 50 bits), easy to type on a phone."""
    chars = "".join(secrets.choice(_CARD_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"
