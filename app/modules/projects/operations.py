"""Writes of exchange projects: the project space, teams, live sessions and attendance.

Every write on an existing project first checks that it is still open; the controllers
check the role, and commit once.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import pairwise

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import SchoolClass, User
from app.core import signals
from app.core.db import utcnow
from app.core.errors import InvalidInput
from app.core.timefmt import is_valid_zone
from app.extensions import db
from app.modules.projects import queries
from app.modules.projects.models import (
    LiveSession,
    Project,
    ProjectActivity,
    ProjectClass,
    ProjectMember,
    ProjectRole,
    ProjectStatus,
    SessionAttendance,
    Team,
    TeamMembership,
)
from app.modules.projects.setup import MINUTES_PER_DAY, ExchangeSetup, WeeklySlot
from app.modules.projects.teams import MAX_TEAM_SIZE, MIN_TEAM_SIZE, TeamMode, TeamPlan, plan_teams

TITLE_LIMIT = 200
TEAM_NAME_LIMIT = 80
THEME_LIMIT = 40
MAX_THEMES = 12
OUTSIDE_ROLES = (ProjectRole.TEACHER, ProjectRole.GUEST_MENTOR, ProjectRole.VISITOR)


def record_activity(project: Project, actor_id: int | None, kind: str, **params) -> ProjectActivity:
    activity = ProjectActivity(project_id=project.id, actor_id=actor_id, kind=kind, params=params, created_at=utcnow())
    db.session.add(activity)
    return activity


def create_project(
    creator_id: int, classes: Sequence[SchoolClass], title: str | None = None, setup: ExchangeSetup | None = None
) -> Project:
    """A project shared by the given classes; the title names them when none is given. `setup`
    holds what the classes' profiles have in common (matching works it out)."""
    title = title or " × ".join(school_class.name for school_class in classes)
    project = Project(title=title[:TITLE_LIMIT], created_by_id=creator_id, languages=[], aims="")
    project.classes = [ProjectClass(class_id=school_class.id) for school_class in classes]
    db.session.add(project)
    db.session.flush()
    if setup is not None:
        apply_exchange_setup(project, setup)
    record_activity(project, creator_id, "project_created")
    db.session.flush()
    return project


def apply_exchange_setup(project: Project, setup: ExchangeSetup) -> Project:
    """Fills what the teachers have not set yet from `setup`; what they set stays as it is (a
    partner class joining an exchange its teacher already described changes nothing)."""
    if setup.period and not (project.period_start or project.period_end):
        project.period_start, project.period_end = setup.period
    if not project.languages:
        project.languages = sorted(set(setup.languages))
    if not project.themes:
        project.themes = list(setup.themes)
    if not project.weekly_slots and setup.slots and setup.slot_zone:
        project.weekly_slots = [slot.as_json() for slot in setup.slots]
        project.slot_zone = setup.slot_zone
    db.session.flush()
    return project


def update_project(
    project: Project,
    user: User,
    *,
    title: str,
    aims: str,
    languages: Iterable[str],
    period_start: date | None,
    period_end: date | None,
    themes: Iterable[str] | None = None,
    weekly_slots: Iterable[WeeklySlot] | None = None,
    slot_zone: str | None = None,
) -> Project:
    """Saves the description; themes and weekly slots are replaced when given (slots in the
    wall-clock time of `slot_zone`, the editing teacher's zone)."""
    queries.require_open(project)
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(_("Please give the exchange a title."), field="title")
    if period_start and period_end and period_end < period_start:
        raise InvalidInput(_("The end cannot be before the start."), field="period_end")
    project.title = title[:TITLE_LIMIT]
    project.aims = (aims or "").strip()
    project.languages = sorted(set(languages))
    project.period_start = period_start
    project.period_end = period_end
    if themes is not None:
        project.themes = _clean_themes(themes)
    if weekly_slots is not None:
        slots = sorted(set(weekly_slots), key=lambda s: (s.weekday, s.start, s.end))
        _check_weekly_slots(slots)
        if slots and not is_valid_zone(slot_zone or ""):
            raise InvalidInput(_("Unknown time zone."), field="slots")
        project.weekly_slots = [slot.as_json() for slot in slots]
        project.slot_zone = slot_zone if slots else None
    record_activity(project, user.id, "project_updated")
    db.session.flush()
    return project


