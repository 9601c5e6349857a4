"""A user sending over the rate limit (app/realtime/flood.py): refused before any context or
database work, cut off when it goes on, kept off for a cool-down; with Redis, one limit
over all processes."""

from __future__ import annotations

import queue
import secrets
import threading
import time
from types import SimpleNamespace

import pytest
import socketio
from flask import appcontext_pushed
from sqlalchemy import event

from app.extensions import db
from app.realtime import flood, limits
from tests.conftest import REDIS_URL, ServerProcess, login_cookie, need_service, prepare_database, redis_available
from tests.realtime.conftest import _fresh

WAIT = 10


def _code(ack) -> str | None:
    return ack["error"]["code"] if ack and not ack.get("ok") else None


@pytest.fixture
def frozen_clocks(monkeypatch):
    """Stops the token buckets' clock (a burst is exactly SOCKET_EVENT_BURST events) and the
    gate's (refusal windows and cool-downs), so the test moves time itself."""
    clock = SimpleNamespace(now=1000.0)
    frozen = SimpleNamespace(monotonic=lambda: clock.now)
    monkeypatch.setattr(limits, "time", frozen)
    monkeypatch.setattr(flood, "time", frozen)
    return clock


def _use_up_the_burst(app, sock) -> None:
    for _ in range(app.config["SOCKET_EVENT_BURST"]):
        assert sock.emit("presence_sync", {}, callback=True)["ok"] is True


class WorkCounter:
    """SQL statements on the app's engine and app contexts pushed, while counting."""

    def __init__(self, app):
        self.app = app
        self.statements = 0
        self.contexts = 0

    def _statement(self, *_args, **_kwargs):
        self.statements += 1

    def _context(self, _sender, **_kwargs):
        self.contexts += 1

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._statement)
        appcontext_pushed.connect(self._context)
        return self

    def __exit__(self, *_exc):
        event.remove(db.engine, "before_cursor_execute", self._statement)
        appcontext_pushed.disconnect(self._context)


def test_a_refused_event_does_no_database_work_and_makes_no_context(app, browsers, make, frozen_clocks):
    sock = browsers.connect_as(make.student(make.school_class(make.teacher())))
    _use_up_the_burst(app, sock)
    # The counter works: an accepted event (a token back) pushes its context.
    frozen_clocks.now += 1 / app.config["SOCKET_EVENTS_PER_SECOND"]
    with WorkCounter(app) as accepted:
        assert sock.emit("presence_sync", {}, callback=True)["ok"] is True
    assert accepted.contexts >= 1

    with WorkCounter(app) as refused:
        acks = [sock.emit("presence_sync", {}, callback=True) for _ in range(20)]
        acks += [sock.emit("chat_send", {"channel_id": 1, "body": "x"}, callback=True) for _ in range(20)]
        acks += [sock.emit("no_such_event", {}, callback=True) for _ in range(20)]
    assert [_code(ack) for ack in acks] == ["rate_limited"] * 60
    assert acks[0]["error"]["message"] == "You are sending too fast. Please slow down."
    assert refused.statements == 0
    assert refused.contexts == 0
    assert sock.is_connected()


def test_a_refused_event_is_answered_from_its_header_without_decoding_it(app, browsers, make, frozen_clocks):
    sock = browsers.connect_as(make.student(make.school_class(make.teacher())))
    _use_up_the_burst(app, sock)
    # Broken JSON that would be a bad_payload if it were decoded, large enough to cost.
    _fresh(sock.socketio.server._handle_eio_message, sock.eio_sid, '24242["chat_send",' + "[" * 200_000)
    assert _code(sock.acks["args"][0]) == "rate_limited"
    sock.acks = None
    # Once a token is back, the same packet goes on to be decoded, and is refused for its shape.
    frozen_clocks.now += 1 / app.config["SOCKET_EVENTS_PER_SECOND"]
    _fresh(sock.socketio.server._handle_eio_message, sock.eio_sid, '24243["chat_send",' + "[" * 200_000)
    assert _code(sock.acks["args"][0]) == "bad_payload"


def test_the_refusal_is_in_the_language_of_the_socket(app, browsers, make, frozen_clocks):
    student = make.student(make.school_class(make.teacher()))
    student.locale = "de"
    db.session.flush()
    sock = browsers.connect_as(student)
    _use_up_the_burst(app, sock)
    ack = sock.emit("presence_sync", {}, callback=True)
    assert _code(ack) == "rate_limited"
    assert ack["error"]["message"] != "You are sending too fast. Please slow down."


