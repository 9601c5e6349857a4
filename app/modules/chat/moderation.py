"""Moderation and safeguarding in exchange chats: mutes, reports and the log of every step."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from app.core.timefmt import format_local
from app.extensions import db
from app.modules.chat import moderation_queries as mq
from app.modules.chat.models import Message, MessageReport, ModerationAction, Mute, ReportReason, ReportStatus
from app.modules.notifications.operations import notify_user
from app.modules.projects.models import TEACHER_ROLES, Project
from app.modules.projects.queries import project_role, require_open, require_project_role
from app.realtime.emit import emit_after_commit
from app.realtime.rooms import user_room

# Mute lengths a teacher chooses from, in minutes. The longest stands for "until a teacher
# lifts it": even that ends by itself after MUTE_MAX_MINUTES, so no pupil is forgotten muted.
MUTE_MAX_MINUTES = 30 * 24 * 60
MUTE_MINUTES = (15, 60, 24 * 60, 7 * 24 * 60, MUTE_MAX_MINUTES)
REASON_LIMIT = 500
REPORT_DETAILS_LIMIT = 500
# Reports one person may file per hour, over all exchanges: enough for any real need, and a
# cap on flooding the teachers' queue.
REPORTS_PER_HOUR = 20


def log_action(
    project_id: int,
    actor_id: int | None,
    action: str,
    *,
    channel_id: int | None = None,
    message_id: int | None = None,
    target_user_id: int | None = None,
    **details,
) -> ModerationAction:
    """One line of the project's moderation log, written in the transaction of the step it records."""
    entry = ModerationAction(
        project_id=project_id,
        actor_id=actor_id,
        action=action,
        channel_id=channel_id,
        message_id=message_id,
        target_user_id=target_user_id,
        details=details,
    )
    db.session.add(entry)
    return entry


# ---- mutes -------------------------------------------------------------------------------


def check_not_muted(access) -> None:
    """Refuses a write in the chat of a project where the acting person is muted.

    Called from operations._check_writable for every send, edit, delete and reaction. The
    actor is the request's user: chat writes only ever happen on behalf of the one asking.
    """
    if access.role in TEACHER_ROLES or not current_user or not current_user.is_authenticated:
        return
    if access.muted is False:  # the access check saw no mute in force, a moment ago
        return
    mute = mq.active_mute(access.project.id, current_user.id)
    if mute is not None:
        raise Conflict(muted_message(mute), code="muted")


def muted_message(mute: Mute) -> str:
    """In the reader's language and time zone (the muted pupil's, when they are the one asking)."""
    return _("A teacher has muted you until %(time)s. You can still read the chat.", time=format_local(mute.until))


