"""The people of an exchange and its invitation links: who is in, who may come in, and joining by link."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.auth.controllers import log_in_with_fresh_session
from app.auth.models import SchoolClass
from app.auth.queries import classes_of_teacher
from app.core.errors import AppError, PermissionDenied, attach_error
from app.extensions import db
from app.modules.projects import invites, operations, queries
from app.modules.projects.controllers import ROLE_LABELS, load_project
from app.modules.projects.forms import (
    INVITE_KIND_LABELS,
    GuestAccountForm,
    InviteForm,
    JoinWithClassForm,
    StartProjectForm,
)
from app.modules.projects.models import TEACHER_ROLES, InviteKind, ProjectRole


def _kind_labels() -> dict[str, str]:
    return {kind.value: str(label) for kind, label in INVITE_KIND_LABELS.items()}


def _class_choices(classes) -> list[SelectChoice]:
    return [SelectChoice(c.id, f"{c.name} · {c.vocational_field}") for c in classes]


def _people_page(project, role, form=None, new_invite=None, status=200):
    is_admin = role == ProjectRole.TEACHER_ADMIN
    return render_template(
        "projects/people.html",
        project=project,
        role=role,
        is_teacher=role in TEACHER_ROLES,
        can_invite=is_admin and not project.is_closed,
        members=queries.outside_members(project),
        role_labels=ROLE_LABELS,
        class_teacher_label=ROLE_LABELS[ProjectRole.TEACHER_ADMIN],
        kind_labels=_kind_labels(),
        open_invites=invites.open_invites(project) if is_admin else [],
        form=form or InviteForm(),
        new_invite=new_invite,
        new_link=url_for("projects.join", token=new_invite.token, _external=True) if new_invite else None,
    ), status


@login_required
def people(project_id: int):
    project, role = load_project(project_id)
    return _people_page(project, role)


@login_required
def create_invite(project_id: int):
    project, role = load_project(project_id, ProjectRole.TEACHER_ADMIN, write=True)
    form = InviteForm()
    if not form.validate_on_submit():
        return _people_page(project, role, form=form, status=400)
    try:
        new = invites.create_invite(
            project, current_user, InviteKind(form.kind.data), form.label.data, form.valid_days.data, form.max_uses.data
        )
    except AppError as error:
        db.session.rollback()
        attach_error(form, error)
        return _people_page(project, role, form=form, status=error.status)
    db.session.commit()
    # The link is shown this once (only its hash is kept), so the page is rendered, not redirected.
    return _people_page(project, role, new_invite=new)


@login_required
def revoke_invite(project_id: int, invite_id: int):
    project, _role = load_project(project_id, ProjectRole.TEACHER_ADMIN)
    invites.revoke_invite(project, invite_id)
    db.session.commit()
    flash(_("The link no longer works."), "success")
    return redirect(url_for("projects.people", project_id=project.id))


@login_required
def remove_member(project_id: int, member_id: int):
    project, _role = load_project(project_id, ProjectRole.TEACHER_ADMIN, write=True)
    member = invites.remove_member(project, member_id, current_user)
    db.session.commit()
    flash(_("%(name)s is no longer in this exchange.", name=member.user.display_name), "success")
    return redirect(url_for("projects.people", project_id=project.id))


def join(token: str):
    """An invitation link: anyone may open it; what they can do depends on who they are."""
    invite = invites.invite_by_token(token)
    class_form = JoinWithClassForm()
    account_form = GuestAccountForm()
    if current_user.is_authenticated:
        class_form.class_id.choices = _class_choices(invites.classes_that_may_join(invite, current_user))
    status = 200
    if request.method == "POST":
        form = class_form if current_user.is_authenticated else account_form
        if not form.validate_on_submit():
            status = 400
        else:
            try:
                if current_user.is_authenticated:
                    invites.accept_invite(invite, current_user, class_form.class_id.data)
                else:
                    guest = invites.create_guest_and_accept(
                        invite, account_form.display_name.data, account_form.email.data, account_form.password.data
                    )
                    log_in_with_fresh_session(guest)
            except AppError as error:
                db.session.rollback()
                attach_error(form, error)
                status = error.status
            else:
                db.session.commit()
                flash(_("Welcome to the exchange “%(title)s”.", title=invite.project.title), "success")
                return redirect(url_for("projects.project_detail", project_id=invite.project_id))
    return render_template(
        "projects/join.html",
        invite=invite,
        project=invite.project,
        kind_label=_kind_labels()[invite.kind.value],
        class_form=class_form,
        account_form=account_form,
        may_make_account=invite.kind in invites.ACCOUNT_FROM_LINK,
        login_url=url_for("auth.login", next=request.path),
    ), status


@login_required
def start_project():
    """A teacher starts an exchange with a partner they already know: first with their own
    class, then a partner link brings the partner's class in."""
    if not current_user.is_teacher or current_user.is_pending:
        raise PermissionDenied(_("Only a validated teacher can start an exchange."))
    form = StartProjectForm()
    form.class_id.choices = _class_choices(classes_of_teacher(current_user))
    if form.validate_on_submit():
        school_class = db.session.get(SchoolClass, form.class_id.data)
        project = operations.create_project(current_user.id, [school_class], form.title.data or None)
        db.session.commit()
        flash(_("The exchange is started. Now invite the partner class with a link."), "success")
        return redirect(url_for("projects.people", project_id=project.id))
    return render_template("projects/start.html", form=form), 400 if form.is_submitted() else 200
