"""Exchange project pages: load, check the role, call an operation, commit once."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.auth.names import NameResolver, viewer_names
from app.core.errors import AppError, attach_error
from app.core.themes import theme_label
from app.extensions import db
from app.modules.projects import operations, queries
from app.modules.projects.facts import language_levels, slots_in, weekly_times
from app.modules.projects.forms import (
    SLOT_ROWS,
    AttendanceForm,
    GenerateTeamsForm,
    MoveStudentForm,
    ProjectForm,
    RenameTeamForm,
)
from app.modules.projects.models import TEACHER_ROLES, ProjectRole
from app.modules.projects.session_times import partner_places, session_ics, time_line

ROLE_LABELS = {
    ProjectRole.TEACHER_ADMIN: _l("Teacher (admin)"),
    ProjectRole.TEACHER: _l("Teacher"),
    ProjectRole.STUDENT: _l("Pupil"),
    ProjectRole.GUEST_MENTOR: _l("Guest mentor"),
    ProjectRole.VISITOR: _l("Visitor (read only)"),
}

ACTIVITY_SENTENCES = {
    "project_created": lambda p: _("%(actor)s started the exchange.", **p),
    "project_updated": lambda p: _("%(actor)s updated the description of the exchange.", **p),
    "project_closed": lambda p: _("%(actor)s closed the exchange.", **p),
    "session_scheduled": lambda p: _("%(actor)s scheduled the live session “%(title)s”.", **p),
    "session_changed": lambda p: _("%(actor)s changed the live session “%(title)s”.", **p),
    "session_cancelled": lambda p: _("%(actor)s cancelled the live session “%(title)s”.", **p),
    "teams_generated": lambda p: ngettext(
        "%(actor)s formed %(num)d team.", "%(actor)s formed %(num)d teams.", p["count"], actor=p["actor"]
    ),
    "team_renamed": lambda p: _("%(actor)s renamed the team %(old)s to %(new)s.", **p),
    "student_moved": lambda p: _("%(actor)s moved %(student)s to %(team)s.", **p),
    "member_joined": lambda p: _("%(actor)s joined the exchange.", **p),
    "member_removed": lambda p: _("%(actor)s took %(name)s out of the exchange.", **p),
}
# Who went to which team names pupils: only the teachers see those lines.
TEACHER_ONLY_ACTIVITY = {"student_moved"}


def _named(students_by_class: dict) -> dict:
    """The pupils by class in the order of the names this reader sees (app/auth/names.py),
    loaded for |shown_name: an order by names they may not see would hint at those names."""
    shown = viewer_names().load(s for group in students_by_class.values() for s in group)
    return {class_id: sorted(group, key=shown.sort_key) for class_id, group in students_by_class.items()}


def load_project(project_id: int, *roles: ProjectRole, write: bool = False):
    project = queries.project_for_user(project_id, current_user)
    role = queries.require_project_role(project, current_user, *roles)
    if write:
        queries.require_open(project)
    return project, role


def _activity_lines(activities) -> list[str]:
    """The feed's sentences, naming people as this reader may see them (app/auth/names.py)."""
    pupils = queries.people_by_id(a.params.get("student_id") for a in activities if a.kind == "student_moved")
    shown = viewer_names().load([a.actor for a in activities] + list(pupils.values()))
    return [_activity_line(activity, shown, pupils) for activity in activities]


def _activity_line(activity, shown: NameResolver, pupils: dict) -> str:
    actor = shown(activity.actor) if activity.actor else _("Someone")
    params = {**activity.params, "actor": actor}
    if activity.kind == "student_moved":
        # Lines written before pupils were kept by id held a name some readers may not see.
        pupil = pupils.get(params.pop("student_id", None))
        params["student"] = shown(pupil) if pupil is not None else _("a pupil")
    sentence = ACTIVITY_SENTENCES.get(activity.kind)
    return sentence(params) if sentence else activity.kind


def _time_line(session, project) -> str:
    places = partner_places(link.school_class.school for link in project.classes)
    return time_line(session.starts_at, current_user.zone_name, places)


def _period(project) -> str:
    if not (project.period_start or project.period_end):
        return ""
    start = format_date(project.period_start, "medium") if project.period_start else "…"
    end = format_date(project.period_end, "medium") if project.period_end else "…"
    return f"{start} – {end}"


