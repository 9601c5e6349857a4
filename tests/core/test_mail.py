"""The mail layer: the outbox folder without MAIL_URL, SMTP (with login) with it, nothing sent
for a rolled-back change, and a failing server logged without breaking the request."""

from __future__ import annotations

import logging
import stat
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask_babel import lazy_gettext as _l

from app.core.mail import Mailer, compose_mail, mailer, send_after_commit
from app.extensions import db
from config import load_config
from tests.conftest import free_port, post_form
from tests.mail_support import SmtpRecorder, html_body, text_body


@pytest.fixture
def mail_log(monkeypatch, caplog):
    # Alembic's fileConfig() disables the loggers that exist when a test app migrates.
    monkeypatch.setattr(logging.getLogger("app.core.mail"), "disabled", False)
    caplog.set_level(logging.INFO, logger="app.core.mail")
    return caplog


def message_to(address: str):
    return compose_mail(
        address,
        "en",
        _l("Reset your CrossClass password"),
        "auth/mail/password_reset",
        user=_Person(),
        link="http://localhost/x",
        minutes=60,
    )


class _Person:
    display_name = "Ana Lima"


def test_without_mail_url_each_message_is_an_eml_file_in_the_outbox(app, client, make, mail_log):
    teacher = make.teacher(display_name="Ana Lima")
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    assert app.config["MAIL_SMTP"] is None  # the test app has no MAIL_URL

    response = post_form(client, "/password/forgot", {"email": teacher.email}, page="/password/forgot")

    assert response.status_code == 302
    assert mailer(app).wait_until_sent(10)
    (written,) = set(outbox.glob("*.eml")) - before
    message = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert message["To"] == teacher.email and message["Subject"] == "Reset your CrossClass password"
    assert "http://localhost/password/reset/" in text_body(message)
    assert "Hello Ana Lima," in html_body(message)
    # Only the server's user may read it, and the log says where it is.
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert str(written) in mail_log.text and "MAIL_URL is not set" in mail_log.text


def test_a_message_queued_in_a_rolled_back_transaction_is_never_sent(app, smtp_server, mail_via_smtp):
    send_after_commit(message_to("rolled-back@example.eu"))
    db.session.rollback()
    db.session.commit()
    send_after_commit(message_to("kept@example.eu"))
    assert smtp_server.messages == []  # waits for the commit
    db.session.commit()

    mail_via_smtp()
    (message,) = smtp_server.wait_for(1)
    time.sleep(0.2)
    assert [m["To"] for m in smtp_server.messages] == ["kept@example.eu"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None


def test_a_mail_server_that_is_down_is_logged_and_the_request_still_succeeds(app, client, make, monkeypatch, mail_log):
    closed_port = free_port()  # nothing listens there
    smtp = load_config({"SECRET_KEY": "k" * 40, "MAIL_URL": f"smtp://127.0.0.1:{closed_port}", "MAIL_FROM": "a@b.eu"})
    monkeypatch.setitem(app.extensions, "crossclass_mail", Mailer(smtp["MAIL_SMTP"], app.config["MAIL_OUTBOX_DIR"], 5))
    teacher = make.teacher()

    response = post_form(client, "/password/forgot", {"email": teacher.email}, page="/password/forgot")

    assert response.status_code == 302 and response.headers["Location"] == "/password/forgot/sent"
    assert mailer(app).wait_until_sent(10)
    assert f"could not send the e-mail 'Reset your CrossClass password' to {teacher.email}" in mail_log.text
    assert "Connection refused" in mail_log.text


# A test server on the loopback without TLS: aiosmtpd warns about AUTH in the clear.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_uses_the_credentials_of_mail_url(app):
    logins = []

    def authenticator(server, session, envelope, mechanism, data):
        logins.append((mechanism, data.login, data.password) if isinstance(data, LoginPassword) else mechanism)
        return AuthResult(success=isinstance(data, LoginPassword) and data.password == b"p@ss:word")

    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        config = load_config(
            {
                "SECRET_KEY": "k" * 40,
                "MAIL_URL": f"smtp://crossclass:p%40ss%3Aword@127.0.0.1:{port}",
                "MAIL_FROM": "a@b.eu",
            }
        )
        good = Mailer(config["MAIL_SMTP"], "unused", 5)
        assert good.send_now(message_to("teacher@example.eu")) is True
        wrong = Mailer({**config["MAIL_SMTP"], "password": "guess"}, "unused", 5)
        assert wrong.send_now(message_to("teacher@example.eu")) is False
    finally:
        controller.stop()
    assert [m["To"] for m in recorder.messages] == ["teacher@example.eu"]
    assert logins[0][1:] == (b"crossclass", b"p@ss:word")


def test_a_line_break_in_a_name_cannot_add_a_header(app):
    message = compose_mail(
        "teacher@example.eu",
        "en",
        "Cozinha\r\nBcc: someone@example.eu",
        "auth/mail/password_reset",
        user=_Person(),
        link="http://localhost/x",
        minutes=60,
    )

    assert message["Subject"] == "Cozinha Bcc: someone@example.eu"
    assert message["Bcc"] is None
