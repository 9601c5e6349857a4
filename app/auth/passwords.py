"""argon2id password hashing and the one-time passwords printed on login cards."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's "low memory" profile: argon2id, 64 MiB, t=3, p=4,
# above OWASP's minimum (19 MiB, t=2).
_hasher = PasswordHasher()
# Verified against when the account does not exist, so a wrong name costs the same time
# as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("crossclass-timing-equaliser")

# No 0/O, 1/l/I: pupils copy these from paper.
_CARD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def one_time_password() -> str:
    """Ten characters in two groups of five (about 50 bits), easy to type on a phone."""
    chars = "".join(secrets.choice(_CARD_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"