def mute_user(teacher: User, project: Project, target: User, minutes, reason) -> Mute:
    """A teacher of the exchange silences a pupil (or guest) in all its channels for a while."""
    require_project_role(project, teacher, *TEACHER_ROLES)
    require_open(project)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes not in MUTE_MINUTES:
        raise InvalidInput(
            _("Choose how long: at most %(days)d days.", days=MUTE_MAX_MINUTES // (24 * 60)), field="minutes"
        )
    reason = _valid_text(reason, REASON_LIMIT, "reason")
    if target.id == teacher.id or project_role(project, target) not in mq.MUTABLE_ROLES:
        raise PermissionDenied(_("Only pupils and guests of this exchange can be muted."), code="not_mutable")
    now = utcnow()
    previous = mq.active_mute(project.id, target.id, now)
    if previous is not None:  # the new mute replaces the one in force, whether shorter or longer
        previous.lifted_at, previous.lifted_by_id = now, teacher.id
    mute = Mute(
        project_id=project.id,
        user_id=target.id,
        muted_by_id=teacher.id,
        until=now + timedelta(minutes=minutes),
        reason=reason,
    )
    db.session.add(mute)
    db.session.flush()
    log_action(
        project.id,
        teacher.id,
        "mute",
        target_user_id=target.id,
        until=mute.until.isoformat(),
        minutes=minutes,
        reason=reason,
    )
    emit_after_commit(
        db.session, "chat_muted", {"project_id": project.id, "until": mute.until.isoformat()}, user_room(target.id)
    )
    return mute


def lift_mute(teacher: User, project: Project, mute: Mute) -> Mute:
    require_project_role(project, teacher, *TEACHER_ROLES)
    require_open(project)
    if mute.project_id != project.id:
        raise PermissionDenied(_("This exchange is not one of yours."))
    if mute.lifted_at is not None or mute.until <= utcnow():
        return mute  # over already: nothing to lift, nothing to log
    mute.lifted_at, mute.lifted_by_id = utcnow(), teacher.id
    log_action(project.id, teacher.id, "unmute", target_user_id=mute.user_id, mute_id=mute.id)
    emit_after_commit(db.session, "chat_unmuted", {"project_id": project.id}, user_room(mute.user_id))
    return mute


# ---- reports -----------------------------------------------------------------------------


def report_message(user: User, access, message: Message, reason, details) -> tuple[MessageReport, bool]:
    """A reader flags a message for the teachers; (report, True) when they had reported it before."""
    project = access.project
    require_open(project)
    if message.author_id == user.id:
        raise InvalidInput(_("You cannot report your own message. You can edit or delete it."), code="own_message")
    existing = mq.report_by(message.id, user.id)
    if existing is not None:
        return existing, True
    if message.is_removed:
        raise Conflict(_("This message has already been removed."), code="message_removed")
    try:
        reason = ReportReason(reason)
    except ValueError:
        raise InvalidInput(_("Choose a reason for your report."), field="reason") from None
    details = _valid_text(details, REPORT_DETAILS_LIMIT, "details")
    if mq.reports_since(user.id, utcnow() - timedelta(hours=1)) >= REPORTS_PER_HOUR:
        raise RateLimited(
            _("You have sent many reports in the last hour. Please talk to your teacher directly."),
            code="too_many_reports",
        )
    first = not mq.open_reports_on(message.id)
    report = MessageReport(
        project_id=project.id, message_id=message.id, reporter_id=user.id, reason=reason, details=details
    )
    try:
        # The same report twice at once (a double click on two tabs): the second is the first.
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        existing = mq.report_by(message.id, user.id)
        if existing is None:
            raise
        return existing, True
    log_action(
        project.id,
        user.id,
        "report_received",
        channel_id=message.channel_id,
        message_id=message.id,
        target_user_id=message.author_id,
        reason=reason.value,
        report_id=report.id,
    )
    _tell_teachers(project, message, first)
    return report, False


def close_reports(teacher: User, project: Project, message: Message, status: ReportStatus, outcome: str) -> int:
    """Marks every open report of the message handled, at once; returns how many there were."""
    require_project_role(project, teacher, *TEACHER_ROLES)
    require_open(project)
    closed = _close_open_reports(teacher, project, message, status, outcome)
    if not closed:
        # Another teacher was quicker; their decision stands.
        raise Conflict(_("These reports have already been handled by another teacher."), code="already_handled")
    db.session.expire_all()
    return closed


def close_reports_acted_on(teacher: User, project: Project, message: Message, outcome: str) -> int:
    """Closes the message's open reports as acted on when a teacher dealt with it outside the
    queue (hid it from the chat page): the queue must not keep asking about a message that is
    gone. Logged and counted like the queue's own action; returns how many were open."""
    return _close_open_reports(teacher, project, message, ReportStatus.ACTED, outcome)


def _close_open_reports(teacher: User, project: Project, message: Message, status: ReportStatus, outcome: str) -> int:
    """One UPDATE, so two teachers deciding at once close each report once; logged when any were open."""
    closed = db.session.execute(
        update(MessageReport)
        .where(MessageReport.message_id == message.id, MessageReport.status == ReportStatus.OPEN)
        .values(status=status, handled_by_id=teacher.id, handled_at=utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    if closed:
        log_action(
            project.id,
            teacher.id,
            "report_dismissed" if status == ReportStatus.DISMISSED else "report_acted",
            channel_id=message.channel_id,
            message_id=message.id,
            target_user_id=message.author_id,
            reports=closed,
            outcome=outcome,
        )
        _send_report_count(project)
    return closed


def _tell_teachers(project: Project, message: Message, first: bool) -> None:
    if first:  # one nudge per reported message, however many readers report it
        link = url_for("chat.moderation", project_id=project.id)
        for teacher_id in mq.teacher_ids(project):
            notify_user(teacher_id, "chat_report", {"project": project.title}, link)
    _send_report_count(project)


def _send_report_count(project: Project) -> None:
    db.session.flush()
    data = {"project_id": project.id, "open_reports": mq.open_report_count(project.id)}
    for teacher_id in mq.teacher_ids(project):
        emit_after_commit(db.session, "chat_report_count", data, user_room(teacher_id))


def _valid_text(value, limit: int, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("This request is not understood. Please reload the page."), field=field)
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            _("This text is too long: at most %(limit)d characters.", limit=limit), code="text_too_long", field=field
        )
    return value
