"""A real SMTP server for the mail tests (aiosmtpd on a free port), and an app pointed at it.

Import the fixtures into a conftest.py: `from tests.mail_support import mail_via_smtp, smtp_server`.
"""

from __future__ import annotations

import asyncio
import email
import re
import threading
import time
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from app.core.mail import Mailer, mailer
from config import load_config
from tests.conftest import free_port


class SmtpRecorder:
    """aiosmtpd handler: keeps every message it is given, parsed."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()
        self.port = 0
        self.delay = 0.0  # seconds the server takes to accept each message: a slow server

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} e-mails, {len(self.messages)} arrived"
                self._arrived.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


def text_body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_body(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message: EmailMessage, pattern: str = r"https?://\S+") -> str:
    match = re.search(pattern, text_body(message))
    assert match, text_body(message)
    return match.group(0)


@pytest.fixture
def smtp_server():
    recorder = SmtpRecorder()
    recorder.port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    yield recorder
    controller.stop()


@pytest.fixture
def mail_via_smtp(app, smtp_server, monkeypatch):
    """The app sends through the test's SMTP server, as with MAIL_URL=smtp://127.0.0.1:<port>.

    Yields a function that waits until every message handed over so far has been sent.
    """
    config = load_config(
        {
            "SECRET_KEY": "k" * 40,
            "MAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
            "MAIL_FROM": "CrossClass <no-reply@crossclass.test>",
        }
    )
    monkeypatch.setitem(
        app.extensions, "crossclass_mail", Mailer(config["MAIL_SMTP"], app.config["MAIL_OUTBOX_DIR"], 5)
    )
    monkeypatch.setitem(app.config, "MAIL_FROM", config["MAIL_FROM"])

    def wait_until_sent() -> None:
        assert mailer(app).wait_until_sent(10), "mail still being sent after 10 s"

    return wait_until_sent
