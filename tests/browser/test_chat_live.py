"""Chat in real browsers: two students of two countries chat live; a teacher hides a message."""

from __future__ import annotations

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
from tests.browser.conftest import PHONE, assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    """Seeded with the demo data and one exchange between Porto and Helsinki."""
    server = start_chat_server(tmp_path_factory, "chat", exchange_script("Kitchen meets ICT"))
    yield server
    server.stop()


@pytest.fixture
def open_page(browser, chat_server):
    with chat_pages(browser, chat_server) as open_as:
        yield open_as


def test_two_students_chat_live_and_a_teacher_hides_a_message(open_page):
    porto = open_page(PORTO, viewport=PHONE)
    helsinki = open_page(HELSINKI)
    assert_accessible(porto)

    say(porto, "Olá from **Porto**!")
    expect(message(helsinki, "Olá from Porto!").locator(".chat-text strong")).to_have_text("Porto", timeout=LIVE)
    expect(message(porto, "Olá from Porto!")).to_have_attribute("data-status", "sent", timeout=LIVE)

    say(helsinki, "Hei from Helsinki")
    expect(message(porto, "Hei from Helsinki")).to_be_visible(timeout=LIVE)

    # Markup arrives as text; no script runs in either browser.
    payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    say(porto, payload)
    expect(message(helsinki, "<script>window.pwned=2</script>")).to_be_visible(timeout=LIVE)
    assert helsinki.locator(".chat-messages img, .chat-messages script").count() == 0
    assert porto.evaluate("() => window.pwned") is None and helsinki.evaluate("() => window.pwned") is None

    teacher = open_page(TEACHER)
    expect(message(teacher, "Hei from Helsinki")).to_be_visible()
    assert_accessible(teacher)
    message(teacher, "Hei from Helsinki").get_by_role("button", name="Hide").click()
    for page in (porto, helsinki, teacher):
        expect(page.locator(".chat-message", has_text="Hei from Helsinki")).to_have_count(0, timeout=LIVE)
        expect(page.locator(".chat-tombstone", has_text="hidden by a teacher")).to_have_count(1)
    assert_accessible(helsinki)


def test_a_burst_committed_together_shows_once_and_in_order(open_page, chat_server):
    """Sends that arrive together are group-committed and reach the page as one
    chat_event_batch: the page shows every message once, in seq order."""
    import queue
    import uuid

    import socketio

    from tests.browser.conftest import DEMO_PASSWORD
    from tests.conftest import login_cookie

    helsinki = open_page(HELSINKI, viewport=PHONE)
    channel_id = int(helsinki.locator("[data-chat]").get_attribute("data-channel-id"))
    porto = socketio.Client(reconnection=False, websocket_extra_options={"origin": chat_server.url})
    batches, acks = [], queue.Queue()
    porto.on("chat_event_batch", lambda batch: batches.append([event["seq"] for event in batch["events"]]))
    cookie = login_cookie(chat_server.url, PORTO, DEMO_PASSWORD, timeout=10)
    porto.connect(chat_server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
    try:
        assert porto.call("chat_join", {"channel_id": channel_id}, timeout=10)["ok"]
        texts = [f"burst message {n:02d}" for n in range(15)]  # within the default burst of 20 events
        for text in texts:
            payload = {"channel_id": channel_id, "client_id": str(uuid.uuid4()), "body": text}
            porto.emit("chat_send", payload, callback=acks.put)
        answers = [acks.get(timeout=10) for _ in texts]
    finally:
        porto.disconnect()

    assert all(ack["ok"] for ack in answers), answers
    assert any(len(batch) > 1 for batch in batches), f"no batch formed: {batches}"
    shown = helsinki.locator(".chat-message .chat-text", has_text="burst message")
    expect(shown).to_have_count(len(texts), timeout=LIVE)
    seq_of = {ack["message"]["body_source"]: ack["seq"] for ack in answers}
    assert shown.all_inner_texts() == sorted(texts, key=seq_of.get)
    assert_accessible(helsinki)


def test_the_unread_count_of_another_channel_follows_live(open_page):
    """A teacher on the teachers' channel sees the exchange channel's count go up as pupils
    write, and down when one of those messages is deleted."""
    from tests.browser.chat_support import joined

    porto = open_page(PORTO, viewport=PHONE)
    exchange_channel = porto.locator("[data-chat]").get_attribute("data-channel-id")
    teacher = open_page(TEACHER, viewport=PHONE)
    teacher.locator("[data-channel-link]", has_text="Teachers").click()
    joined(teacher)
    badge = teacher.locator(f'[data-unread-badge="{exchange_channel}"]')
    before = int(badge.get_attribute("data-count"))

    say(porto, "News for everyone")
    say(porto, "And more news")
    expect(badge).to_have_attribute("data-count", str(before + 2), timeout=LIVE)
    expect(badge).to_be_visible()
    expect(badge).to_have_text(f"{before + 2} unread messages")
    expect(message(teacher, "News for everyone")).to_have_count(0)  # a count, not the message
    assert_accessible(teacher)

    # The pupil takes one back: it was counted, so the count goes down, live too.
    porto.once("dialog", lambda dialog: dialog.accept())
    message(porto, "News for everyone").get_by_role("button", name="Delete").click()
    expect(message(porto, "News for everyone")).to_have_count(0, timeout=LIVE)
    expect(badge).to_have_attribute("data-count", str(before + 1), timeout=LIVE)
    expect(badge).to_have_text(f"{before + 1} unread message" + ("s" if before + 1 != 1 else ""))

    teacher.locator(f'[data-channel-link="{exchange_channel}"]').click()
    expect(message(teacher, "And more news")).to_be_visible(timeout=LIVE)
    expect(teacher.locator(f'[data-unread-badge="{exchange_channel}"]')).to_be_hidden(timeout=LIVE)
