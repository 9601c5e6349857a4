"""Forgotten password in a real browser, against a server of its own that sends through a real
SMTP server (aiosmtpd): the link on the login page, the generic answer, the link from the
e-mail, the new password, and the old one refused. Every page is checked with axe-core."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, PHONE, assert_accessible, log_in, screenshot
from tests.conftest import ServerProcess, free_port, prepare_database
from tests.mail_support import SmtpRecorder, link_in

pytestmark = pytest.mark.browser

COORDINATOR = "ana.porto@demo.crossclass.eu"
NEW_PASSWORD = "harbour-lights-2027"
GENERIC_ANSWER = "If an account exists for that address, we have sent a link to set a new password."


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory):
    """A seeded server of its own (the shared one keeps the demo passwords), mailing through SMTP."""
    recorder = SmtpRecorder()
    recorder.port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    database_url = f"sqlite:///{tmp_path_factory.mktemp('reset') / 'reset.db'}"
    prepare_database(database_url)
    server = ServerProcess(
        database_url,
        SECRET_KEY=secrets.token_hex(32),
        MAIL_URL=f"smtp://127.0.0.1:{recorder.port}",
        MAIL_FROM="CrossClass <no-reply@crossclass.test>",
    ).start()
    yield server, recorder
    server.stop()
    controller.stop()


def fill_login(page, login: str, password: str) -> None:
    page.get_by_label("Username or e-mail").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def test_a_teacher_resets_a_forgotten_password_in_the_browser(browser, mailing_server):
    server, smtp = mailing_server
    context = browser.new_context(base_url=server.url, viewport=PHONE, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_role("link", name="Forgot your password?").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
        assert_accessible(page)

        # Nothing typed: a clear error, no mail.
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
        expect(page.get_by_label("Your e-mail address")).to_have_attribute("aria-invalid", "true")
        assert_accessible(page)

        # An unknown address gets the generic answer.
        page.get_by_label("Your e-mail address").fill("nobody@example.eu")
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_role("status").filter(has_text=GENERIC_ANSWER)).to_be_visible()
        assert_accessible(page)
        screenshot(page, "password-reset-sent-phone")

        # The coordinator's own address: the same answer, and a mail with the link.
        page.goto("/password/forgot")
        page.get_by_label("Your e-mail address").fill(COORDINATOR)
        page.get_by_role("button", name="Send me a link").click()
        expect(page).to_have_url(f"{server.url}/password/forgot/sent")
        expect(page.get_by_role("status").filter(has_text=GENERIC_ANSWER)).to_be_visible()
        (message,) = smtp.wait_for(1)
        assert message["To"] == COORDINATOR
        link = link_in(message, re.escape(server.url) + r"/password/reset/\S+")

        page.goto(urlsplit(link).path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
        assert_accessible(page)
        page.get_by_label("New password", exact=True).fill("short")
        page.get_by_label("Repeat the new password").fill("short")
        page.get_by_role("button", name="Save the new password").click()
        expect(page.get_by_label("New password", exact=True)).to_have_attribute("aria-invalid", "true")
        assert_accessible(page)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Save the new password").click()
        expect(page).to_have_url(f"{server.url}/login")
        expect(page.get_by_text("Your new password is saved. Please log in with it.")).to_be_visible()

        # The link worked once.
        page.goto(urlsplit(link).path)
        expect(page.get_by_role("alert")).to_contain_text("This link does not work any more.")
        assert_accessible(page)

        page.goto("/login")
        fill_login(page, COORDINATOR, DEMO_PASSWORD)
        expect(page.get_by_role("alert")).to_contain_text("The username or password is not correct.")
        fill_login(page, COORDINATOR, NEW_PASSWORD)
        expect(page).to_have_url(re.compile(r"/dashboard$"))
    finally:
        context.close()


def test_a_teacher_turns_on_e_mail_updates_on_the_profile_page(page):
    log_in(page, "mikko.helsinki@demo.crossclass.eu")
    page.goto("/account/profile")
    box = page.get_by_label("E-mail me about invitations and session changes")
    expect(box).not_to_be_checked()
    expect(page.get_by_text("E-mails go to mikko.helsinki@demo.crossclass.eu.")).to_be_visible()
    assert_accessible(page)

    box.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(page.get_by_label("E-mail me about invitations and session changes")).to_be_checked()
    assert_accessible(page)
    screenshot(page, "profile-email-updates")
    page.get_by_label("E-mail me about invitations and session changes").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("E-mail me about invitations and session changes")).not_to_be_checked()
    page.context.watch.assert_clean()
