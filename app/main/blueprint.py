"""The home page and each role's dashboard."""

from flask import Blueprint

from app.main import controllers as c

bp = Blueprint("main", __name__)

bp.add_url_rule("/", "index", c.index)
bp.add_url_rule("/dashboard", "dashboard", c.dashboard)
bp.add_url_rule("/healthz", "health", c.health)
