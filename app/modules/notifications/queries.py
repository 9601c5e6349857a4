"""Notifications of one person, and the sentence each kind stands for.

Modules register the sentence of their kinds with `register_kind`; a sentence is made when
it is shown, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core.errors import NotFound
from app.extensions import db
from app.modules.notifications.models import Notification

_SENTENCES: dict[str, Callable[[dict], str]] = {}
PAGE_SIZE = 50


def register_kind(kind: str, sentence: Callable[[dict], str]) -> None:
    _SENTENCES[kind] = sentence


def describe(notification: Notification) -> str:
    sentence = _SENTENCES.get(notification.kind)
    if sentence is None:
        return _("Something changed in one of your exchanges.")
    try:
        return sentence(notification.params or {})
    except (KeyError, TypeError, ValueError):
        return _("Something changed in one of your exchanges.")


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def notifications_of(user_id: int, limit: int = PAGE_SIZE) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def notification_of(notification_id: int, user_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound(_("This notification does not exist."))
    return notification