@login_required
def projects():
    return render_template("projects/list.html", projects=queries.projects_of_user(current_user))


@login_required
def project_detail(project_id: int):
    project, role = load_project(project_id)
    is_teacher = role in TEACHER_ROLES
    activities = [
        activity
        for activity in queries.recent_activity(project)
        if is_teacher or activity.kind not in TEACHER_ONLY_ACTIVITY
    ]
    feed = list(zip(activities, _activity_lines(activities), strict=True))
    upcoming = [(s, _time_line(s, project)) for s in queries.sessions_of(project, upcoming_only=True)[:3]]
    return render_template(
        "projects/detail.html",
        project=project,
        role=role,
        role_label=ROLE_LABELS[role],
        role_labels=ROLE_LABELS,
        is_teacher=is_teacher,
        is_admin=role == ProjectRole.TEACHER_ADMIN,
        students=_named(queries.students_by_class(project)) if is_teacher else {},
        members=queries.outside_members(project),
        feed=feed,
        upcoming=upcoming,
        language_names=dict(ProjectForm().languages.choices),
        period=_period(project),
        themes=[theme_label(theme) for theme in project.themes],
        weekly_times=weekly_times(project) if project.weekly_slots else [],
        levels=language_levels(project),
    )


@login_required
def edit(project_id: int):
    project, role = load_project(project_id, ProjectRole.TEACHER_ADMIN, write=True)
    form = ProjectForm(obj=project)
    zone = current_user.zone_name
    if not form.is_submitted():
        form.fill_from(project, slots_in(project, zone))
    if form.validate_on_submit():
        try:
            operations.update_project(
                project,
                current_user,
                title=form.title.data,
                aims=form.aims.data,
                languages=form.languages.data or [],
                period_start=form.period_start.data,
                period_end=form.period_end.data,
                themes=form.theme_data(project.themes),
                weekly_slots=form.slot_data(),
                slot_zone=zone,
            )
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return _edit_page(project, role, form, zone, 400)
        db.session.commit()
        flash(_("The exchange is saved."), "success")
        return redirect(url_for("projects.project_detail", project_id=project.id))
    return _edit_page(project, role, form, zone, 400 if form.is_submitted() else 200)


def _edit_page(project, role, form, zone, status):
    return render_template(
        "projects/edit.html",
        project=project,
        role=role,
        form=form,
        zone=zone,
        slot_rows=SLOT_ROWS,
        levels=language_levels(project),
    ), status


@login_required
def close(project_id: int):
    # The CSRF token is checked for every POST by CSRFProtect before this runs.
    project, _role = load_project(project_id, ProjectRole.TEACHER_ADMIN, write=True)
    operations.close_project(project, current_user)
    db.session.commit()
    flash(_("The exchange is closed. Everything in it stays readable."), "success")
    return redirect(url_for("projects.project_detail", project_id=project.id))


# ---- teams -----------------------------------------------------------------------------


def teams_page(project, role, status=200, generate_form=None, move_form=None, problem=None):
    is_teacher = role in TEACHER_ROLES
    if role == ProjectRole.STUDENT:
        team = queries.team_of_student(project, current_user.id)
        teams = [t for t in queries.teams_with_members(project) if team is not None and t[0].id == team.id]
        unplaced = []
    else:
        teams = queries.teams_with_members(project)
        unplaced = queries.students_without_team(project) if is_teacher else []
    shown = viewer_names().load([s for _team, members in teams for s in members] + unplaced)
    teams = [(team, sorted(members, key=shown.sort_key)) for team, members in teams]
    unplaced = sorted(unplaced, key=shown.sort_key)
    page = render_template(
        "projects/teams.html",
        project=project,
        role=role,
        is_teacher=is_teacher,
        can_manage=is_teacher and not project.is_closed,
        teams=teams,
        unplaced=unplaced,
        class_of=queries.class_of_student(project),
        generate_form=generate_form or _generate_form(project),
        move_form=move_form or _move_form(project),
        rename_form=RenameTeamForm(),
        problem=problem,
    )
    return page, status


def _generate_form(project):
    last = queries.last_team_settings(project)
    form = GenerateTeamsForm()
    form.team_size.data = last.get("size", form.team_size.data)
    form.mode.data = last.get("mode", form.mode.data)
    return form


