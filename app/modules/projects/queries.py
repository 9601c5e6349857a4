"""Read-only lookups about exchange projects."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.auth.models import ClassMembership, SchoolClass, User
from app.core.errors import NotFound, PermissionDenied
from app.extensions import db
from app.modules.projects.models import Project, ProjectClass


def projects_of_user(user: User) -> list[Project]:
    """Projects of the classes this person teaches, coordinates (own school) or learns in."""
    if user.is_student:
        class_ids = select(ClassMembership.class_id).where(ClassMembership.student_id == user.id)
    elif user.is_coordinator:
        class_ids = select(SchoolClass.id).where(
            (SchoolClass.teacher_id == user.id) | (SchoolClass.school_id == user.school_id)
        )
    else:
        class_ids = select(SchoolClass.id).where(SchoolClass.teacher_id == user.id)
    query = (
        select(Project)
        .join(ProjectClass, ProjectClass.project_id == Project.id)
        .where(ProjectClass.class_id.in_(class_ids))
        .distinct()
        .order_by(Project.created_at.desc(), Project.id.desc())
    )
    return list(db.session.scalars(query))


def past_partner_ids(class_id: int) -> frozenset[int]:
    """Classes this class already shares a project with."""
    return past_partners_of([class_id]).get(class_id, frozenset())


def past_partners_of(class_ids) -> dict[int, frozenset[int]]:
    """For each of these classes, the classes it already shares a project with (one query)."""
    mine = aliased(ProjectClass)
    theirs = aliased(ProjectClass)
    rows = db.session.execute(
        select(mine.class_id, theirs.class_id)
        .join(theirs, (theirs.project_id == mine.project_id) & (theirs.class_id != mine.class_id))
        .where(mine.class_id.in_(list(class_ids)))
    )
    partners: dict[int, set[int]] = {}
    for class_id, partner_id in rows:
        partners.setdefault(class_id, set()).add(partner_id)
    return {class_id: frozenset(ids) for class_id, ids in partners.items()}


def may_see_project(project: Project, user: User) -> bool:
    if user.is_admin:
        return True
    for link in project.classes:
        school_class = link.school_class
        if school_class.teacher_id == user.id:
            return True
        if user.is_coordinator and user.school_id == school_class.school_id:
            return True
        if user.is_student and any(m.student_id == user.id for m in school_class.memberships):
            return True
    return False


def project_for_user(project_id: int, user: User) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound(_("This exchange does not exist."))
    if not may_see_project(project, user):
        raise PermissionDenied(_("This exchange is not one of yours."))
    return project