def _clean_themes(themes: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for theme in themes:
        theme = " ".join((theme or "").split())[:THEME_LIMIT]
        if theme and theme.casefold() not in {t.casefold() for t in cleaned}:
            cleaned.append(theme)
    if len(cleaned) > MAX_THEMES:
        raise InvalidInput(_("An exchange has at most %(count)d themes.", count=MAX_THEMES), field="other_themes")
    return cleaned


def _check_weekly_slots(slots: Sequence[WeeklySlot]) -> None:
    for slot in slots:
        if not (0 <= slot.weekday <= 6 and 0 <= slot.start < slot.end <= MINUTES_PER_DAY):
            raise InvalidInput(_("A time slot must end after it starts."), field="slots")
    for first, second in pairwise(slots):
        if first.weekday == second.weekday and second.start < first.end:
            raise InvalidInput(_("Two time slots overlap."), field="slots")


def close_project(project: Project, user: User) -> Project:
    queries.require_open(project)
    project.status = ProjectStatus.CLOSED
    project.closed_at = utcnow()
    record_activity(project, user.id, "project_closed")
    db.session.flush()
    return project


def add_member(project: Project, user: User, role: ProjectRole) -> ProjectMember:
    """Someone from outside the partner classes: a co-teacher, guest mentor or visitor."""
    queries.require_open(project)
    if role not in OUTSIDE_ROLES:
        raise InvalidInput(_("Pupils and class teachers belong to an exchange through their class."))
    if queries.project_role(project, user) in (ProjectRole.TEACHER_ADMIN, ProjectRole.STUDENT):
        raise InvalidInput(_("This person already belongs to the exchange through a partner class."))
    member = ProjectMember(project_id=project.id, user_id=user.id, role=role)
    db.session.add(member)
    db.session.flush()
    return member


# ---- teams -----------------------------------------------------------------------------


def generate_teams(
    project: Project, user: User, team_size: int, mode: TeamMode = TeamMode.MIXED, rng: random.Random | None = None
) -> TeamPlan:
    """Replaces the teams by new ones planned by teams.plan_teams; the plan says what was done.

    Pupils are grouped by school, not by class: two classes of one school in a team do not make
    it an exchange. Without `rng` the pupils are shuffled afresh, so forming again gives new teams.
    """
    queries.require_open(project)
    if not MIN_TEAM_SIZE <= team_size <= MAX_TEAM_SIZE:
        raise InvalidInput(
            _("A team has between %(low)d and %(high)d pupils.", low=MIN_TEAM_SIZE, high=MAX_TEAM_SIZE),
            field="team_size",
        )
    school_of_class = {link.class_id: link.school_class.school_id for link in project.classes}
    by_school: dict[int, list[int]] = {}
    for class_id, students in queries.students_by_class(project).items():
        by_school.setdefault(school_of_class[class_id], []).extend(s.id for s in students)
    plan = plan_teams(by_school, team_size, TeamMode(mode), rng or random.SystemRandom())
    if not plan.teams:
        raise InvalidInput(_("The partner classes have no pupils yet: there is nobody to put in teams."))
    # Before the delete is flushed: SQLite hands a deleted row's id to the next insert, so the
    # chat must tell the old teams from the new ones now (it keeps their channels as history).
    signals.teams_replacing.send(project, team_ids=[team.id for team in project.teams])
    project.teams.clear()
    db.session.flush()
    for number, student_ids in enumerate(plan.teams, start=1):
        team = Team(project_id=project.id, name=_("Team %(number)d", number=number), position=number)
        team.memberships = [TeamMembership(project_id=project.id, student_id=sid) for sid in student_ids]
        project.teams.append(team)
    record_activity(project, user.id, "teams_generated", count=len(plan.teams), size=team_size, mode=plan.mode.value)
    db.session.flush()
    return plan


def rename_team(project: Project, user: User, team: Team, name: str) -> Team:
    queries.require_open(project)
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Please give the team a name."), field="name")
    if len(name) > TEAM_NAME_LIMIT:
        raise InvalidInput(_("A team name has at most %(count)d characters.", count=TEAM_NAME_LIMIT), field="name")
    old = team.name
    team.name = name
    record_activity(project, user.id, "team_renamed", old=old, new=name)
    db.session.flush()
    signals.team_renamed.send(project, team=team)
    return team


def set_direct_messages(project: Project, user: User, team: Team, allowed: bool) -> Team:
    """Lets the pupils of one team write to each other privately, or stops it (their existing
    conversations stay, read-only); the chat logs the switch for safeguarding."""
    queries.require_open(project)
    if team.project_id != project.id:
        raise InvalidInput(_("This team is not part of this exchange."), field="team_id")
    if team.allow_direct_messages == allowed:
        return team
    team.allow_direct_messages = allowed
    db.session.flush()
    signals.direct_messages_changed.send(project, team=team, actor_id=user.id, allowed=allowed)
    return team


def move_student(project: Project, user: User, student_id: int, team: Team) -> TeamMembership:
    """Puts a pupil of a partner class into this team (out of their former team, if any)."""
    queries.require_open(project)
    if team.project_id != project.id:
        raise InvalidInput(_("This team is not part of this exchange."), field="team_id")
    student = db.session.get(User, student_id)
    if student is None or student_id not in queries.current_student_ids(project):
        raise InvalidInput(_("This pupil is not in a partner class of this exchange."), field="student_id")
    membership = db.session.scalar(
        select(TeamMembership).where(TeamMembership.project_id == project.id, TeamMembership.student_id == student_id)
    )
    if membership is None:
        membership = TeamMembership(project_id=project.id, student_id=student_id)
    elif membership.team_id != team.id:
        # Out of their old team's channel: a socket already in its room must not keep receiving it.
        signals.access_reduced.send(student_id)
    membership.team = team
    # The pupil by id, not by name: each reader of the feed sees the name they may see.
    record_activity(project, user.id, "student_moved", student_id=student.id, team=team.name)
    db.session.flush()
    return membership


# ---- live sessions ---------------------------------------------------------------------


def mark_attendance(project: Project, user: User, session: LiveSession, student_ids: Iterable[int]) -> set[int]:
    """The pupils who attended, replacing the earlier list; only current pupils count."""
    queries.require_open(project)
    wanted = set(student_ids)
    unknown = wanted - queries.current_student_ids(project)
    if unknown:
        raise InvalidInput(_("Only pupils of the partner classes can be marked as present."), field="present")
    existing = {a.student_id: a for a in session.attendances}
    for student_id, attendance in existing.items():
        if student_id not in wanted:
            session.attendances.remove(attendance)
    now = utcnow()
    for student_id in wanted - set(existing):
        session.attendances.append(SessionAttendance(student_id=student_id, marked_by_id=user.id, marked_at=now))
    db.session.flush()
    return wanted
