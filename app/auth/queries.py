"""Read-only lookups about people and classes, shared by controllers and socket handlers."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import AccountStatus, ClassMembership, Role, School, SchoolClass, User
from app.core.errors import NotFound, PermissionDenied
from app.extensions import db


def class_ids_taught_by(teacher_id: int) -> list[int]:
    return list(db.session.scalars(select(SchoolClass.id).where(SchoolClass.teacher_id == teacher_id)))


def class_ids_of_student(student_id: int) -> list[int]:
    return list(db.session.scalars(select(ClassMembership.class_id).where(ClassMembership.student_id == student_id)))


def student_ids_taught_by(teacher_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(ClassMembership.student_id)
            .join(SchoolClass, SchoolClass.id == ClassMembership.class_id)
            .where(SchoolClass.teacher_id == teacher_id)
            .distinct()
        )
    )


def is_student(user_id: int) -> bool:
    return db.session.scalar(select(User.role).where(User.id == user_id)) == Role.STUDENT


def classes_of_teacher(teacher: User) -> list[SchoolClass]:
    return list(
        db.session.scalars(select(SchoolClass).where(SchoolClass.teacher_id == teacher.id).order_by(SchoolClass.name))
    )


def classes_of_school(school_id: int) -> list[SchoolClass]:
    return list(
        db.session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id).order_by(SchoolClass.name))
    )


def teachers_of_school(school_id: int, status: AccountStatus | None = None) -> list[User]:
    query = select(User).where(User.school_id == school_id, User.role.in_([Role.TEACHER, Role.COORDINATOR]))
    if status is not None:
        query = query.where(User.status == status)
    return list(db.session.scalars(query.order_by(User.display_name)))


def pending_teachers_for(reviewer: User) -> list[User]:
    """Teachers this reviewer may validate: a coordinator's own school, or all for admins."""
    query = select(User).where(User.role == Role.TEACHER, User.status == AccountStatus.PENDING)
    if not reviewer.is_admin:
        query = query.where(User.school_id == reviewer.school_id)
    return list(db.session.scalars(query.order_by(User.created_at)))


def verified_schools() -> list[School]:
    return list(
        db.session.scalars(select(School).where(School.is_verified.is_(True)).order_by(School.country, School.name))
    )


def user_by_login(login: str) -> User | None:
    login = login.strip().lower()
    if not login:
        return None
    return db.session.scalar(select(User).where((User.username == login) | (User.email == login)))


def class_for_teacher(class_id: int, teacher: User) -> SchoolClass:
    """The class, if this teacher may manage it (its own teacher, or its school's coordinator)."""
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFound(_("This class does not exist or is not one of yours."))
    if school_class.teacher_id == teacher.id:
        return school_class
    if teacher.is_coordinator and teacher.school_id == school_class.school_id:
        return school_class
    if teacher.is_admin:
        return school_class
    raise PermissionDenied(_("This class does not exist or is not one of yours."))


def students_of_class(class_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(ClassMembership, ClassMembership.student_id == User.id)
            .where(ClassMembership.class_id == class_id)
            .order_by(User.display_name)
        )
    )
