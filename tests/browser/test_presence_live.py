"""Live presence, end to end: a teacher's open dashboard follows a pupil logging in and leaving."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible, log_in

pytestmark = pytest.mark.browser

TEACHER = "ana.porto@demo.crossclass.eu"
STUDENT = "student.porto.1"
STUDENT_NAME = "Cozinha 1"  # display name of student.porto.1 in the demo data
LIVE = 8_000  # ms: "within a few seconds"


def test_teacher_sees_a_student_come_online_and_go_offline_without_reloading(new_context):
    teacher = new_context().new_page()
    log_in(teacher, TEACHER)
    panel = teacher.locator("#presence-panel")
    expect(panel).to_have_attribute("data-synced", "true", timeout=LIVE)
    expect(panel.locator("[data-live-status]")).to_have_text("Live: updates by itself")
    item = panel.locator("[data-user-id]").filter(
        has=teacher.locator(".name", has_text=re.compile(f"^{STUDENT_NAME}$"))
    )
    expect(item).to_have_count(1)
    expect(item).to_have_attribute("data-online", "false")
    expect(item.locator(".state")).to_have_text("offline")
    assert_accessible(teacher)
    # A marker that a reload would wipe: the updates must arrive on this very page.
    teacher.evaluate("() => { window.presenceMarker = 'still the same page'; }")

    student_context = new_context(viewport=PHONE)
    student = student_context.new_page()
    log_in(student, STUDENT)
    expect(student.get_by_role("heading", level=1)).to_have_text(f"Hello {STUDENT_NAME}")

    expect(item).to_have_attribute("data-online", "true", timeout=LIVE)
    expect(item.locator(".state")).to_have_text("online now")
    # Only that student came online.
    expect(panel.locator('[data-online="true"]')).to_have_count(1)
    assert_accessible(teacher)

    student.close()
    expect(item).to_have_attribute("data-online", "false", timeout=LIVE)
    expect(item.locator(".state")).to_have_text("offline")
    assert teacher.evaluate("() => window.presenceMarker") == "still the same page"

    teacher.context.watch.assert_clean()
    student_context.watch.assert_clean()
