"""Class profiles for matching, invitations between classes, and matching rounds."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SchoolClass
from app.core.db import TimestampMixin, UTCDateTime, enum_column
from app.core.themes import THEMES  # noqa: F401 (matching's forms and tests name it here)
from app.extensions import db


class ExchangeMode(enum.StrEnum):
    VIRTUAL = "virtual"
    BLENDED = "blended"


class ClassProfile(TimestampMixin, db.Model):
    """What a class offers and looks for in a partner; one per class."""

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), unique=True)
    isced_code: Mapped[str] = mapped_column(String(4))
    qualification: Mapped[str] = mapped_column(String(200), default="")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    mode: Mapped[ExchangeMode] = mapped_column(enum_column(ExchangeMode, "exchange_mode"), default=ExchangeMode.VIRTUAL)
    can_send: Mapped[bool] = mapped_column(Boolean, default=False)
    can_host: Mapped[bool] = mapped_column(Boolean, default=False)
    wants_live: Mapped[bool] = mapped_column(Boolean, default=True)
    themes: Mapped[list] = mapped_column(JSON, default=list)
    free_tags: Mapped[list] = mapped_column(JSON, default=list)
    preferred_countries: Mapped[list] = mapped_column(JSON, default=list)
    excluded_countries: Mapped[list] = mapped_column(JSON, default=list)
    max_distance_km: Mapped[int | None] = mapped_column(Integer)
    allows_mixed_ages: Mapped[bool] = mapped_column(Boolean, default=False)
    is_searchable: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school_class: Mapped[SchoolClass] = relationship()
    slots: Mapped[list[AvailabilitySlot]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        order_by="(AvailabilitySlot.weekday, AvailabilitySlot.start_minute)",
    )

    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("max_distance_km IS NULL OR max_distance_km > 0", name="distance_positive"),
    )


class AvailabilitySlot(db.Model):
    """A weekly window for live sessions, in the school's local time (weekday 0 = Monday)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("class_profile.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)

    profile: Mapped[ClassProfile] = relationship(back_populates="slots")

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute", name="slot_order"),
    )


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Invitation(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    from_class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), index=True)
    to_class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus, "invitation_status"), default=InvitationStatus.PENDING
    )
    score: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))

    from_class: Mapped[SchoolClass] = relationship(foreign_keys=[from_class_id])
    to_class: Mapped[SchoolClass] = relationship(foreign_keys=[to_class_id])


class RoundStatus(enum.StrEnum):
    OPEN = "open"  # teachers opt classes in
    PROPOSED = "proposed"  # pairs computed, waiting for the teachers' answers
    CLOSED = "closed"


class MatchingRound(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus, "round_status"), default=RoundStatus.OPEN)
    opt_in_until: Mapped[date | None] = mapped_column(Date)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total_score: Mapped[float | None] = mapped_column(Float)

    entries: Mapped[list[RoundEntry]] = relationship(back_populates="round", cascade="all, delete-orphan")
    proposals: Mapped[list[RoundProposal]] = relationship(back_populates="round", cascade="all, delete-orphan")


class RoundEntry(db.Model):
    """A class opted into a round; unmatched_reason says why it got no partner."""

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("matching_round.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"))
    opted_in_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    unmatched_reason: Mapped[str | None] = mapped_column(String(40))

    round: Mapped[MatchingRound] = relationship(back_populates="entries")
    school_class: Mapped[SchoolClass] = relationship()

    __table_args__ = (UniqueConstraint("round_id", "class_id"),)


class ProposalAnswer(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class RoundProposal(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("matching_round.id", ondelete="CASCADE"), index=True)
    class_a_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"))
    class_b_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    answer_a: Mapped[ProposalAnswer] = mapped_column(
        enum_column(ProposalAnswer, "proposal_answer_a"), default=ProposalAnswer.PENDING
    )
    answer_b: Mapped[ProposalAnswer] = mapped_column(
        enum_column(ProposalAnswer, "proposal_answer_b"), default=ProposalAnswer.PENDING
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))

    round: Mapped[MatchingRound] = relationship(back_populates="proposals")
    class_a: Mapped[SchoolClass] = relationship(foreign_keys=[class_a_id])
    class_b: Mapped[SchoolClass] = relationship(foreign_keys=[class_b_id])