def _move_form(project):
    form = MoveStudentForm()
    students = [s for group in queries.students_by_class(project).values() for s in group]
    shown = viewer_names().load(students)
    form.student_id.choices = [(s.id, shown(s)) for s in students]
    form.team_id.choices = [(t.id, t.name) for t in project.teams]
    return form


@login_required
def teams(project_id: int):
    project, role = load_project(project_id, *TEACHER_ROLES, ProjectRole.STUDENT, ProjectRole.GUEST_MENTOR)
    return teams_page(project, role)


@login_required
def move_student(project_id: int):
    project, role = load_project(project_id, *TEACHER_ROLES, write=True)
    form = _move_form(project)
    if form.validate_on_submit():
        try:
            team = queries.team_for(project, form.team_id.data)
            operations.move_student(project, current_user, form.student_id.data, team)
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return teams_page(project, role, 400, move_form=form)
        db.session.commit()
        flash(_("The pupil is moved."), "success")
        return redirect(url_for("projects.teams", project_id=project.id))
    return teams_page(project, role, 400, move_form=form)


@login_required
def rename_team(project_id: int, team_id: int):
    project, role = load_project(project_id, *TEACHER_ROLES, write=True)
    team = queries.team_for(project, team_id)
    form = RenameTeamForm()
    if form.validate_on_submit():
        try:
            operations.rename_team(project, current_user, team, form.name.data)
        except AppError as error:
            db.session.rollback()
            return teams_page(project, role, 400, problem=error.message)
        db.session.commit()
        flash(_("The team is renamed."), "success")
        return redirect(url_for("projects.teams", project_id=project.id))
    problems = [f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items() if name in form]
    return teams_page(project, role, 400, problem=" ".join(problems) or _("Please check the team name."))


# ---- live sessions ---------------------------------------------------------------------


@login_required
def sessions(project_id: int):
    project, role = load_project(project_id)
    listed = [(s, _time_line(s, project)) for s in queries.sessions_of(project)]
    return render_template(
        "projects/sessions.html",
        project=project,
        role=role,
        sessions=listed,
        can_schedule=role in TEACHER_ROLES and not project.is_closed,
    )


def _session_page(project, role, session, form=None, status=200):
    is_teacher = role in TEACHER_ROLES
    if form is None and is_teacher:
        form = _attendance_form(project, session)
    return render_template(
        "projects/session.html",
        project=project,
        role=role,
        session=session,
        when=_time_line(session, project),
        is_teacher=is_teacher,
        can_mark=is_teacher and not project.is_closed and not session.is_cancelled,
        can_change=is_teacher and not project.is_closed and not session.is_cancelled,
        # A visitor (a parent, say) reads along but does not get the way into the pupils' meeting.
        show_meeting_link=role != ProjectRole.VISITOR,
        form=form,
        students=_named(queries.students_by_class(project)) if is_teacher else {},
        present={a.student_id for a in session.attendances},
    ), status


def _attendance_form(project, session, formdata=None):
    form = AttendanceForm(formdata=formdata)
    students = [s for group in queries.students_by_class(project).values() for s in group]
    shown = viewer_names().load(students)
    form.present.choices = [(s.id, shown(s)) for s in students]
    if formdata is None:
        form.present.data = [a.student_id for a in session.attendances]
    return form


@login_required
def session_detail(project_id: int, session_id: int):
    project, role = load_project(project_id)
    return _session_page(project, role, queries.session_for(project, session_id))


@login_required
def attendance(project_id: int, session_id: int):
    project, role = load_project(project_id, *TEACHER_ROLES, write=True)
    session = queries.session_for(project, session_id)
    form = _attendance_form(project, session, formdata=request.form)
    if form.validate_on_submit():
        try:
            marked = operations.mark_attendance(project, current_user, session, form.present.data or [])
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return _session_page(project, role, session, form, 400)
        db.session.commit()
        flash(_("Attendance is saved: %(count)d present.", count=len(marked)), "success")
        return redirect(url_for("projects.session_detail", project_id=project.id, session_id=session.id))
    return _session_page(project, role, session, form, 400)


@login_required
def session_calendar(project_id: int, session_id: int):
    project, role = load_project(project_id)
    session = queries.session_for(project, session_id)
    page = url_for("projects.session_detail", project_id=project.id, session_id=session.id, _external=True)
    body = session_ics(session, page, request.host.split(":")[0], with_meeting_link=role != ProjectRole.VISITOR)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="crossclass-session-{session.id}.ics"'},
    )
