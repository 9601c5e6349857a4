"""Channels, their messages, and the ordered log of everything that happened in a channel.

Every persisted change in a channel (a new message, an edit, a removal, a lock) takes the
channel's next `seq` in the transaction that writes it, and leaves a ChannelEvent row: a
client that was away asks for the events after the last `seq` it saw and gets them in order.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin, UTCDateTime, enum_column
from app.extensions import db

BODY_LIMIT = 4000


class ChannelKind(enum.StrEnum):
    PROJECT = "project"
    TEAM = "team"
    TEACHERS = "teachers"


class EventKind(enum.StrEnum):
    MESSAGE = "message"
    EDIT = "edit"
    DELETE = "delete"
    HIDE = "hide"
    LOCK = "lock"
    UNLOCK = "unlock"


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
