"""Read-only lookups about exchange projects, and the one place that decides who may do what."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, false, select
from sqlalchemy.orm import aliased

from app.auth.models import ClassMembership, SchoolClass, User
from app.core.db import utcnow
from app.core.errors import Conflict, NotFound, PermissionDenied
from app.core.weekly_slots import weekly_slots_of
from app.extensions import db
from app.modules.projects.models import (
    TEACHER_ROLES,
    LiveSession,
    Project,
    ProjectActivity,
    ProjectClass,
    ProjectMember,
    ProjectRole,
    Team,
    TeamMembership,
)

FEED_LENGTH = 20


def projects_of_user(user: User) -> list[Project]:
    """Projects of the classes this person teaches, coordinates (own school) or learns in,
    and those they were made a member of."""
    if user.is_student:
        class_ids = select(ClassMembership.class_id).where(ClassMembership.student_id == user.id)
    elif user.is_coordinator:
        class_ids = select(SchoolClass.id).where(
            (SchoolClass.teacher_id == user.id) | (SchoolClass.school_id == user.school_id)
        )
    else:
        class_ids = select(SchoolClass.id).where(SchoolClass.teacher_id == user.id)
    by_class = select(ProjectClass.project_id).where(ProjectClass.class_id.in_(class_ids))
    by_membership = select(ProjectMember.project_id).where(ProjectMember.user_id == user.id)
    query = (
        select(Project)
        .where(Project.id.in_(by_class) | Project.id.in_(by_membership))
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


# ---- roles and permissions ---------------------------------------------------------------


def project_role(project: Project, user: User) -> ProjectRole | None:
    """This person's role in the project, or None when they have no business there.

    Teachers of the partner classes administer it; pupils are in it as long as they are in
    a partner class (checked on every request, so leaving the class ends access at once);
    outside people have a ProjectMember row; a coordinator of a partner school and a site
    administrator may look, read-only.
    """
    if user is None or not user.is_authenticated:
        return None
    classes = [link.school_class for link in project.classes]
    if any(c.teacher_id == user.id for c in classes):
        return ProjectRole.TEACHER_ADMIN
    if user.is_student:
        class_ids = [c.id for c in classes]
        member = db.session.scalar(
            select(ClassMembership.id).where(
                ClassMembership.student_id == user.id, ClassMembership.class_id.in_(class_ids)
            )
        )
        return ProjectRole.STUDENT if member is not None else None
    member_role = db.session.scalar(
        select(ProjectMember.role).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    )
    if member_role is not None:
        return member_role
    if user.is_coordinator and any(c.school_id == user.school_id for c in classes):
        return ProjectRole.VISITOR
    if user.is_admin:
        return ProjectRole.VISITOR
    return None


def project_role_columns(project_id, user_id, school_id, *, student: bool, coordinator: bool) -> tuple:
    """What project_role decides on, as SQL columns of a query that selects the project's id.

    For a check on every socket event (chat), in the same round trip that loads the object
    checked; role_from_columns() then decides as project_role does. user_id and school_id may
    be bind parameters, so that the caller can build its statement once. Keep the two in
    step (tests/chat/test_send_cost.py compares them over every kind of person).
    """
    # One level of subquery each: only that level correlates with the outer query's project.
    of_partner_class = (ProjectClass.project_id == project_id, SchoolClass.id == ProjectClass.class_id)
    teaches = exists().where(*of_partner_class, SchoolClass.teacher_id == user_id)
    learns = (
        exists().where(
            ProjectClass.project_id == project_id,
            ClassMembership.class_id == ProjectClass.class_id,
            ClassMembership.student_id == user_id,
        )
        if student
        else false()
    )
    member_role = (
        select(ProjectMember.role)
        .where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
        .scalar_subquery()
    )
    of_own_school = exists().where(*of_partner_class, SchoolClass.school_id == school_id) if coordinator else false()
    return (
        teaches.label("teaches"),
        learns.label("learns"),
        member_role.label("member_role"),
        of_own_school.label("of_own_school"),
    )


def role_from_columns(user: User, teaches, learns, member_role, of_own_school) -> ProjectRole | None:
    """project_role's decision on the values of project_role_columns()."""
    if user is None or not user.is_authenticated:
        return None
    if teaches:
        return ProjectRole.TEACHER_ADMIN
    if user.is_student:
        return ProjectRole.STUDENT if learns else None
    if member_role is not None:
        return member_role
    if user.is_coordinator and of_own_school:
        return ProjectRole.VISITOR
    if user.is_admin:
        return ProjectRole.VISITOR
    return None


def require_project_role(project: Project, user: User, *roles: ProjectRole) -> ProjectRole:
    """The user's role when it is one of these (any role when none are given); 403 otherwise."""
    role = project_role(project, user)
    if role is None:
        raise PermissionDenied(_("This exchange is not one of yours."))
    if roles and role not in roles:
        if role in (ProjectRole.STUDENT, ProjectRole.GUEST_MENTOR, ProjectRole.VISITOR):
            raise PermissionDenied(_("Only the teachers of this exchange can do this."))
        raise PermissionDenied(_("Only the teachers of the partner classes can do this."))
    return role


def require_open(project: Project) -> None:
    """Every write goes through here: a closed project is read-only."""
    if project.is_closed:
        raise Conflict(_("This exchange is closed: nothing in it can be changed any more."), code="project_closed")


def may_see_project(project: Project, user: User) -> bool:
    return project_role(project, user) is not None


def is_teacher_role(role: ProjectRole | None) -> bool:
    return role in TEACHER_ROLES


