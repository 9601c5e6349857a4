"""Writes of in-app notifications; each new one is pushed to its reader's socket room after commit."""

from __future__ import annotations

from sqlalchemy import update

from app.core.db import utcnow
from app.extensions import db
from app.modules.notifications.models import Notification
from app.realtime.emit import emit_after_commit
from app.realtime.rooms import user_room

NOTIFICATION_EVENT = "notification"


def notify_user(user_id: int, kind: str, params: dict, link: str = "") -> Notification:
    notification = Notification(user_id=user_id, kind=kind, params=params, link=link)
    db.session.add(notification)
    db.session.flush()
    # The sentence is made in the reader's language by the page; the push only says "one more".
    emit_after_commit(db.session, NOTIFICATION_EVENT, {"id": notification.id, "kind": kind}, user_room(user_id))
    return notification


def mark_notification_read(notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(user_id: int) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


def mark_read_about(user_id: int, link: str) -> None:
    """Marks this person's unread notifications about one thing (its link) as read: the thing
    was settled (an invitation answered or withdrawn), so they no longer call for attention."""
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.link == link, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
