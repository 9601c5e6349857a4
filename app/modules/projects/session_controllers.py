"""Scheduling, changing and cancelling live sessions, and the exchange's calendar: load, check
the role, call an operation, commit once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.core.db import utcnow
from app.core.errors import AppError, attach_error
from app.core.timefmt import viewer_zone
from app.extensions import db
from app.modules.notifications.queries import register_kind
from app.modules.projects import queries, session_operations
from app.modules.projects.controllers import load_project
from app.modules.projects.forms import CancelSessionForm, EditSessionForm, NewSessionForm
from app.modules.projects.models import TEACHER_ROLES, ProjectRole
from app.modules.projects.session_operations import Scope, SessionNotice
from app.modules.projects.session_times import exchange_ics, partner_places, slot_proposals, time_line


def _when(params: dict) -> str:
    # In the reader's zone: "Thu 25 Mar 2027, 12:00 EET".
    return time_line(datetime.fromisoformat(params["starts_at"]), viewer_zone(), [])


def _added(p: dict) -> str:
    if p.get("count", 1) > 1:
        return _("%(project)s: “%(title)s”, every week for %(count)d weeks from %(when)s.", **p, when=_when(p))
    return _("%(project)s: a new live session “%(title)s” on %(when)s.", **p, when=_when(p))


def _cancelled(p: dict) -> str:
    if p.get("count", 1) > 1:
        return _(
            "%(project)s: %(count)d sessions of “%(title)s” from %(when)s are cancelled. Reason: %(reason)s",
            **p,
            when=_when(p),
        )
    return _(
        "%(project)s: the live session “%(title)s” on %(when)s is cancelled. Reason: %(reason)s", **p, when=_when(p)
    )


# The sentences of the session notifications, made in the reader's language and zone when shown.
register_kind(SessionNotice.ADDED.value, _added)
register_kind(
    SessionNotice.MOVED.value,
    lambda p: _("%(project)s: the live session “%(title)s” moved to %(when)s.", **p, when=_when(p)),
)
register_kind(
    SessionNotice.UPDATED.value,
    lambda p: _("%(project)s: the details of the live session “%(title)s” on %(when)s changed.", **p, when=_when(p)),
)
register_kind(SessionNotice.CANCELLED.value, _cancelled)


def _places(project):
    return partner_places(link.school_class.school for link in project.classes)


def _form_page(template: str, project, role, form, status=200, **context):
    zone = current_user.zone_name
    return render_template(template, project=project, role=role, form=form, zone=zone, **context), status


@login_required
def new_session(project_id: int):
    project, role = load_project(project_id, *TEACHER_ROLES, write=True)
    # A proposal is a plain link that fills the form in (start_date, start_time, duration_minutes).
    prefill = request.args if request.method == "GET" and "start_date" in request.args else None
    form = NewSessionForm(formdata=prefill) if prefill is not None else NewSessionForm()
    zone = current_user.zone_name
    proposals = slot_proposals(queries.class_schedules(project), zone, _places(project), utcnow())
    if form.validate_on_submit():
        try:
            created = session_operations.schedule_sessions(
                project,
                current_user,
                title=form.title.data,
                day=form.start_date.data,
                at=form.start_time.data,
                zone=zone,
                duration_minutes=form.duration_minutes.data,
                meeting_url=form.meeting_url.data,
                description=form.description.data,
                repeat_weeks=form.repeat_weeks.data or 1,
            )
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return _form_page("projects/session_form.html", project, role, form, 400, proposals=proposals)
        db.session.commit()
        flash(
            ngettext("The live session is scheduled.", "%(num)d weekly live sessions are scheduled.", len(created)),
            "success",
        )
        return redirect(url_for("projects.session_detail", project_id=project.id, session_id=created[0].id))
    status = 400 if form.is_submitted() else 200
    return _form_page("projects/session_form.html", project, role, form, status, proposals=proposals)


def _edit_page(project, role, session, form, cancel_form, status=200):
    return _form_page(
        "projects/session_edit.html",
        project,
        role,
        form,
        status,
        session=session,
        cancel_form=cancel_form,
        in_series=queries.series_length(session) > 1,
    )


def _changeable(project_id: int, session_id: int):
    project, role = load_project(project_id, *TEACHER_ROLES, write=True)
    session = queries.session_for(project, session_id)
    return project, role, session


@login_required
def edit_session(project_id: int, session_id: int):
    project, role, session = _changeable(project_id, session_id)
    form = EditSessionForm()
    if not form.is_submitted():
        local = session.starts_at.astimezone(ZoneInfo(current_user.zone_name))
        form = EditSessionForm(formdata=None, obj=session, start_date=local.date(), start_time=local.time())
    if session.is_cancelled:
        flash(_("This session is cancelled: it cannot be changed any more."), "error")
        return redirect(url_for("projects.session_detail", project_id=project.id, session_id=session.id))
    if form.validate_on_submit():
        try:
            changed = session_operations.update_session(
                project,
                current_user,
                session,
                title=form.title.data,
                day=form.start_date.data,
                at=form.start_time.data,
                zone=current_user.zone_name,
                duration_minutes=form.duration_minutes.data,
                meeting_url=form.meeting_url.data,
                description=form.description.data,
                scope=Scope(form.scope.data),
            )
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return _edit_page(project, role, session, form, CancelSessionForm(formdata=None), 400)
        db.session.commit()
        if changed:
            flash(ngettext("The session is changed.", "%(num)d sessions are changed.", len(changed)), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("projects.session_detail", project_id=project.id, session_id=session.id))
    status = 400 if form.is_submitted() else 200
    return _edit_page(project, role, session, form, CancelSessionForm(formdata=None), status)


@login_required
def cancel_session(project_id: int, session_id: int):
    project, role, session = _changeable(project_id, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            cancelled = session_operations.cancel_session(
                project, current_user, session, form.reason.data, Scope(form.cancel_scope.data)
            )
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            message = ngettext("The session is cancelled.", "%(num)d sessions are cancelled.", len(cancelled))
            flash(message, "success")
            return redirect(url_for("projects.session_detail", project_id=project.id, session_id=session.id))
    local = session.starts_at.astimezone(ZoneInfo(current_user.zone_name))
    edit_form = EditSessionForm(formdata=None, obj=session, start_date=local.date(), start_time=local.time())
    return _edit_page(project, role, session, edit_form, form, 400)


@login_required
def exchange_calendar(project_id: int):
    """All the exchange's sessions in one .ics, cancelled ones included so calendars drop them."""
    project, role = load_project(project_id)
    listed = [
        (s, url_for("projects.session_detail", project_id=project.id, session_id=s.id, _external=True))
        for s in queries.sessions_of(project)
    ]
    body = exchange_ics(listed, request.host.split(":")[0], with_meeting_link=role != ProjectRole.VISITOR)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="crossclass-exchange-{project.id}.ics"'},
    )
