"""Partner matching in a real browser, two teachers in two contexts.

João (Porto) opens the suggestions for his class, reads why the best partner fits, and
invites it; Jorge (Valencia), on his phone, sees the notification arrive live, opens it and
accepts; both then see the new exchange. Every page on the way is checked with axe-core.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser

INVITER = "joao.porto@demo.crossclass.eu"
PARTNER = "jorge.valencia@demo.crossclass.eu"
MY_CLASS = "Restaurante 12B"
PARTNER_CLASS = "Cocina y Gastronomía 1"
EXCHANGE = f"{MY_CLASS} × {PARTNER_CLASS}"


def test_a_teacher_invites_a_suggested_class_and_the_partner_accepts(new_context, live_server):
    # --- the partner teacher is already logged in, on the phone --------------------------
    partner_context = new_context(viewport=PHONE)
    partner = partner_context.new_page()
    log_in(partner, PARTNER)
    expect(partner.get_by_role("heading", level=1)).to_have_text("Hello Jorge Martín")
    badge = partner.locator("[data-unread-count]")
    expect(badge).to_be_hidden()

    # --- João finds partners for his class ----------------------------------------------
    inviter_context = new_context()
    teacher = inviter_context.new_page()
    log_in(teacher, INVITER)
    teacher.get_by_role("link", name="Partners", exact=True).click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Find partner classes")
    assert_accessible(teacher)

    # His class's partner profile: a mistake is shown beside its field, nothing is saved.
    teacher.get_by_role("link", name=f"Edit partner profile of {MY_CLASS}").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Partner profile of {MY_CLASS}")
    expect(teacher.locator("[data-class-field]")).to_have_text(re.compile(r"Hotel, restaurants and catering \(1013\)"))
    assert_accessible(teacher)
    teacher.get_by_label("End of time slot 1").fill("08:00")
    teacher.get_by_role("button", name="Save and see partners").click()
    expect(teacher.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    expect(teacher.locator("#slot_1_to-error")).to_have_text("The end must be after the start.")
    assert_accessible(teacher)
    screenshot(teacher, "matching-profile-error")
    teacher.get_by_role("link", name="Cancel").click()

    teacher.get_by_role("link", name=f"Suggested partners for {MY_CLASS}").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Partners for {MY_CLASS}")
    suggestions = teacher.locator("li.suggestion")
    expect(suggestions.first.get_by_role("heading", level=2)).to_have_text(PARTNER_CLASS)
    # Never a class of his own country; the best one first, with its reasons.
    expect(teacher.locator("li.suggestion h2", has_text="Cozinha 11A")).to_have_count(0)
    first = suggestions.first
    expect(first).to_contain_text(re.compile(r"Score \d+ of 100"))
    first.get_by_text("Why this score").click()
    expect(first).to_contain_text("Same vocational field: Hotel, restaurants and catering (ISCED 1013)")
    expect(first).to_contain_text("in Porto = ")
    assert_accessible(teacher)
    screenshot(teacher, "matching-suggestions")

    # Filtering by country keeps only Spanish classes.
    teacher.get_by_label("Country").select_option(label="Spain")
    teacher.get_by_role("button", name="Filter").click()
    expect(teacher.locator("li.suggestion").first).to_contain_text("Valencia (Spain)")
    assert_accessible(teacher)

    first = teacher.locator("li.suggestion").first
    first.get_by_role("link", name=f"Invite {PARTNER_CLASS}").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Invite {PARTNER_CLASS}")
    assert_accessible(teacher)
    teacher.get_by_label("Message to the teacher").fill("Olá Jorge! Shall our classes cook together this spring?")
    teacher.get_by_role("button", name="Send the invitation").click()
    expect(teacher.get_by_role("status")).to_contain_text(f"Your invitation to {PARTNER_CLASS} is sent.")
    assert_accessible(teacher)

    # --- Jorge sees it arrive without reloading, and accepts ------------------------------
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("1")
    partner.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(partner.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(partner.locator(".notifications")).to_contain_text(
        f"João Matos invites your class {PARTNER_CLASS} to an exchange with {MY_CLASS}."
    )
    assert_accessible(partner)
    screenshot(partner, "matching-notifications-phone")
    partner.get_by_role("button", name=re.compile("^Open")).first.click()
    expect(partner.get_by_role("heading", level=1)).to_contain_text(f"Invitation from {MY_CLASS}")
    expect(partner.locator(".message")).to_have_text("Olá Jorge! Shall our classes cook together this spring?")
    assert_accessible(partner)
    partner.get_by_role("button", name="Accept and start the exchange").click()
    expect(partner.get_by_role("heading", level=1)).to_have_text(EXCHANGE)
    expect(partner.get_by_role("status")).to_contain_text("You accepted: the exchange has started.")
    assert_accessible(partner)
    screenshot(partner, "matching-exchange-phone")
    partner.get_by_role("button", name="Menu").click()  # on the phone, the navigation is behind it
    partner.get_by_role("link", name="Dashboard").click()
    expect(partner.locator("#my-exchanges")).to_contain_text(EXCHANGE)
    assert_accessible(partner)

    # --- João sees the exchange too ----------------------------------------------------------
    teacher.get_by_role("link", name="Dashboard").click()
    expect(teacher.locator("#my-exchanges")).to_contain_text(EXCHANGE)
    assert_accessible(teacher)
    teacher.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(teacher.locator(".notifications")).to_contain_text(f"{PARTNER_CLASS} accepted the invitation of {MY_CLASS}")
    assert_accessible(teacher)
    teacher.locator("#main").get_by_role("button", name=re.compile("^Open")).first.click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(EXCHANGE)
    expect(teacher.locator("main")).to_contain_text("Jorge Martín")
    assert_accessible(teacher)

    for context in (partner_context, inviter_context):
        context.watch.assert_clean()
