"""Small things that stop people, in a real browser on a phone (390x844): a header that leaves
room for the page, targets a thumb can hit, and pickers for long lists that work from the keyboard.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.chat_support import PORTO, TEACHER, exchange_script, joined, say, start_chat_server
from tests.browser.conftest import PHONE, Watch, assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser

MY_CLASS = "Cozinha 11A"  # Ana's class in the demo data
# WCAG 2.2, 2.5.8 Target Size (Minimum): 24x24 CSS px; main actions on a phone: 44 px high.
MIN_TARGET = 24
THUMB = 44
MAX_HEADER = 64  # 173 px for a coordinator at 390x844 before: the nav wrapped into rows above the page

# Every visible thing one can tap, with its size; inline links inside a sentence are exempt
# (WCAG 2.5.8 "inline" exception), and so are the off-screen skip link and visually hidden
# inputs whose visible label is the target (the checkbox chips: their label is the chip).
_TARGETS = """() => {
  const selector = ['a[href]', 'button', 'input:not([type=hidden])', 'select', 'textarea', 'summary',
    '[role=option]', '[tabindex]:not([tabindex="-1"])'].join(", ");
  const inSentence = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    const block = el.parentElement.closest("p, li, td, dd, div, span.muted");
    return block && block.textContent.replace(/\\s+/g, " ").trim().length > el.textContent.trim().length + 3;
  };
  return [...document.querySelectorAll(selector)]
    .filter((el) => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && box.right > 0
        && !el.closest(".visually-hidden") && !el.classList.contains("skip-link");
    })
    .filter((el) => !inSentence(el))
    .map((el) => {
      const box = el.getBoundingClientRect();
      return {
        what: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className} `
          + `"${(el.textContent || el.value || el.name || "").trim().slice(0, 40)}"`,
        width: Math.round(box.width * 10) / 10,
        height: Math.round(box.height * 10) / 10,
      };
    });
}"""


def header_height(page) -> float:
    return page.evaluate("() => document.querySelector('.site-header').getBoundingClientRect().height")


def assert_targets_big_enough(page, name: str) -> None:
    page.wait_for_load_state("load")
    targets = page.evaluate(_TARGETS)
    assert targets, f"no targets found on {name}"
    small = [t for t in targets if t["width"] < MIN_TARGET or t["height"] < MIN_TARGET]
    assert not small, f"targets under {MIN_TARGET}×{MIN_TARGET} px on {name}:\n" + "\n".join(map(str, small))


def assert_thumb_sized(locator, name: str) -> None:
    for index in range(locator.count()):
        box = locator.nth(index).bounding_box()
        assert box and box["height"] >= THUMB - 0.5, f"{name} #{index} is {box and box['height']} px high on a phone"


def check_phone_page(page, name: str) -> None:
    """What every key page must satisfy on a phone: a compact header, big enough targets, axe."""
    page.wait_for_load_state("load")
    height = header_height(page)
    assert height <= MAX_HEADER, f"the header of {name} is {height} px high (at most {MAX_HEADER})"
    assert height <= PHONE["height"] / 8
    assert_targets_big_enough(page, name)
    assert_thumb_sized(page.locator("main .button-primary:visible"), f"{name}: primary button")
    assert_thumb_sized(page.locator(".menu-toggle, .header-notifications"), f"{name}: header control")
    assert_accessible(page)
    screenshot(page, f"touch-{name}")


@pytest.fixture(scope="module")
def exchange_server(tmp_path_factory):
    """The demo data and one exchange between Porto and Helsinki, with its chat."""
    server = start_chat_server(tmp_path_factory, "touch", exchange_script("Touch targets"))
    yield server
    server.stop()


@pytest.fixture
def open_page(browser, exchange_server):
    """open_page(login, path): a phone of its own, logged in, on that page; checked for script
    errors and requests to other sites at the end."""
    contexts = []

    def open_as(login: str, path: str):
        context = browser.new_context(base_url=exchange_server.url, viewport=PHONE, locale="en-GB")
        context.set_default_timeout(10_000)
        context.watch = Watch(origin=exchange_server.url)
        context.on("page", context.watch.attach)
        contexts.append(context)
        page = context.new_page()
        log_in(page, login)
        page.goto(path)
        return page

    yield open_as
    for context in contexts:
        context.watch.assert_clean()
        context.close()


def test_key_pages_on_a_phone_have_a_compact_header_and_big_enough_targets(open_page, exchange_server):
    # The chat, as a pupil: the send button is a main action.
    pupil = open_page(PORTO, f"/exchanges/{exchange_server.project_id}/chat")
    joined(pupil)
    say(pupil, "Hello from a phone")
    check_phone_page(pupil, "chat")
    assert_thumb_sized(pupil.get_by_role("button", name="Send"), "chat: send button")

    teacher = open_page(TEACHER, "/dashboard")
    check_phone_page(teacher, "dashboard")
    for name, path in (("exchange", f"/exchanges/{exchange_server.project_id}"), ("class-form", "/classes/new")):
        teacher.goto(path)
        check_phone_page(teacher, name)
    teacher.goto(f"/exchanges/{exchange_server.project_id}/chat")
    joined(teacher)
    check_phone_page(teacher, "chat-teacher")
    teacher.goto("/partners")
    teacher.get_by_role("link", name=f"Edit partner profile of {MY_CLASS}").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Partner profile of {MY_CLASS}")
    check_phone_page(teacher, "profile")

    # Logged out: the login page.
    teacher.get_by_role("button", name="Menu").click()
    teacher.get_by_role("button", name="Log out").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Log in")
    check_phone_page(teacher, "login")


def test_the_phone_menu_opens_and_closes_from_the_keyboard(open_page):
    page = open_page(TEACHER, "/dashboard")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    # The unread count stays in view with the menu closed.
    expect(page.get_by_role("link", name=re.compile("^Notifications"))).to_be_visible()

    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Dashboard")).to_be_focused()
    assert_thumb_sized(nav.get_by_role("link"), "nav link")
    assert_targets_big_enough(page, "dashboard with the menu open")
    assert_accessible(page)
    screenshot(page, "touch-menu-open")

    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    nav.get_by_role("link", name="My classes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My classes")
    expect(nav).to_be_hidden()  # a new page starts with the menu closed


def test_the_field_picker_filters_as_one_types_and_chooses_from_the_keyboard(open_page):
    page = open_page(TEACHER, "/classes/new")
    picker = page.get_by_role("combobox", name="Vocational field")
    listbox = page.get_by_role("listbox", name="Vocational field")
    expect(picker).to_have_attribute("aria-expanded", "false")

    picker.focus()
    page.keyboard.type("electr")
    expect(picker).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)  # Electricity and energy, Electronics and automation
    expect(options.first).to_have_text("Electricity and energy (0713)")
    expect(page.get_by_role("status").filter(has_text="fields found")).to_have_text("2 fields found")
    assert_accessible(page)
    screenshot(page, "touch-field-picker")

    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(picker).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    page.keyboard.press("Enter")  # chooses; does not send the form
    expect(picker).to_have_value("Electronics and automation (0714)")
    expect(picker).to_have_attribute("aria-expanded", "false")
    expect(page.locator("select[name=isced_code]")).to_have_value("0714")
    expect(page.get_by_role("heading", level=1)).to_have_text("New class")

    # Escape undoes half-typed words; the choice stays.
    page.keyboard.press("Control+A")
    page.keyboard.type("zzz")
    expect(page.get_by_role("status").filter(has_text="No field")).to_have_text("No field matches. Try another word.")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(picker).to_have_value("Electronics and automation (0714)")

    # Words in any order, accents ignored, the broad field searched too.
    picker.fill("")
    page.keyboard.type("vehicles motor")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("select[name=isced_code]")).to_have_value("0716")

    # The rest of the form, then Save: the class has the chosen field.
    page.get_by_label("Class name").fill("Mechanics 2C")
    page.get_by_label("Number of learners").fill("18")
    page.get_by_label("Youngest learner's age").fill("16")
    page.get_by_label("Oldest learner's age").fill("18")
    page.get_by_label("Working language", exact=True).select_option("pt")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mechanics 2C")
    expect(page.get_by_text("Motor vehicles, ships and aircraft")).to_be_visible()


def test_country_chips_are_ticked_by_thumb_or_keyboard_and_filtered(open_page):
    page = open_page(TEACHER, "/partners")
    page.get_by_role("link", name=f"Edit partner profile of {MY_CLASS}").click()
    preferred = page.get_by_role("group", name="Preferred partner countries (optional)")
    expect(preferred.get_by_role("checkbox")).not_to_have_count(0)
    assert page.locator("select[multiple]").count() == 0

    preferred.get_by_label("Filter the list").fill("fin")
    expect(preferred.get_by_role("checkbox", name="Finland")).to_be_visible()
    expect(preferred.get_by_role("checkbox", name="Italy")).to_be_hidden()
    preferred.get_by_role("checkbox", name="Finland").focus()
    page.keyboard.press("Space")
    expect(preferred.get_by_role("checkbox", name="Finland")).to_be_checked()
    preferred.get_by_label("Filter the list").fill("")
    preferred.get_by_role("checkbox", name="Italy").click()  # a tap anywhere on the chip ticks it
    expect(preferred.get_by_role("checkbox", name="Italy")).to_be_checked()
    assert_targets_big_enough(page, "profile with chips")
    assert_accessible(page)
    screenshot(page, "touch-country-chips")

    page.get_by_role("button", name="Save and see partners").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Partners for {MY_CLASS}")
    page.go_back()
    page.reload()
    expect(
        page.get_by_role("group", name="Preferred partner countries (optional)").get_by_role("checkbox", name="Finland")
    ).to_be_checked()
