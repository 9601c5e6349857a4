"""Writes of in-app notifications; each new one is pushed to its reader's socket room after commit.

Some kinds also go out by e-mail after the commit (app/core/mail.py), to teachers only:
pupils are never e-mailed.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from sqlalchemy import update

from app.auth.models import User
from app.core.db import utcnow
from app.core.mail import absolute_url, compose_mail, send_after_commit
from app.core.signals import pupil_waiting, teacher_validated
from app.core.timefmt import reading_in
from app.extensions import db
from app.modules.notifications import queries
from app.modules.notifications.models import Notification
from app.realtime.emit import emit_after_commit
from app.realtime.rooms import user_room

NOTIFICATION_EVENT = "notification"
# About the account itself: always e-mailed, the teacher may not be looking at the app.
ALWAYS_EMAILED_KINDS = frozenset({"account_validated"})
# E-mailed to teachers who ask for it on their profile page ("E-mail me about invitations
# and session changes"). The session kinds come from the exchanges' live sessions.
EMAILED_ON_REQUEST_KINDS = frozenset(
    {
        "invitation_received",
        "invitation_accepted",
        "invitation_declined",
        "session_added",
        "session_moved",
        "session_updated",
        "session_cancelled",
    }
)

queries.register_kind("account_validated", lambda p: _("Your CrossClass account is validated: welcome!"))
queries.register_kind(
    "pupil_waiting",
    lambda p: _("%(name)s joined %(class)s with the class code and waits for your approval.", **p),
)


def notify_user(user_id: int, kind: str, params: dict, link: str = "") -> Notification:
    notification = Notification(user_id=user_id, kind=kind, params=params, link=link)
    db.session.add(notification)
    db.session.flush()
    # The sentence is made in the reader's language by the page; the push only says "one more".
    emit_after_commit(db.session, NOTIFICATION_EVENT, {"id": notification.id, "kind": kind}, user_room(user_id))
    _email_if_wanted(notification)
    return notification


def _email_if_wanted(notification: Notification) -> None:
    kind = notification.kind
    if kind not in ALWAYS_EMAILED_KINDS and kind not in EMAILED_ON_REQUEST_KINDS:
        return
    user = db.session.get(User, notification.user_id)
    if user is None or not user.email or user.is_student or not user.is_active:
        return
    if kind not in ALWAYS_EMAILED_KINDS and not user.wants_email_updates:
        return
    # Made when the mail is composed, in the reader's language (compose_mail sets it) and zone.
    sentence = LazyString(lambda: queries.describe(notification))
    with reading_in(user.zone_name):
        message = compose_mail(
            user.email,
            user.locale,
            sentence,
            "notifications/mail/notification",
            user=user,
            sentence=sentence,
            link=absolute_url(notification.link or url_for("notifications.notifications")),
            profile_link=absolute_url(url_for("auth.profile")),
            on_request=kind not in ALWAYS_EMAILED_KINDS,
        )
    send_after_commit(message)


@teacher_validated.connect
def _tell_validated_teacher(teacher: User, **_details) -> None:
    notify_user(teacher.id, "account_validated", {}, url_for("main.dashboard"))


@pupil_waiting.connect
def _tell_teacher_a_pupil_waits(request, **_details) -> None:
    school_class = request.school_class
    link = url_for("auth.class_detail", class_id=school_class.id, _anchor="waiting-pupils")
    params = {"name": request.student.display_name, "class": school_class.name}
    notify_user(school_class.teacher_id, "pupil_waiting", params, link)


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