def test_other_users_go_on_while_one_floods(app, browsers, make, frozen_clocks):
    school_class = make.school_class(make.teacher())
    flooder = browsers.connect_as(make.student(school_class))
    other = browsers.connect_as(make.student(school_class))
    _use_up_the_burst(app, flooder)
    for _ in range(app.config["SOCKET_FLOOD_REFUSALS"]):
        assert _code(flooder.emit("presence_sync", {}, callback=True)) == "rate_limited"
        # (one event a turn: the frozen clock gives the other user no new tokens)
    for _ in range(app.config["SOCKET_EVENT_BURST"]):
        assert other.emit("presence_sync", {}, callback=True)["ok"] is True


def test_a_socket_that_goes_on_is_cut_off_and_its_user_kept_off_for_the_cooldown(app, browsers, make, frozen_clocks):
    student = make.student(make.school_class(make.teacher()))
    http = browsers.http(student)
    flooder, other_tab = browsers.socket(http), browsers.socket(http)
    _use_up_the_burst(app, flooder)
    allowed = app.config["SOCKET_FLOOD_REFUSALS"]
    for _ in range(allowed):
        assert _code(flooder.emit("presence_sync", {}, callback=True)) == "rate_limited"
    assert flooder.is_connected()

    flooder.emit("presence_sync", {}, callback=True)  # one refusal too many
    assert not flooder.is_connected()
    notice = flooder.events("rate_limited")
    assert len(notice) == 1
    assert notice[0]["code"] == "rate_limited"
    assert notice[0]["message"].startswith("Live updates are paused for a moment")
    assert notice[0]["retry_after"] == app.config["SOCKET_FLOOD_COOLDOWN_SECONDS"]
    # A tab that did not flood stays (and is limited as before).
    assert other_tab.is_connected()

    again = browsers.socket(http)
    assert not again.is_connected()
    assert again.refusal["data"]["code"] == "rate_limited"
    assert 0 < again.refusal["data"]["retry_after"] <= app.config["SOCKET_FLOOD_COOLDOWN_SECONDS"]

    frozen_clocks.now += app.config["SOCKET_FLOOD_COOLDOWN_SECONDS"] + 1
    back = browsers.socket(http)
    assert back.is_connected()
    assert back.emit("presence_sync", {}, callback=True)["ok"] is True


def test_a_cut_off_login_is_refused_at_the_handshake_without_a_context(app, browsers, make, frozen_clocks):
    """A client that ignores the cool-down and connects again and again is refused from its
    login cookie alone; another login of the same user is refused by the connect handler."""
    student = make.student(make.school_class(make.teacher()))
    http = browsers.http(student)
    flooder = browsers.socket(http)
    _use_up_the_burst(app, flooder)
    for _ in range(app.config["SOCKET_FLOOD_REFUSALS"] + 1):
        flooder.emit("presence_sync", {}, callback=True)
    assert not flooder.is_connected()

    with WorkCounter(app) as reconnect:
        again = browsers.socket(http)
    assert not again.is_connected()
    assert again.refusal["data"]["code"] == "rate_limited"
    assert again.refusal["data"]["message"].startswith("Live updates are paused for a moment")
    assert 0 < again.refusal["data"]["retry_after"] <= app.config["SOCKET_FLOOD_COOLDOWN_SECONDS"]
    assert (reconnect.contexts, reconnect.statements) == (0, 0)

    # The counter sees a connect that does go through the handler.
    other_login = browsers.http(student)
    with WorkCounter(app) as handled:
        elsewhere = browsers.socket(other_login)
    assert handled.contexts >= 1
    assert not elsewhere.is_connected()
    assert elsewhere.refusal["data"]["code"] == "rate_limited"

    frozen_clocks.now += app.config["SOCKET_FLOOD_COOLDOWN_SECONDS"] + 1
    assert browsers.socket(http).is_connected()


def test_refusals_spread_over_time_do_not_cut_a_socket_off(app, browsers, make, frozen_clocks):
    sock = browsers.connect_as(make.student(make.school_class(make.teacher())))
    for _ in range(3):
        _use_up_the_burst(app, sock)  # (the window's time gave the tokens back)
        for _ in range(app.config["SOCKET_FLOOD_REFUSALS"]):
            assert _code(sock.emit("presence_sync", {}, callback=True)) == "rate_limited"
        frozen_clocks.now += app.config["SOCKET_FLOOD_WINDOW_SECONDS"]
        assert sock.is_connected()


def test_events_without_an_ack_are_refused_and_counted_too(app, browsers, make, frozen_clocks):
    sock = browsers.connect_as(make.student(make.school_class(make.teacher())))
    _use_up_the_burst(app, sock)
    for _ in range(app.config["SOCKET_FLOOD_REFUSALS"] + 1):
        sock.emit("presence_sync", {})
    assert not sock.is_connected()


# ---- real server processes on Redis ------------------------------------------------------------

