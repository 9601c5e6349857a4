"""A page whose script floods the server is cut off (app/realtime/flood.py): static/js/live.js
says so calmly, does not knock again during the cool-down, and comes back by itself after it."""

from __future__ import annotations

import secrets
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import ServerProcess, prepare_database

pytestmark = pytest.mark.browser

STUDENT = "student.porto.1"
COOLDOWN = 3  # seconds
PAUSED = "Live updates are paused for a moment"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """This module's own server: a flooding socket is cut off after 20 refusals, for 3 s."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('flood-live') / 'live.db'}"
    prepare_database(database_url)
    server = ServerProcess(
        database_url,
        SECRET_KEY=secrets.token_hex(32),
        SOCKET_FLOOD_REFUSALS="20",
        SOCKET_FLOOD_COOLDOWN_SECONDS=str(COOLDOWN),
    ).start()
    yield server
    server.stop()


LIVE_SOCKET = "async () => (await import('/static/js/live.js')).connectLive()"


def test_a_flooding_page_pauses_calmly_and_comes_back_after_the_cooldown(page):
    log_in(page, STUDENT)
    page.wait_for_function(f"({LIVE_SOCKET})().then((socket) => socket.connected)", polling=100)
    opened_websockets: list[float] = []
    page.on("websocket", lambda _ws: opened_websockets.append(time.monotonic()))

    # A runaway script: far more events than the limit (20 at once, 10 a second) allows.
    page.evaluate(
        f"({LIVE_SOCKET})().then((socket) => {{ for (let i = 0; i < 300; i++) socket.emit('presence_sync', {{}}); }})"
    )
    notice = page.locator("main .flashes[role=status]")
    expect(notice).to_contain_text(PAUSED)
    cut_at = time.monotonic()
    assert page.evaluate(f"({LIVE_SOCKET})().then((socket) => socket.connected)") is False

    # No knocking while the server would refuse: nothing during the cool-down...
    page.wait_for_timeout((COOLDOWN - 0.5) * 1000)
    assert [at for at in opened_websockets if at < cut_at + COOLDOWN - 0.5] == []
    # ... then one connect, which the server takes, and the notice goes.
    page.wait_for_function(f"({LIVE_SOCKET})().then((socket) => socket.connected)", polling=100, timeout=10_000)
    expect(notice).to_have_count(0)
    assert len(opened_websockets) == 1
    page.context.watch.assert_clean()
