"""Exchange project pages: the list of my exchanges and one exchange."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.modules.projects import queries


@login_required
def projects():
    return render_template("projects/list.html", projects=queries.projects_of_user(current_user))


@login_required
def project_detail(project_id: int):
    project = queries.project_for_user(project_id, current_user)
    return render_template("projects/detail.html", project=project)
