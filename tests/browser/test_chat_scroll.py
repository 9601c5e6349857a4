"""The chat follows the conversation, in real browsers: it opens at the newest message, follows
new ones while the reader is at the bottom, counts them in a button while the reader is
scrolled up, loads older ones at the top without moving the view, and announces new messages
to screen readers; on a desktop and on a phone."""

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
    joined,
    message,
    say,
    start_chat_server,
)
from tests.browser.conftest import PHONE, assert_accessible, screenshot

pytestmark = pytest.mark.browser

EARLIER = 60  # more than a page of history (queries.HISTORY_PAGE, 50) and than fits on screen
_EARLIER_MESSAGES = f"""
ensure_channels(project)
db.session.flush()
channel = db.session.scalar(select(Channel).where(Channel.project_id == project.id, Channel.slug == "project"))
for n in range(1, {EARLIER} + 1):
    author = porto if n % 2 else helsinki
    post_message(author, channel_for_user(channel.id, author), str(uuid.uuid4()), f"Earlier message {{n:02d}}")
print(json.dumps({{"project": project.id}}))
"""
_IMPORTS = """
import uuid
from app.modules.chat.models import Channel
from app.modules.chat.operations import ensure_channels, post_message
from app.modules.chat.queries import channel_for_user
"""

# How far the message list is from its bottom, and where a message is on the screen.
_FROM_BOTTOM = "list => list.scrollHeight - list.scrollTop - list.clientHeight"
_TOP_ON_SCREEN = "node => node.getBoundingClientRect().top"


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    script = exchange_script("Long talks", _EARLIER_MESSAGES, _IMPORTS)
    server = start_chat_server(tmp_path_factory, "chat-scroll", script)
    yield server
    server.stop()


@pytest.fixture
def open_page(browser, chat_server):
    with chat_pages(browser, chat_server) as open_as:
        yield open_as


def messages_of(page):
    """The box the conversation scrolls in."""
    return page.locator("[data-chat-scroll]")


def wait_at_bottom(page) -> None:
    page.wait_for_function(f"() => ({_FROM_BOTTOM})(document.querySelector('[data-chat-scroll]')) <= 2", timeout=LIVE)


def assert_in_view(page, shown) -> None:
    """The message is inside the list's visible box, not just somewhere in its scroll height."""
    box = messages_of(page).bounding_box()
    where = shown.bounding_box()
    assert box["y"] - 1 <= where["y"] and where["y"] + where["height"] <= box["y"] + box["height"] + 1, (box, where)


def assert_opens_at_newest_and_follows(reader, writer, text: str) -> None:
    listing = messages_of(reader)
    assert listing.evaluate("list => list.scrollHeight > list.clientHeight * 2"), "the test needs a long chat"
    wait_at_bottom(reader)
    assert_in_view(reader, reader.locator(".chat-message").last)
    assert message(reader, "Earlier message 01").count() == 0  # older pages wait until asked for

    say(writer, text)
    expect(message(reader, text)).to_be_visible(timeout=LIVE)
    wait_at_bottom(reader)
    assert_in_view(reader, message(reader, text))
    expect(reader.locator("[data-chat-jump]")).to_be_hidden()


