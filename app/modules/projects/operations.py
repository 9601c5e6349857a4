"""Writes of exchange projects."""

from __future__ import annotations

from collections.abc import Sequence

from app.auth.models import SchoolClass
from app.extensions import db
from app.modules.projects.models import Project, ProjectClass

TITLE_LIMIT = 200


def create_project(creator_id: int, classes: Sequence[SchoolClass], title: str | None = None) -> Project:
    """A project shared by the given classes; the title names them when none is given."""
    title = title or " × ".join(school_class.name for school_class in classes)
    project = Project(title=title[:TITLE_LIMIT], created_by_id=creator_id)
    project.classes = [ProjectClass(class_id=school_class.id) for school_class in classes]
    db.session.add(project)
    db.session.flush()
    return project
