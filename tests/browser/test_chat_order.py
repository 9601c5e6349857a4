"""The chat page waits a moment before repairing a gap (static/js/chat.js, REPAIR_DELAY_MS):
an event that only came late needs no read from the database, a gap that stays is asked for,
the missing range only."""

from __future__ import annotations

import json
import time

import pytest
import redis
import socketio

from tests.browser.chat_support import HELSINKI, LIVE, PORTO, chat_pages, exchange_script, joined, start_chat_server
from tests.browser.conftest import DEMO_PASSWORD
from tests.conftest import REDIS_URL, login_cookie, need_service, redis_available

pytestmark = pytest.mark.browser

REPAIR_DELAY = 0.25  # s, chat.js's REPAIR_DELAY_MS


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    """On Redis, without the server's own reordering: the page alone handles the order."""
    need_service(redis_available(), f"Redis is not reachable at {REDIS_URL}")
    namespace = f"crossclass-test-order-{time.monotonic_ns()}"
    server = start_chat_server(
        tmp_path_factory,
        "chat-order",
        exchange_script("Order please"),
        REDIS_URL=REDIS_URL,
        REDIS_NAMESPACE=namespace,
        SOCKET_REORDER_WINDOW_MS="0",
    )
    server.namespace = namespace
    yield server
    server.stop()


def publish_from_elsewhere(server, channel_id: int, seq: int) -> None:
    """A chat_event as another server process publishes it through Redis (a made-up unlock)."""
    event = {"channel_id": channel_id, "seq": seq, "kind": "unlock", "is_locked": False}
    message = {
        "method": "emit", "event": "chat_event", "data": [event], "binary": False, "namespace": "/",
        "room": f"chat:channel:{channel_id}", "skip_sid": None, "callback": None, "host_id": "another-process",
    }  # fmt: skip
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.publish(f"{server.namespace}:socketio", json.dumps(message))
    finally:
        connection.close()


def test_a_late_event_is_waited_for_and_a_real_gap_asked_for_alone(browser, chat_server):
    with chat_pages(browser, chat_server) as open_as:
        page = open_as(HELSINKI)
        asked = []  # chat_events requests the page sent
        page.on(
            "websocket",
            lambda ws: ws.on("framesent", lambda frame: asked.append(frame) if "chat_events" in str(frame) else None),
        )
        page.reload()  # its socket now opens with the frames watched
        joined(page)
        channel_id = int(page.locator("[data-chat]").get_attribute("data-channel-id"))
        porto = socketio.Client(reconnection=False, websocket_extra_options={"origin": chat_server.url})
        cookie = login_cookie(chat_server.url, PORTO, DEMO_PASSWORD, timeout=10)
        porto.connect(chat_server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
        try:
            last = porto.call("chat_join", {"channel_id": channel_id}, timeout=10)["channel"]["last_seq"]
        finally:
            porto.disconnect()

        # Overtaken on the way: last + 2 first, last + 1 a moment later. No read.
        publish_from_elsewhere(chat_server, channel_id, last + 2)
        time.sleep(0.05)
        publish_from_elsewhere(chat_server, channel_id, last + 1)
        # A marker behind them: once it is applied, both were, in order.
        publish_from_elsewhere(chat_server, channel_id, last + 3)
        page.wait_for_timeout(REPAIR_DELAY * 3 * 1000)  # (Playwright reports frames while it waits)
        assert asked == [], "the page asked for a gap that closed by itself"

        # last + 4 is lost: after the wait, the page asks for it alone (not for last + 5).
        publish_from_elsewhere(chat_server, channel_id, last + 5)
        deadline = time.monotonic() + LIVE / 1000
        while not asked and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert len(asked) == 1, asked
        request = json.loads(str(asked[0])[str(asked[0]).index("[") :])
        assert request[0] == "chat_events"
        assert (request[1]["after_seq"], request[1]["until_seq"]) == (last + 3, last + 4)
