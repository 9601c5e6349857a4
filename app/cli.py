"""flask commands: create-admin, seed-demo."""

from __future__ import annotations

import functools

import click
from flask import current_app
from flask_babel import force_locale

from app.core.errors import AppError
from app.extensions import db


def _in_default_locale(command):
    """Messages of a command are translated without a request, so without a browser's language."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            return command(*args, **kwargs)

    return wrapped


def register_cli(app) -> None:
    @app.cli.command("create-admin")
    @click.option("--username", prompt=True)
    @click.option("--email", default="", prompt="E-mail (optional)", show_default=False)
    @click.password_option()
    @_in_default_locale
    def create_admin_command(username: str, email: str, password: str) -> None:
        """Create a platform administrator."""
        from app.auth.operations import create_admin

        try:
            admin = create_admin(username, email, password)
        except AppError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(f"Administrator {admin.username} created.")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has people.")
    @_in_default_locale
    def seed_demo_command(if_empty: bool) -> None:
        """Load demo schools, teachers, classes and students."""
        from app.demo import DEMO_PASSWORD, seed_demo

        try:
            created = seed_demo(only_if_empty=if_empty)
        except AppError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        if created:
            db.session.commit()
            click.echo(f"Demo data loaded: {created}. Every demo password is {DEMO_PASSWORD!r}.")
        else:
            click.echo("Demo data already present; nothing changed.")
