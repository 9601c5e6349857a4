"""Routes of exchange projects, as one flat list."""

from flask import Blueprint

from app.modules.projects import controllers as c

bp = Blueprint("projects", __name__)

bp.add_url_rule("/exchanges", "projects", c.projects)
bp.add_url_rule("/exchanges/<int:project_id>", "project_detail", c.project_detail)
