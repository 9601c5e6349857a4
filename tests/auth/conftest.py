"""Helpers for the account, school and class tests."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db, socketio
from tests.conftest import FreshContextClient, environ_for_tests


def count(model, *conditions) -> int:
    """Rows of a model in the database now (not what the test session remembers)."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def text_of(response) -> str:
    """The page's text with entities decoded, so messages can be compared as written."""
    return unescape(response.get_data(as_text=True))


def field_error(response, field_id: str) -> str:
    """The error shown beside a form field (macros.field renders it as #<id>-error)."""
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    return unescape(match.group(1)) if match else ""


@pytest.fixture
def build_app(tmp_path):
    """Builds an extra app from a custom environment.

    create_app binds the process-wide Socket.IO object to the app it makes; the state of
    that object is put back afterwards so later socket tests still talk to their own app.
    """
    saved = dict(vars(socketio))
    saved["server_options"] = dict(socketio.server_options)

    def build(**environ):
        application = create_app(
            {"TESTING": True}, environ=environ_for_tests(f"sqlite:///{tmp_path / 'extra.db'}", tmp_path, **environ)
        )
        application.test_client_class = FreshContextClient
        return application

    yield build
    vars(socketio).clear()
    vars(socketio).update(saved)


# A real SMTP server for the password-reset mail (tests/mail_support.py).
from tests.mail_support import mail_via_smtp, smtp_server  # noqa: E402, F401