def project_for_user(project_id: int, user: User) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound(_("This exchange does not exist."))
    if not may_see_project(project, user):
        raise PermissionDenied(_("This exchange is not one of yours."))
    return project


# ---- people ----------------------------------------------------------------------------


def students_by_class(project: Project) -> dict[int, list[User]]:
    """The pupils of each partner class now, by name (the class order of the project)."""
    result: dict[int, list[User]] = {link.class_id: [] for link in project.classes}
    rows = db.session.execute(
        select(ClassMembership.class_id, User)
        .join(User, User.id == ClassMembership.student_id)
        .where(ClassMembership.class_id.in_(list(result)))
        .order_by(User.display_name, User.id)
    )
    seen: set[int] = set()
    for class_id, student in rows:
        if student.id not in seen:  # a pupil in two partner classes counts for the first
            seen.add(student.id)
            result[class_id].append(student)
    return result


def current_student_ids(project: Project) -> set[int]:
    return {s.id for students in students_by_class(project).values() for s in students}


def class_of_student(project: Project) -> dict[int, SchoolClass]:
    classes = {link.class_id: link.school_class for link in project.classes}
    return {s.id: classes[class_id] for class_id, students in students_by_class(project).items() for s in students}


def people_by_id(user_ids) -> dict[int, User]:
    user_ids = set(user_ids) - {None}
    if not user_ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))}


def outside_members(project: Project) -> list[ProjectMember]:
    return sorted(project.members, key=lambda m: (m.role.value, m.user.display_name))


# ---- teams -----------------------------------------------------------------------------


def team_for(project: Project, team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None or team.project_id != project.id:
        raise NotFound(_("This team does not exist."))
    return team


def teams_with_members(project: Project) -> list[tuple[Team, list[User]]]:
    """Each team with its pupils who are still in a partner class."""
    current = current_student_ids(project)
    return [
        (team, sorted((m.student for m in team.memberships if m.student_id in current), key=_by_name))
        for team in project.teams
    ]


def team_of_student(project: Project, student_id: int) -> Team | None:
    return db.session.scalar(
        select(Team)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.project_id == project.id, TeamMembership.student_id == student_id)
    )


def students_without_team(project: Project) -> list[User]:
    placed = set(db.session.scalars(select(TeamMembership.student_id).where(TeamMembership.project_id == project.id)))
    return [s for students in students_by_class(project).values() for s in students if s.id not in placed]


def _by_name(user: User):
    return (user.display_name.casefold(), user.id)


# ---- sessions and activity -------------------------------------------------------------


def session_for(project: Project, session_id: int) -> LiveSession:
    session = db.session.get(LiveSession, session_id)
    if session is None or session.project_id != project.id:
        raise NotFound(_("This live session does not exist."))
    return session


def sessions_of(project: Project, upcoming_only: bool = False, now: datetime | None = None) -> list[LiveSession]:
    """The project's sessions by start; upcoming_only keeps those not yet over (running ones too)."""
    query = select(LiveSession).where(LiveSession.project_id == project.id)
    sessions = list(db.session.scalars(query.order_by(LiveSession.starts_at, LiveSession.id)))
    if upcoming_only:
        now = now or utcnow()
        sessions = [s for s in sessions if s.starts_at + timedelta(minutes=s.duration_minutes) > now]
    return sessions


def series_from(session: LiveSession) -> list[LiveSession]:
    """This session and the later ones of its weekly series that are not cancelled."""
    if session.series_id is None:
        return [session]
    query = select(LiveSession).where(
        LiveSession.project_id == session.project_id,
        LiveSession.series_id == session.series_id,
        LiveSession.starts_at >= session.starts_at,
        LiveSession.cancelled_at.is_(None),
    )
    later = [s for s in db.session.scalars(query.order_by(LiveSession.starts_at, LiveSession.id)) if s is not session]
    return [session, *later]


def series_length(session: LiveSession) -> int:
    if session.series_id is None:
        return 1
    return len(list(db.session.scalars(select(LiveSession.id).where(LiveSession.series_id == session.series_id))))


def member_ids(project: Project) -> set[int]:
    """Everyone in the exchange: the partner classes' teachers and pupils, and the outside members."""
    teachers = {link.school_class.teacher_id for link in project.classes if link.school_class.teacher_id}
    outside = {member.user_id for member in project.members}
    return teachers | current_student_ids(project) | outside


def class_schedules(project: Project) -> list[tuple[str, tuple]]:
    """(zone, weekly slots) of every partner class; empty unless every class has slots."""
    classes = [link.school_class for link in project.classes]
    slots = weekly_slots_of(c.id for c in classes)
    if len(classes) < 2 or any(c.id not in slots for c in classes):
        return []
    return [(c.school.timezone, slots[c.id]) for c in classes]


def recent_activity(project: Project, limit: int = FEED_LENGTH) -> list[ProjectActivity]:
    return list(
        db.session.scalars(
            select(ProjectActivity)
            .where(ProjectActivity.project_id == project.id)
            .order_by(ProjectActivity.created_at.desc(), ProjectActivity.id.desc())
            .limit(limit)
        )
    )


def last_team_settings(project: Project) -> dict:
    """The size and mode the teams were last formed with, so that the form offers them again."""
    params = db.session.scalar(
        select(ProjectActivity.params)
        .where(ProjectActivity.project_id == project.id, ProjectActivity.kind == "teams_generated")
        .order_by(ProjectActivity.created_at.desc(), ProjectActivity.id.desc())
        .limit(1)
    )
    return {key: params[key] for key in ("size", "mode") if params and key in params}
