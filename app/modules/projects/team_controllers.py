"""Team settings a teacher switches on the teams page: load, check the role, act, commit once."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.modules.projects import operations, queries
from app.modules.projects.models import TEACHER_ROLES


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
