"""Team pages a teacher acts on: forming teams (with a summary of what was done) and their
settings. Load, check the role, act, commit once."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.core.errors import AppError, attach_error
from app.extensions import db
from app.modules.projects import operations, queries
from app.modules.projects.controllers import load_project, teams_page
from app.modules.projects.forms import GenerateTeamsForm
from app.modules.projects.models import TEACHER_ROLES
from app.modules.projects.teams import TeamMode, TeamPlan, size_first_count


def team_summary(plan: TeamPlan) -> str:
    """What forming the teams did, in counts only: the flash is seen by teachers, yet a summary
    that names no pupil can be shared or logged without thinking twice."""
    count = len(plan.teams)
    if plan.smallest_size == plan.largest_size:
        sentences = [
            ngettext(
                "%(num)d team of %(size)d pupils.", "%(num)d teams of %(size)d pupils.", count, size=plan.largest_size
            )
        ]
    else:
        sentences = [
            ngettext(
                "%(num)d team of %(low)d–%(high)d pupils.",
                "%(num)d teams of %(low)d–%(high)d pupils.",
                count,
                low=plan.smallest_size,
                high=plan.largest_size,
            )
        ]
    two = plan.school_count == 2
    if plan.school_count < 2:
        sentences.append(_("Only one school has pupils yet, so no team can be mixed."))
    elif plan.mode == TeamMode.MIXED:
        sentences.append(_("Every team has pupils of at least two schools."))
        total = sum(map(len, plan.teams))
        if count < size_first_count(total, plan.asked_size):
            if two:
                sentences.append(
                    ngettext(
                        "The teams are larger than asked because the smaller school has only %(num)d pupil.",
                        "The teams are larger than asked because the smaller school has only %(num)d pupils.",
                        plan.smallest_school_pupils,
                    )
                )
            else:
                sentences.append(_("The teams are larger than asked, so that every team can be mixed."))
    else:
        if plan.smallest_school_pupils >= count:
            sentences.append(
                _("The smaller school has pupils in every team.")
                if two
                else _("The smallest school has pupils in every team.")
            )
        elif two:
            sentences.append(
                ngettext(
                    "The smaller school has one pupil in %(num)d team.",
                    "The smaller school has one pupil in each of %(num)d teams.",
                    plan.smallest_school_teams,
                )
            )
        else:
            sentences.append(
                ngettext(
                    "The smallest school has one pupil in %(num)d team.",
                    "The smallest school has one pupil in each of %(num)d teams.",
                    plan.smallest_school_teams,
                )
            )
        if plan.unmixed_teams:
            sentences.append(
                ngettext(
                    "%(num)d team has pupils of one school only.",
                    "%(num)d teams have pupils of one school only.",
                    plan.unmixed_teams,
                )
            )
        else:
            sentences.append(_("Every team has pupils of at least two schools."))
    return " ".join(sentences)


@login_required
def generate_teams(project_id: int):
    project, role = load_project(project_id, *TEACHER_ROLES, write=True)
    form = GenerateTeamsForm()
    if form.validate_on_submit():
        try:
            plan = operations.generate_teams(project, current_user, form.team_size.data, TeamMode(form.mode.data))
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return teams_page(project, role, 400, generate_form=form)
        db.session.commit()
        flash(team_summary(plan), "success")
        return redirect(url_for("projects.teams", project_id=project.id))
    return teams_page(project, role, 400, generate_form=form)


@login_required
def direct_messages(project_id: int, team_id: int):
    # The CSRF token is checked for every POST by CSRFProtect before this runs.
    project = queries.project_for_user(project_id, current_user)
    queries.require_project_role(project, current_user, *TEACHER_ROLES)
    team = queries.team_for(project, team_id)
    allowed = request.form.get("allow") == "on"
    operations.set_direct_messages(project, current_user, team, allowed)
    db.session.commit()
    if allowed:
        flash(_("The pupils of %(team)s can now write to each other privately.", team=team.name), "success")
    else:
        flash(_("Direct messages in %(team)s are stopped. Earlier ones stay readable.", team=team.name), "success")
    return redirect(url_for("projects.teams", project_id=project.id))
