"""Exchange projects: the space two or more partner classes share, its people, teams and live sessions.

Students are not stored as members: they are the students of the partner classes, so that
removing a pupil from a class removes the project at once. ProjectMember holds only people
from outside the classes (a co-teacher, a guest mentor, a read-only visitor such as a parent).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SchoolClass, User
from app.core.db import TimestampMixin, UTCDateTime, enum_column
from app.extensions import db
from app.realtime.auth_cache import watch_changes
from app.realtime.rooms import project_scope


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ProjectRole(enum.StrEnum):
    TEACHER_ADMIN = "teacher_admin"
    TEACHER = "teacher"
    STUDENT = "student"
    GUEST_MENTOR = "guest_mentor"
    VISITOR = "visitor"


TEACHER_ROLES = (ProjectRole.TEACHER_ADMIN, ProjectRole.TEACHER)
# Who may write in an exchange (chat, boards): everyone but visitors.
WRITER_ROLES = (*TEACHER_ROLES, ProjectRole.STUDENT, ProjectRole.GUEST_MENTOR)


class Project(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[ProjectStatus] = mapped_column(
        enum_column(ProjectStatus, "project_status"), default=ProjectStatus.ACTIVE
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    aims: Mapped[str] = mapped_column(Text, default="", server_default="")
    languages: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # ISO 639-1 codes
    # Theme codes of app/core/themes.py or the teachers' own words, in the order to show them.
    themes: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Weekly times for live sessions: [{"weekday": 0-6 (Monday 0), "start": minute, "end": minute}]
    # in the wall-clock time of slot_zone; shown in each partner school's own time.
    weekly_slots: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    slot_zone: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    classes: Mapped[list[ProjectClass]] = relationship(back_populates="project", cascade="all, delete-orphan")
    members: Mapped[list[ProjectMember]] = relationship(back_populates="project", cascade="all, delete-orphan")
    teams: Mapped[list[Team]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Team.position"
    )

    @property
    def is_closed(self) -> bool:
        return self.status == ProjectStatus.CLOSED


class ProjectClass(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), index=True)

    project: Mapped[Project] = relationship(back_populates="classes")
    school_class: Mapped[SchoolClass] = relationship()

    __table_args__ = (UniqueConstraint("project_id", "class_id"),)


class ProjectMember(TimestampMixin, db.Model):
    """Someone from outside the partner classes, with a role in this project."""

    __tablename__ = "project_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[ProjectRole] = mapped_column(enum_column(ProjectRole, "project_role"))

    project: Mapped[Project] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        CheckConstraint("role IN ('teacher', 'guest_mentor', 'visitor')", name="outside_role"),
    )


class ProjectActivity(db.Model):
    """One line of the project's activity feed; the sentence is chosen by kind when shown."""

    __tablename__ = "project_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    actor: Mapped[User | None] = relationship()


class Team(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Pupils of the team may write to each other privately only when a teacher allows it.
    allow_direct_messages: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    project: Mapped[Project] = relationship(back_populates="teams")
    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="team", cascade="all, delete-orphan")


class TeamMembership(db.Model):
    __tablename__ = "team_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    # project_id is repeated here so that the database keeps a student in one team per project.
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)

    team: Mapped[Team] = relationship(back_populates="memberships")
    student: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("project_id", "student_id"),)


class LiveSession(TimestampMixin, db.Model):
    """A live video meeting of the partner classes; the video itself runs elsewhere."""

    __tablename__ = "live_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    organiser_zone: Mapped[str] = mapped_column(String(64))  # the zone the organiser typed the time in
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Sessions made together by "repeat weekly" share a series id, so that a change can reach
    # "this and the following sessions" of the series.
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # The .ics SEQUENCE: raised on every change, so calendars update the event they already hold.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A cancelled session is kept, with its reason, so that everyone sees it did not happen.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    project: Mapped[Project] = relationship()
    attendances: Mapped[list[SessionAttendance]] = relationship(back_populates="session", cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("duration_minutes BETWEEN 5 AND 600", name="duration_range"),)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class SessionAttendance(db.Model):
    __tablename__ = "session_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime())

    session: Mapped[LiveSession] = relationship(back_populates="attendances")
    student: Mapped[User] = relationship(foreign_keys=[student_id])

    __table_args__ = (UniqueConstraint("session_id", "student_id"),)


class InviteKind(enum.StrEnum):
    PARTNER_CLASS = "partner_class"  # a teacher brings one of their classes in as a partner
    TEACHER = "teacher"  # a co-teacher
    GUEST_MENTOR = "guest_mentor"  # a host-company mentor
    VISITOR = "visitor"  # read only, such as a parent


class ProjectInvite(TimestampMixin, db.Model):
    """A link that lets someone into the exchange with one role.

    Only a hash of the link's secret is stored: whoever reads the database cannot use the
    links, and a teacher who lost a link makes a new one.
    """

    __tablename__ = "project_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[InviteKind] = mapped_column(enum_column(InviteKind, "invite_kind"))
    label: Mapped[str] = mapped_column(String(120), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    project: Mapped[Project] = relationship()
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("uses <= max_uses", name="uses_within_limit"),)


# What kept checks of an exchange read (chat's channel access, through
# app/realtime/auth_cache.py): a change of any of these voids the checks of its project.
def _of_project(row, _deleted) -> list[str]:
    return [project_scope(row.project_id)]


watch_changes(Project, lambda row, _deleted: [project_scope(row.id)])
watch_changes(ProjectClass, _of_project)
watch_changes(ProjectMember, _of_project)
watch_changes(Team, _of_project)
watch_changes(TeamMembership, _of_project)
