"""Schools, people, their sessions and classes: everything below the modules."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import TimestampMixin, UTCDateTime, enum_column, utcnow
from app.extensions import db
from app.realtime.auth_cache import everyone, watch_changes
from app.realtime.rooms import EVERYONE_SCOPE, user_scope


class SchoolKind(enum.StrEnum):
    VET_SCHOOL = "vet_school"
    COMPANY = "company"
    OTHER = "other"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TEACHER = "teacher"
    STUDENT = "student"
    GUEST = "guest"


class AccountStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"


class School(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)  # ISO 3166-1 alpha-2
    city: Mapped[str] = mapped_column(String(120))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Europe/Lisbon
    kind: Mapped[SchoolKind] = mapped_column(enum_column(SchoolKind, "school_kind"), default=SchoolKind.VET_SCHOOL)
    erasmus_oid: Mapped[str | None] = mapped_column(String(9), unique=True)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)

    people: Mapped[list[User]] = relationship(back_populates="school")
    classes: Mapped[list[SchoolClass]] = relationship(back_populates="school")

    __table_args__ = (UniqueConstraint("name", "country", "city"),)


class User(UserMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), index=True)
    status: Mapped[AccountStatus] = mapped_column(
        enum_column(AccountStatus, "account_status"), default=AccountStatus.ACTIVE
    )
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Teachers only (pupils are never e-mailed): invitations and session changes by e-mail too.
    wants_email_updates: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    school: Mapped[School | None] = relationship(back_populates="people")
    memberships: Mapped[list[ClassMembership]] = relationship(back_populates="student", cascade="all, delete-orphan")
    # A pupil who joined with a code and waits for the teacher's approval (at most one).
    join_request: Mapped[ClassJoinRequest | None] = relationship(back_populates="student", cascade="all, delete-orphan")

    # Filled in by the session loader, so Flask-Login's id is the server-side session token.
    session_token = None  # type: str | None

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.status != AccountStatus.DISABLED

    @property
    def is_pending(self) -> bool:
        return self.status == AccountStatus.PENDING

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def is_teacher(self) -> bool:
        """Coordinators teach too: they own classes like any teacher."""
        return self.role in (Role.TEACHER, Role.COORDINATOR)

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def zone_name(self) -> str:
        if self.timezone:
            return self.timezone
        if self.school is not None:
            return self.school.timezone
        return "UTC"


class UserSession(db.Model):
    """A server-side login session: logging out or idling ends it for good."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed logins per account name, address, account at address and device cookie (throttle.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # throttle.py: "account", "acct-addr", "address", "device", …
    key: Mapped[str] = mapped_column(String(254))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("scope", "key"),)


# How long a class code works, in days: the teacher picks one of these (a week unless they
# choose otherwise); a class created, a code renewed or turned on again starts a new period.
JOIN_CODE_VALIDITY_DAYS = (1, 7, 30, 90)
DEFAULT_JOIN_CODE_DAYS = 7


def default_join_code_expiry() -> datetime:
    return utcnow() + timedelta(days=DEFAULT_JOIN_CODE_DAYS)


class SchoolClass(TimestampMixin, db.Model):
    """A teacher's class (a group of learners), the unit that exchanges are made of."""

    __tablename__ = "school_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The field as shown: the ISCED-F name of isced_code, or, for a class saved before the field
    # was chosen from the list and whose text matched no field, what its teacher wrote.
    vocational_field: Mapped[str] = mapped_column(String(120))
    # The ISCED-F 2013 detailed field (app/core/isced.py); None only for such an old class.
    isced_code: Mapped[str | None] = mapped_column(String(4))
    eqf_level: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    age_min: Mapped[int] = mapped_column(Integer)
    age_max: Mapped[int] = mapped_column(Integer)
    join_code: Mapped[str] = mapped_column(String(12), unique=True)
    join_code_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A code stops working at this time (the teacher renews it or gives it more days), so a
    # code passed around outside the class does not open it for good.
    join_code_expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=default_join_code_expiry)
    # Pupils who join with the code wait for the teacher's approval (ClassJoinRequest) unless
    # the teacher chose "no approval needed" for this class's code.
    join_code_needs_approval: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Partner schools see a pupil's display name only when every class of the pupil says so
    # (with the pupils' and parents' agreement); otherwise the username. See app/auth/names.py.
    partners_see_first_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    school: Mapped[School] = relationship(back_populates="classes")
    teacher: Mapped[User] = relationship()
    languages: Mapped[list[ClassLanguage]] = relationship(
        back_populates="school_class", cascade="all, delete-orphan", order_by="ClassLanguage.language"
    )
    memberships: Mapped[list[ClassMembership]] = relationship(
        back_populates="school_class", cascade="all, delete-orphan"
    )
    join_requests: Mapped[list[ClassJoinRequest]] = relationship(
        back_populates="school_class", cascade="all, delete-orphan", order_by="ClassJoinRequest.requested_at"
    )

    __table_args__ = (
        CheckConstraint("eqf_level BETWEEN 1 AND 8", name="eqf_level_range"),
        CheckConstraint("size BETWEEN 1 AND 60", name="size_range"),
        CheckConstraint("age_min BETWEEN 14 AND 99 AND age_max BETWEEN age_min AND 99", name="age_range"),
    )


class ClassLanguage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(3))  # ISO 639-1 where it exists
    cefr_level: Mapped[str] = mapped_column(String(2))  # A1 … C2

    school_class: Mapped[SchoolClass] = relationship(back_populates="languages")

    __table_args__ = (UniqueConstraint("class_id", "language"),)


class ClassMembership(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    joined_with_code: Mapped[bool] = mapped_column(Boolean, default=False)

    school_class: Mapped[SchoolClass] = relationship(back_populates="memberships")
    student: Mapped[User] = relationship(back_populates="memberships")

    __table_args__ = (UniqueConstraint("class_id", "student_id"),)


class ClassJoinRequest(db.Model):
    """A pupil who joined with a class code that needs the teacher's approval, and waits.

    Deliberately not a ClassMembership with a status: every access path (project roles,
    chat's one-query check, rosters, presence, names) is built on ClassMembership, so a
    waiting pupil, who has no membership row at all, sees nothing of the class without a
    filter that one of them could forget. Approving turns the request into a membership.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())

    school_class: Mapped[SchoolClass] = relationship(back_populates="join_requests")
    student: Mapped[User] = relationship(back_populates="join_request")


# What a socket's kept session check reads (app/auth/sessions.py load_session_user, through
# app/realtime/auth_cache.py), and whose checks a change of each voids. Rare and felt by many:
# a class's teacher or school, a school's coordinators. A deleted account may have taught
# classes (its classes go with it).
watch_changes(School, everyone)
watch_changes(SchoolClass, everyone)
watch_changes(User, lambda row, deleted: [EVERYONE_SCOPE] if deleted else [user_scope(row.id)])
watch_changes(UserSession, lambda row, _deleted: [user_scope(row.user_id)])
watch_changes(ClassMembership, lambda row, _deleted: [user_scope(row.student_id)])
