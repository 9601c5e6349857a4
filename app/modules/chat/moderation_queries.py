"""Read-only lookups of chat moderation: mutes in force, the report queue, the log, who may see them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.core.db import utcnow
from app.extensions import db
from app.modules.chat.models import Channel, Message, MessageReport, ModerationAction, Mute, ReportStatus
from app.modules.projects.models import TEACHER_ROLES, Project, ProjectMember, ProjectRole

LOG_PAGE = 50
MAX_LOG_PAGE = 10_000  # past it the offset no longer fits the database's integers
QUEUE_PAGE = 25  # reported messages on one page of the queue (each with its reports and forms)
MAX_QUEUE_PAGE = MAX_LOG_PAGE

# Who can be muted: the pupils, and guests from outside the classes. Never a teacher.
MUTABLE_ROLES = (ProjectRole.STUDENT, ProjectRole.GUEST_MENTOR)


def active_mute(project_id: int, user_id: int, now: datetime | None = None) -> Mute | None:
    """The mute in force for this person in this project (the longest, should there be two)."""
    return db.session.scalar(
        select(Mute)
        .where(
            Mute.project_id == project_id,
            Mute.user_id == user_id,
            Mute.lifted_at.is_(None),
            Mute.until > (now or utcnow()),
        )
        .order_by(Mute.until.desc())
        .limit(1)
    )


def active_mutes(project: Project) -> list[Mute]:
    return list(
        db.session.scalars(
            select(Mute)
            .where(Mute.project_id == project.id, Mute.lifted_at.is_(None), Mute.until > utcnow())
            .options(selectinload(Mute.user), selectinload(Mute.muted_by))
            .order_by(Mute.until)
        )
    )


def mute_in_project(project: Project, mute_id: int) -> Mute | None:
    mute = db.session.get(Mute, mute_id)
    return mute if mute is not None and mute.project_id == project.id else None


def teacher_ids(project: Project) -> set[int]:
    """The teachers of the partner classes and the co-teachers who are project members."""
    ids = {link.school_class.teacher_id for link in project.classes}
    ids.update(
        db.session.scalars(
            select(ProjectMember.user_id).where(
                ProjectMember.project_id == project.id, ProjectMember.role.in_(TEACHER_ROLES)
            )
        )
    )
    return ids


def open_report_count(project_id: int) -> int:
    return db.session.scalar(
        select(func.count(MessageReport.id)).where(
            MessageReport.project_id == project_id, MessageReport.status == ReportStatus.OPEN
        )
    )


def report_by(message_id: int, reporter_id: int) -> MessageReport | None:
    return db.session.scalar(
        select(MessageReport).where(MessageReport.message_id == message_id, MessageReport.reporter_id == reporter_id)
    )


def open_reports_on(message_id: int) -> list[MessageReport]:
    return list(
        db.session.scalars(
            select(MessageReport).where(
                MessageReport.message_id == message_id, MessageReport.status == ReportStatus.OPEN
            )
        )
    )


def reports_since(reporter_id: int, since: datetime) -> int:
    return db.session.scalar(
        select(func.count(MessageReport.id)).where(
            MessageReport.reporter_id == reporter_id, MessageReport.created_at >= since
        )
    )


def report_queue(project: Project, page: int = 1) -> tuple[list[tuple[Message, Channel, list[MessageReport]]], bool]:
    """One page of the messages with open reports, the longest waiting first, each with its
    open reports; and whether more messages wait after this page.

    Paged in the database, not in Python: a raid on a channel can leave hundreds of reports,
    and the page must neither load them all nor hide the ones past a fixed cap.
    """
    per_page = QUEUE_PAGE
    open_reports = (MessageReport.project_id == project.id, MessageReport.status == ReportStatus.OPEN)
    waiting = (
        select(MessageReport.message_id)
        .where(*open_reports)
        .group_by(MessageReport.message_id)
        .order_by(func.min(MessageReport.created_at), func.min(MessageReport.id))
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    message_ids = list(db.session.scalars(waiting))
    has_more, message_ids = len(message_ids) > per_page, message_ids[:per_page]
    if not message_ids:
        return [], False
    reports = db.session.scalars(
        select(MessageReport)
        .where(*open_reports, MessageReport.message_id.in_(message_ids))
        .options(
            selectinload(MessageReport.reporter),
            selectinload(MessageReport.message).selectinload(Message.author),
        )
        .order_by(MessageReport.created_at, MessageReport.id)
    )
    grouped: dict[int, list[MessageReport]] = {message_id: [] for message_id in message_ids}
    for report in reports:
        grouped[report.message_id].append(report)
    # (A report handled between the two queries leaves its message without any: skipped.)
    groups = [group for group in grouped.values() if group]
    channels = channels_by_id(group[0].message.channel_id for group in groups)
    return [(group[0].message, channels[group[0].message.channel_id], group) for group in groups], has_more


def reported_message(project: Project, message_id: int) -> Message | None:
    """A message of this project's chat (whether reported or not)."""
    message = db.session.get(Message, message_id)
    if message is None:
        return None
    channel = db.session.get(Channel, message.channel_id)
    return message if channel.project_id == project.id else None


def moderation_log(project: Project, page: int, per_page: int = LOG_PAGE) -> tuple[list[ModerationAction], bool]:
    """One page of the project's moderation log, newest first; and whether older entries exist."""
    entries = list(
        db.session.scalars(
            select(ModerationAction)
            .where(ModerationAction.project_id == project.id)
            .options(selectinload(ModerationAction.actor), selectinload(ModerationAction.target_user))
            .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return entries[:per_page], len(entries) > per_page


def messages_by_id(ids) -> dict[int, Message]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(ids)))}


def channels_by_id(ids) -> dict[int, Channel]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Channel).where(Channel.id.in_(ids)))}


def may_read_log(project: Project, role: ProjectRole | None, user: User) -> bool:
    """The project's teachers; and, read-only, a coordinator of a partner school or a site admin.

    Not every visitor: a parent may be a visitor too, and the log names pupils and reasons; nor
    a coordinator of another school who came in through a visitor link.
    """
    if role in TEACHER_ROLES:
        return True
    if role != ProjectRole.VISITOR:
        return False
    if user.is_admin:
        return True
    return user.is_coordinator and any(link.school_class.school_id == user.school_id for link in project.classes)
