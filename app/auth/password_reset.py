"""Teachers reset a forgotten password through a link sent by e-mail.

The link carries a token signed with the app's secret: the account, when it was issued, and
a fingerprint of the account's current password hash. Nothing is stored, and no row can
leak: the link expires after PASSWORD_RESET_MINUTES, and it works once, because setting the
new password changes the hash it is bound to (any other link sent before it dies too).

A request answers the same whatever was typed: an unknown address, a pupil's username (pupils
have no e-mail) and a teacher's address do the same database work, and the mail is only
queued, then sent after the commit in the background, so the answer's timing tells nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime

from flask import current_app, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.auth import throttle
from app.auth.models import AccountStatus, Role, User
from app.auth.operations import check_password_strength
from app.auth.passwords import hash_password
from app.auth.sessions import end_all_sessions
from app.core.db import utcnow
from app.core.errors import InvalidInput, RateLimited
from app.core.mail import absolute_url, compose_mail, send_after_commit
from app.extensions import db

_SALT = "crossclass-password-reset"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _password_fingerprint(user: User) -> str:
    # Keyed, so the token (readable base64) shows nothing about the hash itself.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _may_reset_by_email(user: User | None) -> bool:
    return user is not None and bool(user.email) and user.role != Role.STUDENT and user.status != AccountStatus.DISABLED


def reset_token(user: User, issued_at: datetime | None = None) -> str:
    issued = math.floor((issued_at or utcnow()).timestamp())
    return _serializer().dumps({"user": user.id, "password": _password_fingerprint(user), "issued": issued})


def _invalid_link() -> InvalidInput:
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    return InvalidInput(
        ngettext(
            "This link does not work any more. A link works once, for %(num)d minute. Ask for a new one below.",
            "This link does not work any more. A link works once, for %(num)d minutes. Ask for a new one below.",
            minutes,
        ),
        code="invalid_reset_link",
    )


def user_for_reset_token(token: str) -> User:
    """The account a reset link is for, or InvalidInput when it is forged, used or expired."""
    try:
        data = _serializer().loads(token)
        user_id, fingerprint, issued = data["user"], data["password"], data["issued"]
    except (BadSignature, KeyError, TypeError):
        raise _invalid_link() from None
    if not isinstance(user_id, int) or not isinstance(fingerprint, str) or not isinstance(issued, int):
        raise _invalid_link()
    age = utcnow().timestamp() - issued
    if not 0 <= age <= current_app.config["PASSWORD_RESET_MINUTES"] * 60:
        raise _invalid_link()
    user = db.session.get(User, user_id)
    if not _may_reset_by_email(user) or not hmac.compare_digest(fingerprint, _password_fingerprint(user)):
        raise _invalid_link()
    return user


def request_password_reset(email: str, address: str) -> None:
    """Queues a reset link for the account with this e-mail, if there is one that may have it.

    Raises RateLimited past the hourly limits, for any address typed alike.
    """
    email = email.strip().lower()
    wait = throttle.take_reset_request(email, address)
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        raise RateLimited(
            ngettext(
                "Too many requests for a new password. Please wait %(num)d minute and try again.",
                "Too many requests for a new password. Please wait %(num)d minutes and try again.",
                minutes,
            )
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if _may_reset_by_email(user):
        send_after_commit(_reset_message(user))
    else:
        # The same work as for an account, thrown away: the answer's timing must not tell
        # an unknown address (or a pupil's username) from a teacher's.
        _reset_message(User(id=0, email=email, display_name=email, password_hash=email))


def _reset_message(user: User):
    link = absolute_url(url_for("auth.reset_password", token=reset_token(user)))
    return compose_mail(
        user.email,
        # Their own choice, else the language they are using to ask.
        user.locale or str(get_locale() or ""),
        _l("Reset your CrossClass password"),
        "auth/mail/password_reset",
        user=user,
        link=link,
        minutes=current_app.config["PASSWORD_RESET_MINUTES"],
    )


def reset_password(token: str, new_password: str) -> User:
    """Sets the new password and ends every session of the account, sockets included."""
    user = user_for_reset_token(token)
    check_password_strength(new_password, user.username, display_name=user.display_name, email=user.email)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    # Ending the sessions also ends their sockets after the commit (sessions_ended, received in
    # app/realtime/revoke.py): whoever held the old password keeps nothing, not even listening.
    end_all_sessions(user)
    # The login delays of the account were most likely the owner's own tries. Device cookies
    # stay valid: they only spare a browser the strangers' throttle (device_cookies.py).
    throttle.forget_account(user.username)
    return user


def reset_sent_message() -> str:
    return _("If an account exists for that address, we have sent a link to set a new password.")