DEMO_PASSWORD = "crossclass-demo"
STUDENT = "student.porto.1"
OTHER_STUDENT = "student.porto.2"
BURST = 6
REFUSALS = 20
COOLDOWN = 3


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    need_service(redis_available(), f"Redis is not reachable at {REDIS_URL}")
    database_url = f"sqlite:///{tmp_path_factory.mktemp('flood') / 'demo.db'}"
    prepare_database(database_url)
    environ = {
        "SECRET_KEY": secrets.token_hex(32),
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": f"crossclass-test-{secrets.token_hex(6)}",
        # A slow refill: the burst is all a user gets while the test runs.
        "SOCKET_EVENTS_PER_SECOND": "1",
        "SOCKET_EVENT_BURST": str(BURST),
        "SOCKET_FLOOD_REFUSALS": str(REFUSALS),
        "SOCKET_FLOOD_COOLDOWN_SECONDS": str(COOLDOWN),
    }
    started = [ServerProcess(database_url, **environ), ServerProcess(database_url, **environ)]
    try:
        yield [server.start() for server in started]
    finally:
        for server in started:
            server.stop()
        import redis

        connection = redis.Redis.from_url(REDIS_URL)
        keys = list(connection.scan_iter(f"{environ['REDIS_NAMESPACE']}:*"))
        if keys:
            connection.delete(*keys)


def _client(server, cookie) -> tuple[socketio.Client, queue.Queue]:
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": server.url})
    notices: queue.Queue = queue.Queue()
    client.on("rate_limited", notices.put)
    client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=WAIT)
    return client, notices


def _refusal_of(server, cookie) -> dict:
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": server.url})
    refusals: queue.Queue = queue.Queue()
    client.on("connect_error", refusals.put)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=WAIT)
    return refusals.get(timeout=WAIT)["data"]


def _connected_later(server, cookie, deadline: float) -> socketio.Client:
    while True:
        try:
            return _client(server, cookie)[0]
        except socketio.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.services
def test_two_processes_share_one_limit_and_one_cooldown(two_servers):
    first, second = two_servers
    cookie = login_cookie(first.url, STUDENT, DEMO_PASSWORD, timeout=WAIT)
    other_cookie = login_cookie(second.url, OTHER_STUDENT, DEMO_PASSWORD, timeout=WAIT)
    on_first, notices = _client(first, cookie)
    on_second, _ = _client(second, cookie)
    other, _ = _client(second, other_cookie)
    try:
        codes = [_code(on_first.call("presence_sync", {}, timeout=WAIT)) for _ in range(BURST // 2)]
        codes += [_code(on_second.call("presence_sync", {}, timeout=WAIT)) for _ in range(BURST - BURST // 2)]
        assert codes == [None] * BURST
        # The user's burst is used up on both processes together.
        assert _code(on_second.call("presence_sync", {}, timeout=WAIT)) == "rate_limited"
        assert _code(on_first.call("presence_sync", {}, timeout=WAIT)) == "rate_limited"
        # Another user is not held back.
        assert _code(other.call("presence_sync", {}, timeout=WAIT)) is None

        # The first socket floods: it is cut off after REFUSALS refusals...
        for _ in range(REFUSALS + 5):
            on_first.emit("presence_sync", {})
        notice = notices.get(timeout=WAIT)
        assert notice["code"] == "rate_limited" and notice["retry_after"] == COOLDOWN
        deadline = time.monotonic() + WAIT
        while on_first.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not on_first.connected
        # ... and its user is refused by the other process too, for the cool-down.
        refusal = _refusal_of(second, cookie)
        assert refusal["code"] == "rate_limited" and 0 < refusal["retry_after"] <= COOLDOWN
        assert _code(other.call("presence_sync", {}, timeout=WAIT)) is None
        back = _connected_later(second, cookie, time.monotonic() + COOLDOWN + WAIT)
        back.disconnect()
    finally:
        for client in (on_first, on_second, other):
            if client.connected:
                client.disconnect()
    for server in two_servers:
        assert "Traceback" not in server.output()


@pytest.mark.services
def test_a_flood_on_a_real_server_leaves_another_users_sends_working(two_servers):
    first, _second = two_servers
    cookie = login_cookie(first.url, STUDENT, DEMO_PASSWORD, timeout=WAIT)
    other_cookie = login_cookie(first.url, OTHER_STUDENT, DEMO_PASSWORD, timeout=WAIT)
    deadline = time.monotonic() + COOLDOWN + WAIT
    flooder = _connected_later(first, cookie, deadline)  # (a cool-down of the test above may still run)
    other, _ = _client(first, other_cookie)
    stop = threading.Event()

    def flood() -> None:
        while not stop.is_set() and flooder.connected:
            try:
                flooder.emit("no_such_event", {})
            except socketio.exceptions.BadNamespaceError:
                return

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        for _ in range(BURST):
            assert _code(other.call("presence_sync", {}, timeout=WAIT)) is None
    finally:
        stop.set()
        thread.join(WAIT)
        for client in (flooder, other):
            if client.connected:
                client.disconnect()
