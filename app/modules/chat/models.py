"""Channels, their messages, and the ordered log of everything that happened in a channel.

Every persisted change in a channel (a new message, an edit, a removal, a lock) takes the
channel's next `seq` in the transaction that writes it, and leaves a ChannelEvent row: a
client that was away asks for the events after the last `seq` it saw and gets them in order.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin, UTCDateTime, enum_column
from app.extensions import db
from app.realtime.auth_cache import watch_changes
from app.realtime.rooms import project_scope, user_scope

BODY_LIMIT = 4000


class ChannelKind(enum.StrEnum):
    PROJECT = "project"
    TEAM = "team"
    TEACHERS = "teachers"
    DIRECT = "direct"  # two pupils of one team, when a teacher allows it for the team


class EventKind(enum.StrEnum):
    MESSAGE = "message"
    EDIT = "edit"
    DELETE = "delete"
    HIDE = "hide"
    LOCK = "lock"
    UNLOCK = "unlock"
    REACTION = "reaction"  # the message's reactions changed; replay shows them as they are now


class Channel(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind, "channel_kind"))
    # The team module comes later; its foreign key is added with it.
    team_id: Mapped[int | None] = mapped_column(Integer)
    # One channel per purpose in a project ("project", "teachers", "team:7"): a unique key
    # that holds on SQLite and PostgreSQL alike, so a race on first use cannot make two.
    slug: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    next_seq: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("project_id", "slug"),)

    @property
    def last_seq(self) -> int:
        return self.next_seq - 1


class Message(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the seq of the event that created it
    client_id: Mapped[str] = mapped_column(String(36))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reply_to: Mapped[Message | None] = relationship(remote_side=[id])

    __table_args__ = (UniqueConstraint("channel_id", "seq"), UniqueConstraint("channel_id", "client_id"))

    @property
    def is_removed(self) -> bool:
        return self.deleted_at is not None or self.hidden_at is not None


class ChannelEvent(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "channel_event_kind"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    payload: Mapped[dict | None] = mapped_column(JSON)

    message: Mapped[Message | None] = relationship()

    # Also the index replay reads along: events of a channel after a seq, in order.
    __table_args__ = (UniqueConstraint("channel_id", "seq"),)


class ChannelMember(db.Model):
    """The two pupils of a direct channel (other channels derive their readers from the project)."""

    __tablename__ = "channel_member"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)


class Reaction(TimestampMixin, db.Model):
    __tablename__ = "message_reaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("message_id", "user_id", "emoji"),)


class ChannelRead(db.Model):
    """How far a reader has read a channel: unread = messages after last_read_seq."""

    __tablename__ = "channel_read"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)


class Mute(TimestampMixin, db.Model):
    """A pupil may not write in the project's chat until `until` (or until a teacher lifts it)."""

    __tablename__ = "chat_mute"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    muted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    muted_by: Mapped[User | None] = relationship(foreign_keys=[muted_by_id])

    __table_args__ = (Index("ix_chat_mute_project_user", "project_id", "user_id"),)


class ReportReason(enum.StrEnum):
    BULLYING = "bullying"
    INAPPROPRIATE = "inappropriate"
    PERSONAL_DATA = "personal_data"
    SPAM = "spam"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # a teacher looked and found nothing to do
    ACTED = "acted"  # a teacher hid the message or muted its author


class MessageReport(TimestampMixin, db.Model):
    """A reader flags a message for the project's teachers; one report per reader and message."""

    __tablename__ = "message_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    reason: Mapped[ReportReason] = mapped_column(enum_column(ReportReason, "report_reason"))
    details: Mapped[str] = mapped_column(String(500), default="", server_default="")
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.OPEN, index=True
    )
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    message: Mapped[Message] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])

    __table_args__ = (UniqueConstraint("message_id", "reporter_id"),)


class ModerationAction(TimestampMixin, db.Model):
    """The log of every moderation step in a project, kept for safeguarding; never edited."""

    __tablename__ = "moderation_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # hide, lock, unlock, mute, unmute, report_dismissed, direct_messages_allowed, …
    action: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])


# What chat's kept channel checks read (sockets.py _access, through
# app/realtime/auth_cache.py) besides the projects' and accounts' models, which their
# modules watch; and whose checks a change of each voids.
def _of_project(row, _deleted) -> list[str]:
    return [project_scope(row.project_id)]


watch_changes(Channel, _of_project)
watch_changes(Mute, _of_project)
watch_changes(ChannelMember, lambda row, _deleted: [user_scope(row.user_id)])
