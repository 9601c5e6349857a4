"""The CrossClass application factory."""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask, has_request_context, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from app.core.db import MAX_DB_INT
from app.core.security import TrustedProxies
from config import INSTANCE_DIR, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


class DatabaseIntConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(url_map, *args, **kwargs)


def create_app_or_exit() -> Flask:
    """For the `flask` command: a bad setting ends with its message, not a traceback."""
    try:
        return create_app()
    except ConfigError as error:
        sys.exit(f"CrossClass cannot start: {error}")


def create_app(overrides: dict | None = None, environ=None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(environ))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")
    if overrides:
        app.config.update(overrides)
    app.wsgi_app = TrustedProxies(app, app.wsgi_app)
    # Before any route is added: an <int:…> id too big for the database is a 404, not a 500.
    app.url_map.converters["int"] = DatabaseIntConverter

    from app.core.mail import init_mail
    from app.extensions import babel, csrf, db, login_manager, migrate

    init_mail(app)

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        from app.core.db import ping_after_idle

        with app.app_context():
            ping_after_idle(db.engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    else:
        from app.core.db import (
            commit_sqlite_off_the_event_loop,
            serving_under_gevent,
            wait_for_sqlite_lock_cooperatively,
        )

        if serving_under_gevent():
            with app.app_context():
                wait_for_sqlite_lock_cooperatively(db.engine)
                commit_sqlite_off_the_event_loop(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    _init_login(app, login_manager)

    from app.realtime import init_realtime

    init_realtime(app)

    from app.modules import register_modules

    register_modules(app)

    from app.auth.blueprint import bp as auth_bp
    from app.main.blueprint import bp as main_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)

    from app.core.errors import register_error_handlers
    from app.core.security import add_security_headers
    from app.core.templating import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)
    app.after_request(add_security_headers)
    app.before_request(_restrict_unfinished_accounts)

    from app.cli import register_cli

    register_cli(app)
    return app


def _init_login(app: Flask, login_manager) -> None:
    from flask_babel import lazy_gettext

    from app.auth.sessions import load_session_user
    from app.realtime.auth_cache import cached_user_loader

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    # "strong" would log out a whole school whenever its shared router changes address.
    login_manager.session_protection = "basic"
    login_manager._session_identifier_generator = _login_identifier_of_environ
    # Socket events keep their last check while nothing it read has changed (see there).
    login_manager.user_loader(cached_user_loader(load_session_user))


def _login_identifier_of_environ() -> str:
    """Flask-Login's session-protection identifier (a SHA-512 of address and user agent),
    made once per WSGI environ: every event of a socket runs on its handshake's environ, and
    hashed the same two headers again for each (about 2 % of a chat message's CPU)."""
    from flask_login.utils import _create_identifier

    environ = request.environ
    identifier = environ.get("crossclass.login_identifier")
    if identifier is None:
        identifier = environ["crossclass.login_identifier"] = _create_identifier()
    return identifier


def _select_locale():
    from flask import current_app

    if not has_request_context():
        return None  # CLI commands and background tasks: the default language

    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(list(languages)) or "en"


def _select_timezone():
    if current_user and current_user.is_authenticated:
        return current_user.zone_name
    return None


# Pages a user may still open before the account is ready to use.
_ALWAYS_ALLOWED = {
    "static",
    "auth.login",
    "auth.logout",
    "auth.set_language",
    "auth.forgot_password",
    "auth.reset_requested",
    "auth.reset_password",
    "main.health",
}
_PENDING_ALLOWED = _ALWAYS_ALLOWED | {"auth.profile", "auth.change_password", "main.dashboard"}
_PASSWORD_CHANGE_ALLOWED = _ALWAYS_ALLOWED | {"auth.change_password"}


def _restrict_unfinished_accounts():
    """Pending teachers may only edit their profile; a new pupil must first set a password."""
    if not current_user.is_authenticated or request.endpoint is None:
        return None
    if current_user.must_change_password and request.endpoint not in _PASSWORD_CHANGE_ALLOWED:
        return redirect(url_for("auth.change_password"))
    if current_user.is_pending and request.endpoint not in _PENDING_ALLOWED:
        return redirect(url_for("main.dashboard"))
    return None