def test_the_chat_follows_the_conversation(open_page, chat_server):
    porto = open_page(PORTO)
    helsinki = open_page(HELSINKI)
    assert_opens_at_newest_and_follows(porto, helsinki, "Following along")

    # New messages are announced politely, author (as this partner pupil may name them: the
    # username) and text; the list itself is no live region.
    announcer = porto.locator("[data-chat-announce]")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_contain_text(f"{HELSINKI}: Following along")
    assert porto.locator("[data-chat-scroll] [aria-live], [data-chat-scroll][aria-live]").count() == 0

    # Scrolled up: new messages do not move the view; a button counts them.
    listing = messages_of(porto)
    listing.evaluate("list => { list.scrollTop = list.scrollHeight - list.clientHeight - 400; }")
    anchor = message(porto, "Earlier message 55")
    scrolled_to, anchor_top = listing.evaluate("list => list.scrollTop"), anchor.evaluate(_TOP_ON_SCREEN)
    say(helsinki, "While you were away 1")
    say(helsinki, "While you were away 2")
    jump = porto.get_by_role("button", name="2 new messages")
    expect(jump).to_be_visible(timeout=LIVE)
    expect(message(porto, "While you were away 2")).to_have_count(1)
    assert listing.evaluate("list => list.scrollTop") == scrolled_to
    assert abs(anchor.evaluate(_TOP_ON_SCREEN) - anchor_top) <= 1
    expect(announcer).to_contain_text("While you were away 2")
    screenshot(porto, "chat-desktop-new-messages")
    assert_accessible(porto)

    # The button goes to the newest message, then goes away; focus lands on that message.
    jump.click()
    wait_at_bottom(porto)
    expect(porto.locator("[data-chat-jump]")).to_be_hidden()
    assert_in_view(porto, message(porto, "While you were away 2"))
    expect(message(porto, "While you were away 2")).to_be_focused()

    # Reaching the bottom by scrolling also takes the button away.
    listing.evaluate("list => { list.scrollTop = 0.5 * (list.scrollHeight - list.clientHeight); }")
    say(helsinki, "One more")
    expect(porto.get_by_role("button", name="1 new message", exact=True)).to_be_visible(timeout=LIVE)
    listing.evaluate("list => { list.scrollTop = list.scrollHeight; }")
    expect(porto.locator("[data-chat-jump]")).to_be_hidden()

    # At the top, older messages come without moving the message that was at the top.
    oldest_shown = message(porto, f"Earlier message {EARLIER - 49:02d}")  # a page of 50 was shown
    listing.evaluate("list => { list.scrollTop = 0; }")
    top_before = oldest_shown.evaluate(_TOP_ON_SCREEN)
    expect(message(porto, "Earlier message 01")).to_have_count(1, timeout=LIVE)
    assert abs(oldest_shown.evaluate(_TOP_ON_SCREEN) - top_before) <= 3
    assert listing.evaluate("list => list.scrollTop") > 0
    assert porto.locator(".chat-message").count() == EARLIER + 4
    expect(porto.locator("[data-chat-older]")).to_be_hidden()  # nothing older is left


def test_the_chat_follows_on_a_phone(open_page, chat_server):
    porto = open_page(PORTO, viewport=PHONE)
    helsinki = open_page(HELSINKI, viewport=PHONE)
    assert_opens_at_newest_and_follows(porto, helsinki, "Hello from a phone")

    # The list scrolls inside the page, and the composer fits on the screen beside it.
    list_box = messages_of(porto).bounding_box()
    composer_box = porto.locator("[data-chat-composer]").bounding_box()
    assert list_box["height"] + composer_box["height"] < PHONE["height"], (list_box, composer_box)
    porto.get_by_label("Your message").scroll_into_view_if_needed()
    assert_in_view(porto, message(porto, "Hello from a phone"))
    # The list's content stays inside it: the page is not as long as the whole conversation.
    assert porto.evaluate("() => document.documentElement.scrollHeight") < 2 * PHONE["height"]
    assert_accessible(porto)

    # Scrolled up on the phone: the count shows over the list, and leads back down.
    messages_of(porto).evaluate("list => { list.scrollTop = 0.5 * (list.scrollHeight - list.clientHeight); }")
    say(helsinki, "Meanwhile on a phone")
    jump = porto.get_by_role("button", name="1 new message", exact=True)
    expect(jump).to_be_visible(timeout=LIVE)
    assert_in_view(porto, jump)
    screenshot(porto, "chat-phone-new-messages")
    jump.click()
    wait_at_bottom(porto)
    assert_in_view(porto, message(porto, "Meanwhile on a phone"))

    # A message that came while the reader was scrolled up and left unseen stays unread.
    porto.wait_for_timeout(1500)  # the read mark of what was seen (READ_REPORT_DELAY_MS) is sent
    messages_of(porto).evaluate("list => { list.scrollTop = 0.5 * (list.scrollHeight - list.clientHeight); }")
    say(helsinki, "Not seen yet")
    expect(porto.get_by_role("button", name="1 new message", exact=True)).to_be_visible(timeout=LIVE)
    porto.wait_for_timeout(1500)  # a read mark would have been sent by now
    porto.goto(f"/exchanges/{chat_server.project_id}")
    expect(porto.locator("[data-chat-unread-total]")).to_contain_text("1")


def test_teachers_go_from_the_chat_to_moderation_and_back(open_page, chat_server):
    teacher = open_page(TEACHER)
    teacher.get_by_role("link", name="Moderation log").click()
    expect(teacher.get_by_role("heading", level=1)).to_contain_text("Moderation log")
    teacher.get_by_role("link", name=re.compile(r"^Chat\b")).click()  # with an unread count
    joined(teacher)
    teacher.get_by_role("link", name="Reported messages").click()
    expect(teacher.get_by_role("heading", level=1)).to_contain_text("Moderation")
    teacher.get_by_role("link", name=re.compile(r"^Chat\b")).click()  # with an unread count
    joined(teacher)

    pupil = open_page(PORTO)
    expect(pupil.get_by_role("link", name="Reported messages")).to_have_count(0)
    expect(pupil.get_by_role("link", name="Moderation log")).to_have_count(0)
