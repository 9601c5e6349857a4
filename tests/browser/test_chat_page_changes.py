"""Quick page changes in one tab (issue 11): each chat page opens a socket and is left while it
connects. Before, the places of those sockets (SOCKETS_PER_USER) stayed taken until Engine.IO's
ping timeout: "Too many open windows", an empty chat for about 50 s, tracebacks in the log."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.chat_support import (
    LIVE,
    PORTO,
    chat_pages,
    exchange_script,
    joined,
    message,
    say,
    start_chat_server,
)
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser

LOADS, SECONDS = 30, 10
AT_ONCE = 5_000  # ms: the chat works this soon after the last page change (it took ~50 s)


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    server = start_chat_server(tmp_path_factory, "page-changes", exchange_script("Quick page changes"))
    yield server
    server.stop()


def test_thirty_page_changes_in_ten_seconds_leave_the_chat_working(browser, chat_server):
    chat, exchange = f"/exchanges/{chat_server.project_id}/chat", f"/exchanges/{chat_server.project_id}"
    with chat_pages(browser, chat_server) as open_as:
        # The pupil's other window, open throughout: the oldest of their sockets, the first to be
        # pushed out had the left pages kept their places.
        other_window = open_as(PORTO)
        say(other_window, "Before the page changes")
        expect(message(other_window, "Before the page changes")).to_have_attribute("data-status", "sent")

        tab = other_window.context.new_page()
        started = time.monotonic()
        for load in range(LOADS):
            # Paced to LOADS in SECONDS; each page is left as soon as its scripts run, while its
            # socket is still connecting. The last one is the chat.
            time.sleep(max(0.0, started + load * SECONDS / LOADS - time.monotonic()))
            response = tab.goto(exchange if (LOADS - load) % 2 == 0 else chat, wait_until="domcontentloaded")
            assert response.status == 200, tab.url
        assert tab.url.endswith(chat)

        joined_at_once = tab.locator("[data-chat]")
        expect(joined_at_once).to_have_attribute("data-joined", "true", timeout=AT_ONCE)
        expect(message(tab, "Before the page changes")).to_be_visible()  # the history is there
        say(tab, "After the page changes")
        expect(message(tab, "After the page changes")).to_have_attribute("data-status", "sent", timeout=AT_ONCE)
        expect(tab.get_by_text("Too many open windows")).to_have_count(0)

        # The other window kept its place: still joined, nobody told it to give way, and live.
        expect(message(other_window, "After the page changes")).to_be_visible(timeout=AT_ONCE)
        joined(other_window)
        expect(other_window.get_by_text("open in too many other windows")).to_have_count(0)

    assert "Traceback" not in chat_server.output()


@pytest.fixture(scope="module")
def one_window_server(tmp_path_factory):
    server = start_chat_server(
        tmp_path_factory, "one-window", exchange_script("One window at a time"), SOCKETS_PER_USER="1"
    )
    yield server
    server.stop()


def test_the_newest_window_takes_the_place_of_the_oldest(browser, one_window_server):
    """Over SOCKETS_PER_USER the newest window works; the oldest says why it stopped, stays off
    (no two windows pushing each other out), and works again when the person comes back to it."""
    with chat_pages(browser, one_window_server) as open_as:
        oldest = open_as(PORTO)
        newest = oldest.context.new_page()
        newest.goto(f"/exchanges/{one_window_server.project_id}/chat")
        joined(newest)

        notice = oldest.get_by_role("status").filter(has_text="open in too many other windows")
        expect(notice).to_be_visible(timeout=LIVE)
        expect(oldest.locator("[data-chat]")).to_have_attribute("data-joined", "false")
        assert_accessible(oldest)
        say(newest, "Only the newest window is live")
        expect(message(newest, "Only the newest window is live")).to_have_attribute("data-status", "sent")
        oldest.wait_for_timeout(1_000)  # time enough to reconnect, had it tried
        expect(message(oldest, "Only the newest window is live")).to_have_count(0)
        expect(oldest.locator("[data-chat-status]")).not_to_contain_text("Reconnecting")
        expect(newest.get_by_text("open in too many other windows")).to_have_count(0)

        # Back in the old window (its tab shown again): it connects and now the other one gives way.
        oldest.bring_to_front()
        oldest.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
        joined(oldest)
        expect(notice).to_have_count(0)
        expect(message(oldest, "Only the newest window is live")).to_be_visible()
        expect(newest.get_by_role("status").filter(has_text="open in too many other windows")).to_be_visible(
            timeout=LIVE
        )

    assert "Traceback" not in one_window_server.output()
