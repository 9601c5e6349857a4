"""Malformed events on a real `wsgi.py` server with socket.io's own client: a packet nested
too deeply for the JSON decoder is decoded by the server process itself (python-socketio,
before any handler), so only a real server shows it is answered, counted and not logged
with a traceback (app/realtime/payloads.py)."""

from __future__ import annotations

import secrets
import sys

import pytest
import socketio

from tests.conftest import ServerProcess, login_cookie, prepare_database

DEMO_PASSWORD = "crossclass-demo"
STUDENT = "student.porto.1"
WAIT = 10
BURST = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("malformed")
    database_url = f"sqlite:///{directory / 'demo.db'}"
    prepare_database(database_url)
    # A slow refill, so the burst is all a client gets while the test runs.
    started = ServerProcess(
        database_url, SECRET_KEY=secrets.token_hex(32), SOCKET_EVENT_BURST=str(BURST), SOCKET_EVENTS_PER_SECOND="1"
    ).start()
    yield started
    started.stop()


def _deep(depth: int):
    nested: list = []
    for _ in range(depth):
        nested = [nested]
    return nested


def _code(ack) -> str | None:
    return ack["error"]["code"] if ack and not ack.get("ok") else None


def test_deep_nesting_and_unknown_events_get_acks_and_count_against_the_limit(server):
    cookie = login_cookie(server.url, STUDENT, DEMO_PASSWORD, timeout=WAIT)
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": server.url})
    client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=WAIT)
    limit = sys.getrecursionlimit()
    # Only this client's encoder needs the deeper stack; the server decodes with its default.
    sys.setrecursionlimit(20_000)
    try:
        deep = _deep(1_000)
        acks = [_code(client.call("chat_send", deep, timeout=WAIT)) for _ in range(BURST - 1)]
        acks.append(_code(client.call("no_such_event", {}, timeout=WAIT)))
        acks += [_code(client.call("chat_send", deep, timeout=WAIT)) for _ in range(3)]
    finally:
        sys.setrecursionlimit(limit)
        assert client.connected
        client.disconnect()
    assert acks == ["bad_payload"] * (BURST - 1) + ["unknown_event"] + ["rate_limited"] * 3
    log = server.output()
    assert "Traceback" not in log and "RecursionError" not in log
