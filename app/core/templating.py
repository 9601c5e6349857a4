"""Template filters and globals used across pages."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale

from app.core.geo import country_name
from app.core.timefmt import format_local, viewer_zone


def register_template_helpers(app) -> None:
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["country_name"] = country_name

    @app.context_processor
    def inject_globals():
        return {
            "languages": current_app.config["LANGUAGES"],
            "current_locale": str(get_locale()),
            "viewer_zone": viewer_zone,
            "current_path": request.full_path.rstrip("?"),
        }
