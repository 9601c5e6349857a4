"""The main pages on a phone and on a desktop: they fit, pass axe-core, work from the keyboard,
switch language, log no errors, and never call another site.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser

COORDINATOR = "ana.porto@demo.crossclass.eu"
TEACHER = "joao.porto@demo.crossclass.eu"
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]


# The innermost elements that reach past the window's right edge, to name the culprit.
_STICKING_OUT = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
              && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
    .slice(0, 5)
    .map(e => `${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 60)}"`)"""


def assert_fits(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        culprits = page.evaluate(_STICKING_OUT)
        raise AssertionError(f"{page.url} scrolls sideways: content {widths[0]}px, window {widths[1]}px: {culprits}")


def check(page, name: str) -> None:
    """What every page must satisfy, at any size."""
    # A link's click returns once the new page starts; its heading can show before the
    # stylesheet applies, and an unstyled page is wider than a phone.
    page.wait_for_load_state("load")
    assert_fits(page)
    assert_accessible(page)
    screenshot(page, name)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_public_pages_fit_and_are_accessible(new_context, viewport, request):
    size = request.node.callspec.id
    page = new_context(viewport=viewport).new_page()

    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    check(page, f"{size}-login")

    page.goto("/register")
    new_school = page.get_by_role("group", name="New school")
    expect(new_school).to_be_hidden()
    check(page, f"{size}-register")
    page.get_by_label("Your school").select_option(label="My school is not listed: register it")
    expect(new_school).to_be_visible()
    expect(new_school.get_by_label("School name")).to_be_visible()
    page.get_by_label("Country").select_option("PT")
    with page.expect_response(lambda r: "/api/cities?country=PT&q=Bra" in r.url) as answer:
        page.get_by_label("Town or city").press_sequentially("Bra")
    assert answer.value.ok
    expect(page.locator('#city-options option[value="Braga"]')).to_have_count(1)
    check(page, f"{size}-register-new-school")

    page.goto("/join")
    expect(page.get_by_role("heading", level=1)).to_have_text("Join your class")
    check(page, f"{size}-join")

    page.goto("/password/forgot")
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    check(page, f"{size}-forgot-password")

    page.context.watch.assert_clean()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_teacher_pages_fit_and_are_accessible(new_context, viewport, request):
    size = request.node.callspec.id
    page = new_context(viewport=viewport).new_page()
    log_in(page, COORDINATOR)

    expect(page.locator("#presence-panel")).to_have_attribute("data-synced", "true")
    check(page, f"{size}-dashboard")

    page.locator("#presence-panel").get_by_role("link", name="Cozinha 11A").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cozinha 11A")
    check(page, f"{size}-class-detail")

    if size == "phone":  # the navigation is behind the Menu button
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Teachers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Teachers")
    check(page, f"{size}-teachers")

    page.context.watch.assert_clean()


def test_skip_link_comes_first_and_login_works_from_the_keyboard(new_context):
    page = new_context(viewport=PHONE).new_page()
    page.goto("/login")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # From the start of the content, the form is next; no mouse from here on.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username or e-mail")).to_be_focused()
    page.keyboard.type(TEACHER)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("crossclass-demo")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello João Matos")

    page.context.watch.assert_clean()


def test_language_switcher_changes_the_page_language_and_remembers_it(new_context):
    page = new_context().new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_label("Language").select_option("de")
    page.locator(".language-switcher").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert page.url.endswith("/login"), "the switch comes back to the same page"
    assert_accessible(page)

    page.goto("/join")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    # By id: the label itself may be in German by now.
    expect(page.locator("#language-select")).to_have_value("de")

    page.context.watch.assert_clean()


def test_destructive_buttons_ask_first_and_say_whom_they_affect(new_context):
    page = new_context().new_page()
    log_in(page, COORDINATOR)
    page.locator("#presence-panel").get_by_role("link", name="Cozinha 11A").click()
    # The question comes from base.js: clicked before it ran, the form goes without asking
    # (as it does without JavaScript), and the shared demo data would lose this pupil.
    page.wait_for_url("**/classes/*", wait_until="load")
    remove = page.get_by_role("button", name="Remove Cozinha 2", exact=True)
    expect(remove).to_be_visible()

    questions = []

    def decline(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", decline)
    remove.click()
    expect(page.get_by_role("row", name="Cozinha 2")).to_be_visible()
    assert questions == ["Remove Cozinha 2 from the class? An account in no other class is deleted."]
    page.reload()
    expect(page.get_by_role("row", name="Cozinha 2")).to_be_visible()

    page.context.watch.assert_clean()
