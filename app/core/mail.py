"""E-mail, built once below the modules that send it.

MAIL_URL names an SMTP server (smtp:// with optional STARTTLS, or smtps://). Without it,
each message is written as an .eml file into instance/outbox/ and its path is logged, so a
local set-up works with no mail server and a developer can open what would have been sent.

Messages are handed over only after the database commit (app/core/after_commit.py): no
mail goes out for a change that was rolled back. They are then sent in the background, so a
slow or failing server neither delays nor breaks the request; a failure is logged.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from flask_babel import force_locale

from app.core.after_commit import run_after_commit
from app.core.db import utcnow
from app.extensions import db

log = logging.getLogger(__name__)
_EXTENSION = "crossclass_mail"


class Mailer:
    """Sends messages through SMTP, or writes them to the outbox folder; in the background."""

    def __init__(self, smtp: dict | None, outbox_dir: str, timeout: float):
        self.smtp = smtp
        self.outbox_dir = Path(outbox_dir)
        self.timeout = timeout
        self._sending: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def deliver(self, message: EmailMessage) -> None:
        """Starts sending and returns at once (a greenlet under gevent, a thread elsewhere)."""
        thread = threading.Thread(target=self._deliver_in_background, args=(message,), daemon=True)
        with self._lock:
            self._sending.add(thread)
        thread.start()

    def _deliver_in_background(self, message: EmailMessage) -> None:
        try:
            self.send_now(message)
        finally:
            with self._lock:
                self._sending.discard(threading.current_thread())

    def send_now(self, message: EmailMessage) -> bool:
        """Sends one message; a failure is logged and reported as False, never raised."""
        try:
            if self.smtp is None:
                self._write_to_outbox(message)
            else:
                self._send_by_smtp(message)
        except Exception:
            # The change the mail is about is committed; the person can ask again (a reset
            # link) or sees the same news in the app (notifications).
            log.exception("could not send the e-mail %r to %s", message["Subject"], message["To"])
            return False
        return True

    def wait_until_sent(self, timeout: float = 10) -> bool:
        """Waits for the messages being sent now; False if some are still going after `timeout`.

        For tests and for a clean shutdown: requests never wait for mail.
        """
        with self._lock:
            threads = list(self._sending)
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)

    def _send_by_smtp(self, message: EmailMessage) -> None:
        settings = self.smtp
        context = ssl.create_default_context()
        if settings["ssl"]:
            server = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=self.timeout, context=context)
        else:
            server = smtplib.SMTP(settings["host"], settings["port"], timeout=self.timeout)
        with server:
            if settings["starttls"]:
                server.starttls(context=context)
            if settings["username"]:
                server.login(settings["username"], settings["password"] or "")
            server.send_message(message)

    def _write_to_outbox(self, message: EmailMessage) -> None:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        path = self.outbox_dir / f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
        # Only the server's own user may read it: a reset link is as good as a password.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(message.as_bytes())
        log.warning(
            "MAIL_URL is not set: the e-mail %r to %s was written to %s", message["Subject"], message["To"], path
        )


def init_mail(app: Flask) -> None:
    app.extensions[_EXTENSION] = Mailer(
        app.config["MAIL_SMTP"], app.config["MAIL_OUTBOX_DIR"], app.config["MAIL_TIMEOUT_SECONDS"]
    )


def mailer(app: Flask | None = None) -> Mailer:
    return (app or current_app).extensions[_EXTENSION]


def absolute_url(path: str) -> str:
    """A link for an e-mail: the site's own origin, never one taken from an unchecked Host
    header (a forged Host would otherwise send a reset link to another site)."""
    origins = current_app.config["ALLOWED_ORIGINS"]
    origin = origins[0]
    if has_request_context() and request.host_url.rstrip("/") in origins:
        origin = request.host_url.rstrip("/")
    return origin + path


def compose_mail(to: str, locale: str | None, subject, template: str, **context) -> EmailMessage:
    """A message in the recipient's language: plain text from `<template>.txt` with an HTML
    alternative from `<template>.html`; `subject` is a lazy string, translated here."""
    locale = locale if locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
    environment = current_app.jinja_env
    # Straight from the environment, not render_template: the page context processors need a
    # request, and mail is also composed outside one (a CLI command).
    with force_locale(locale):
        # One line: a line break in a class or person's name must not end the header.
        subject_text = " ".join(str(subject).split())
        values = {**context, "subject": subject_text, "locale": locale}
        text = environment.get_template(f"{template}.txt").render(values)
        html = environment.get_template(f"{template}.html").render(values)
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["Subject"] = subject_text
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].partition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a no-reply sender
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_after_commit(message: EmailMessage) -> None:
    """Sends the message once the current transaction commits; nothing if it rolls back."""
    run_after_commit(
        db.session, functools.partial(mailer().deliver, message), f"send the e-mail {message['Subject']!r}"
    )
