"""Moderation in real browsers: a pupil reports a message, a teacher hides it from the queue,
the pupil sees the tombstone; a teacher mutes a pupil and their composer switches off live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.chat_support import (
    HELSINKI,
    LIVE,
    PORTO,
    TEACHER,
    chat_pages,
    exchange_script,
    message,
    say,
    start_chat_server,
)
from tests.browser.conftest import DEMO_PASSWORD, PHONE, assert_accessible

pytestmark = pytest.mark.browser

VISITOR = "parent.visitor@example.org"  # a parent who reads the exchange (role VISITOR)

_ADD_VISITOR = """
visitor = User(
    username={visitor!r}, email={visitor!r}, password_hash=hash_password({password!r}),
    display_name="Paula Parent", role=Role.GUEST, status=AccountStatus.ACTIVE,
)
db.session.add(visitor)
db.session.flush()
db.session.add(ProjectMember(project_id=project.id, user_id=visitor.id, role=ProjectRole.VISITOR))
print(project.id)
"""
_VISITOR_IMPORTS = """
from app.auth.models import AccountStatus, Role
from app.auth.passwords import hash_password
from app.modules.projects.models import ProjectMember, ProjectRole
"""


@pytest.fixture(scope="module")
def moderation_server(tmp_path_factory):
    script = exchange_script(
        "Moderated kitchen", _ADD_VISITOR.format(visitor=VISITOR, password=DEMO_PASSWORD), _VISITOR_IMPORTS
    )
    server = start_chat_server(tmp_path_factory, "moderation", script)
    yield server
    server.stop()


@pytest.fixture
def open_page(browser, moderation_server):
    with chat_pages(browser, moderation_server) as open_as:
        yield open_as


def test_report_hide_from_the_queue_and_mute(open_page, moderation_server):
    porto = open_page(PORTO, viewport=PHONE)
    helsinki = open_page(HELSINKI)
    teacher = open_page(TEACHER)

    say(helsinki, "Your food looks disgusting")
    expect(message(porto, "Your food looks disgusting")).to_be_visible(timeout=LIVE)
    # Nobody reports their own message.
    expect(
        message(helsinki, "Your food looks disgusting").get_by_role("button", name=re.compile("^Report"))
    ).to_have_count(0)

    # The pupil reports it, with the keyboard, in an accessible dialog.
    message(porto, "Your food looks disgusting").get_by_role("button", name=re.compile("^Report")).focus()
    porto.keyboard.press("Enter")
    dialog = porto.get_by_role("dialog", name="Report this message")
    expect(dialog).to_be_visible()
    assert_accessible(porto)
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose a reason for your report.")
    dialog.get_by_label("Bullying or hurtful").check()
    dialog.get_by_label("More details (optional)").fill("Not nice to our class.")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog).to_be_hidden()
    expect(porto.locator("[data-chat-status]")).to_contain_text("teachers of this exchange will look", timeout=LIVE)

    # The teacher's open chat page learns of it live; the queue shows it, reporter included.
    expect(teacher.locator("[data-open-reports]")).to_have_text("1", timeout=LIVE)
    teacher.goto(f"/exchanges/{moderation_server.project_id}/moderation")
    item = teacher.locator("[data-reported-message]", has_text="Your food looks disgusting")
    expect(item).to_contain_text("Bullying or hurtful")
    expect(item).to_contain_text("Not nice to our class.")
    assert_accessible(teacher)
    item.get_by_role("button", name=re.compile("^Hide the message")).click()
    expect(teacher.locator(".alert-success")).to_contain_text("hidden")
    expect(teacher.get_by_text("No open reports")).to_be_visible()

    # The pupils' pages show the tombstone, live.
    for page in (porto, helsinki):
        expect(message(page, "Your food looks disgusting")).to_have_count(0, timeout=LIVE)
        expect(page.locator(".chat-tombstone", has_text="hidden by a teacher")).to_have_count(1)

    # The teacher mutes the pupil from the chat; the pupil's composer switches off live.
    say(helsinki, "Sorry, I was joking")
    teacher.goto(f"/exchanges/{moderation_server.project_id}/chat")
    expect(teacher.locator("[data-chat]")).to_have_attribute("data-joined", "true", timeout=LIVE)
    message(teacher, "Sorry, I was joking").get_by_role("button", name=re.compile("^Mute author")).click()
    mute = teacher.get_by_role("dialog", name="Mute the author")
    expect(mute).to_be_visible()
    assert_accessible(teacher)
    mute.get_by_label("For how long").select_option(label="15 minutes")
    mute.get_by_role("button", name="Mute", exact=True).click()
    expect(mute).to_be_hidden()
    expect(helsinki.get_by_label("Your message")).to_be_disabled(timeout=LIVE)
    expect(helsinki.locator("[data-chat-muted]")).to_contain_text("A teacher has muted you until")
    assert_accessible(helsinki)
    expect(porto.get_by_label("Your message")).to_be_enabled()

    # After a reload the pupil is still muted; lifting it gives the composer back, live.
    helsinki.reload()
    expect(helsinki.get_by_label("Your message")).to_be_disabled(timeout=LIVE)
    teacher.goto(f"/exchanges/{moderation_server.project_id}/moderation")
    teacher.get_by_role("button", name=re.compile("^Lift")).click()
    expect(helsinki.get_by_label("Your message")).to_be_enabled(timeout=LIVE)
    log = teacher.goto(f"/exchanges/{moderation_server.project_id}/moderation/log")
    assert log.status == 200
    expect(teacher.locator("[data-log-action]")).to_have_count(5)  # report, acted, hide, mute, unmute
    assert_accessible(teacher)


def test_a_visitor_without_a_composer_can_report(open_page):
    helsinki = open_page(HELSINKI)
    visitor = open_page(VISITOR)
    expect(visitor.get_by_label("Your message")).to_have_count(0)  # a visitor reads only

    say(helsinki, "Come and see our kitchen at 5")
    seen = message(visitor, "Come and see our kitchen at 5")
    expect(seen).to_be_visible(timeout=LIVE)
    expect(seen.get_by_role("button", name="Reply")).to_have_count(0)
    seen.get_by_role("button", name=re.compile("^Report")).click()
    dialog = visitor.get_by_role("dialog", name="Report this message")
    expect(dialog).to_be_visible()
    assert_accessible(visitor)
    dialog.get_by_label("Shares personal data").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog).to_be_hidden()
    expect(visitor.locator("[data-chat-status]")).to_contain_text("teachers of this exchange will look", timeout=LIVE)
