"""Exchange projects: the space two or more partner classes share.

This is the minimal record partner matching needs (an accepted invitation creates one);
the projects issue builds the project space, teams, sessions and chat on top of it.
"""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SchoolClass
from app.core.db import TimestampMixin, enum_column
from app.extensions import db


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class Project(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[ProjectStatus] = mapped_column(
        enum_column(ProjectStatus, "project_status"), default=ProjectStatus.ACTIVE
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    classes: Mapped[list[ProjectClass]] = relationship(back_populates="project", cascade="all, delete-orphan")


class ProjectClass(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id", ondelete="CASCADE"), index=True)

    project: Mapped[Project] = relationship(back_populates="classes")
    school_class: Mapped[SchoolClass] = relationship()

    __table_args__ = (UniqueConstraint("project_id", "class_id"),)
