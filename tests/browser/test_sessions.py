"""Live sessions that change, in a real browser on a phone: the teacher picks a time from the two
classes' shared weekly slots, schedules a weekly series, moves the rest of it, and cancels
one session with a reason; a partner pupil sees the cancellation. axe-core on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible, log_in, screenshot
from tests.browser.test_projects import PUPIL, TEACHER, assert_fits, project_id  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def unread_badge(page) -> int:
    badge = page.locator("[data-unread-count]")
    return int(badge.evaluate("node => node.firstChild.textContent"))


def test_propose_schedule_change_and_cancel_on_a_phone(new_context, project_id):  # noqa: F811
    # A partner pupil has the exchange open all along: the changes reach her live.
    pupil_context = new_context(viewport=PHONE)
    pupil = pupil_context.new_page()
    log_in(pupil, PUPIL)
    pupil.goto(f"/exchanges/{project_id}/sessions")
    pupil.wait_for_load_state("load")
    unread_before = unread_badge(pupil)

    context = new_context(viewport=PHONE)
    teacher = context.new_page()
    log_in(teacher, TEACHER)
    teacher.goto(f"/exchanges/{project_id}/sessions")
    teacher.get_by_role("link", name="Schedule a session").click()

    # The demo classes share Tuesday and Thursday slots: the form proposes concrete times.
    proposals = teacher.get_by_test_id("slot-proposals").get_by_role("link")
    expect(proposals.first).to_contain_text("your time · ")
    expect(proposals.first).to_contain_text("in Helsinki")
    assert_accessible(teacher)
    assert_fits(teacher)
    screenshot(teacher, "session-proposals-phone")
    href = proposals.first.get_attribute("href")
    day = re.search(r"start_date=([\d-]+)", href).group(1)
    clock = re.search(r"start_time=(\d\d)(?:%3A|:)(\d\d)", href)
    proposals.first.click()
    expect(teacher.get_by_label("Date")).to_have_value(day)
    expect(teacher.get_by_label("Start time")).to_have_value(f"{clock.group(1)}:{clock.group(2)}")
    expect(teacher.get_by_label("Duration (minutes)")).to_have_value("60")

    teacher.get_by_label("Title").fill("Kitchen and code")
    teacher.get_by_label("Repeat weekly for (weeks)").fill("3")
    teacher.get_by_label("Video meeting link").fill("https://meet.example.eu/kitchen-code")
    teacher.get_by_role("button", name="Schedule", exact=True).click()
    expect(teacher.locator(".flashes")).to_contain_text("3 weekly live sessions are scheduled.")
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Kitchen and code")
    assert_accessible(teacher)

    teacher.get_by_role("link", name="Change or cancel").click()
    expect(teacher.get_by_label("Date")).to_have_value(day)
    assert_accessible(teacher)
    assert_fits(teacher)
    teacher.get_by_label("Title").fill("Kitchen and code, together")
    teacher.get_by_label("Duration (minutes)").fill("45")
    teacher.get_by_label("This and the following sessions of the series").first.check()
    teacher.get_by_role("button", name="Save the change").click()
    expect(teacher.locator(".flashes")).to_contain_text("3 sessions are changed.")
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Kitchen and code, together")
    expect(teacher.get_by_text("45 minutes")).to_be_visible()

    teacher.get_by_role("link", name="Change or cancel").click()
    teacher.get_by_role("button", name="Cancel the session").click()
    expect(teacher.locator("#reason-error")).to_have_text("Please say why the session is cancelled.")
    assert_accessible(teacher)
    teacher.get_by_label("Reason").fill("The kitchen is closed for inspection.")
    teacher.get_by_role("button", name="Cancel the session").click()
    expect(teacher.locator(".flashes")).to_contain_text("The session is cancelled.")
    expect(teacher.get_by_test_id("session-cancelled")).to_have_text("Cancelled: The kitchen is closed for inspection.")
    expect(teacher.get_by_role("link", name="Change or cancel")).to_have_count(0)
    assert_accessible(teacher)
    assert_fits(teacher)
    screenshot(teacher, "session-cancelled-phone")
    context.watch.assert_clean()

    # Told live, without a reload: the badge counts the news (scheduled, changed, cancelled:
    # one notification each for the whole series), and screen readers hear it.
    expect(pupil.locator("[data-notification-announce]")).to_have_text("New notification")
    pupil.wait_for_function(
        "expected => document.querySelector('[data-unread-count]').firstChild.textContent === String(expected)",
        arg=unread_before + 3,
    )
    live_count = unread_badge(pupil)
    pupil.reload()
    assert unread_badge(pupil) == live_count  # the live count is the stored one
    expect(pupil.get_by_text("The kitchen is closed for inspection.")).to_have_count(1)
    expect(pupil.get_by_role("link", name="Kitchen and code, together", exact=True)).to_have_count(3)
    assert_accessible(pupil)
    pupil.goto("/notifications")
    expect(pupil.get_by_text(re.compile("“Kitchen and code, together” on .* is cancelled")).first).to_be_visible()
    assert_accessible(pupil)
    pupil_context.watch.assert_clean()
