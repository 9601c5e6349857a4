"""Device cookies: OWASP's "Slow Down Online Guessing Attacks with Device Cookies".

A browser that once logged in to an account keeps a signed cookie saying so. Its later logins
to that account skip the throttles meant for strangers (per account, per account and address,
per address), which an attacker can fill from anywhere, and count only against that browser's
own entry (throttle.py, scope DEVICE). So guessing from elsewhere never keeps the owner out.

One cookie per browser holds the entries of the last few accounts that logged in on it (a
school's shared PC serves a whole class): one cookie, not one per account, so the browser's
cookie count stays fixed, no account number shows up in a cookie name, and the size is bounded
by LOGIN_DEVICE_COOKIE_ACCOUNTS (the oldest entry makes room). The cookie is sent to the login
page only. Logging out, a password reset and "log out everywhere" keep it: it proves only that
this browser once knew the password, and grants no access, only a fair number of tries.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from app.core.db import utcnow

COOKIE_NAME = "crossclass_device"
# Signed apart from sessions and reset links: no other signed value can pass for a device cookie.
_SALT = "crossclass-device-cookie"
# Clocks of several servers may differ a little; an entry "from the future" beyond this is refused.
_CLOCK_SKEW_SECONDS = 300
# Browsers keep cookies up to 4096 bytes; a longer value was not written by us.
MAX_COOKIE_BYTES = 4096


@dataclass(frozen=True)
class DeviceEntry:
    user_id: int
    nonce: str  # random: names this browser's counter for this account
    issued: int  # seconds since the epoch


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _lifetime_seconds() -> int:
    return current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400


def _now() -> int:
    return int(utcnow().timestamp())


def read(raw: str | None) -> list[DeviceEntry]:
    """The unexpired entries of a genuine cookie; none for a missing, forged or garbled one."""
    if not raw or len(raw) > MAX_COOKIE_BYTES:
        return []
    try:
        items = _serializer().loads(raw)
    except BadSignature:
        return []
    if not isinstance(items, list):
        return []
    now, lifetime = _now(), _lifetime_seconds()
    entries = []
    for item in items[: current_app.config["LOGIN_DEVICE_COOKIE_ACCOUNTS"]]:
        if not (isinstance(item, list) and len(item) == 3):
            continue
        user_id, nonce, issued = item
        if type(user_id) is not int or type(issued) is not int or not isinstance(nonce, str):
            continue
        if -_CLOCK_SKEW_SECONDS <= now - issued < lifetime:
            entries.append(DeviceEntry(user_id, nonce, issued))
    return entries


def nonce_for(raw: str | None, user) -> str | None:
    """This browser's entry for the account, if its cookie holds a valid one."""
    if user is None:
        return None
    return next((entry.nonce for entry in read(raw) if entry.user_id == user.id), None)


def remember(response, user, raw: str | None) -> None:
    """After a successful login: a fresh entry for this account goes first in the browser's
    cookie (a new nonce, a new lifetime); the oldest entries go when the cookie is full."""
    entries = [DeviceEntry(user.id, secrets.token_urlsafe(16), _now())]
    entries += [entry for entry in read(raw) if entry.user_id != user.id]
    entries = entries[: current_app.config["LOGIN_DEVICE_COOKIE_ACCOUNTS"]]
    value = _serializer().dumps([[entry.user_id, entry.nonce, entry.issued] for entry in entries])
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=_lifetime_seconds(),
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
