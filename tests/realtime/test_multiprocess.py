"""Real `wsgi.py` servers (gevent) and real Socket.IO clients over WebSocket.

Two processes share one SQLite database and Redis: a student connecting to one process
reaches their teacher's socket on the other, through the Socket.IO message queue and the
shared presence table.
"""

from __future__ import annotations

import contextlib
import queue
import secrets
import sqlite3

import pytest
import requests
import socketio

from tests.conftest import REDIS_URL, ServerProcess, login_cookie, prepare_database

DEMO_PASSWORD = "crossclass-demo"
TEACHER = "ana.porto@demo.crossclass.eu"  # teaches Cozinha 11A
STUDENT = "student.porto.1"  # in Cozinha 11A
OTHER_TEACHER = "joao.porto@demo.crossclass.eu"  # teaches Restaurante 12B, not student.porto.1
WAIT = 10  # seconds; every wait in this file is bounded

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("multiprocess") / "demo.db"
    prepare_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def servers(demo_database):
    """Starts servers on the demo database; stops every one of them whatever happens."""
    started: list[ServerProcess] = []
    secret_key = secrets.token_hex(32)

    def start(**environ) -> ServerProcess:
        server = ServerProcess(f"sqlite:///{demo_database}", SECRET_KEY=secret_key, **environ)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def user_id(database, username: str) -> int:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return connection.execute('SELECT id FROM "user" WHERE username = ?', (username,)).fetchone()[0]


class LiveClient:
    """A socketio.Client over WebSocket; `presence` events and connect refusals land in queues."""

    def __init__(self):
        self.sio: socketio.Client | None = None
        self.presence: queue.Queue = queue.Queue()
        self.refusals: queue.Queue = queue.Queue()

    def connect(self, server: ServerProcess, cookie: str, origin: str | None = None) -> LiveClient:
        # websocket-client sends its own Origin header; an Origin in `headers` would be a
        # second one, so the origin goes in as the handshake option.
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin or server.url})
        self.sio.on("presence", self.presence.put)
        self.sio.on("connect_error", self.refusals.put)
        self.sio.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=WAIT)
        return self

    def next_presence(self) -> dict:
        try:
            return self.presence.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no presence event within {WAIT} s")

    def call(self, event: str, payload=None):
        return self.sio.call(event, payload or {}, timeout=WAIT)

    def close(self) -> None:
        if self.sio is not None:
            self.sio.disconnect()


@pytest.fixture
def live_clients():
    opened: list[LiveClient] = []

    def open_client() -> LiveClient:
        opened.append(LiveClient())
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


def wait_for_subscriber(namespace: str, subscribers: int) -> None:
    """Waits until that many processes listen on the Socket.IO channel in Redis.

    A process subscribes when its first socket connects; an event published before that
    would reach nobody there, and the test would wait for it in vain.
    """
    import time

    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    channel = f"{namespace}:socketio"
    deadline = time.monotonic() + WAIT
    try:
        while dict(connection.pubsub_numsub(channel)).get(channel.encode(), 0) < subscribers:
            assert time.monotonic() < deadline, f"fewer than {subscribers} servers subscribed to {channel}"
            time.sleep(0.05)
    finally:
        connection.close()


def test_presence_crosses_processes_through_redis(demo_database, servers, redis_namespace, live_clients):
    environ = {"REDIS_URL": REDIS_URL, "REDIS_NAMESPACE": redis_namespace}
    server_a, server_b = servers(**environ), servers(**environ)
    student_id = user_id(demo_database, STUDENT)

    teacher = live_clients().connect(server_a, login_cookie(server_a.url, TEACHER, DEMO_PASSWORD, timeout=WAIT))
    other_teacher = live_clients().connect(
        server_b, login_cookie(server_b.url, OTHER_TEACHER, DEMO_PASSWORD, timeout=WAIT)
    )
    wait_for_subscriber(redis_namespace, 2)
    assert teacher.call("presence_sync") == {"ok": True, "online": []}

    student = live_clients().connect(server_b, login_cookie(server_b.url, STUDENT, DEMO_PASSWORD, timeout=WAIT))
    assert teacher.next_presence() == {"user_id": student_id, "online": True}
    # The presence table is shared too: a teacher reloading on process A sees the student.
    assert teacher.call("presence_sync") == {"ok": True, "online": [student_id]}

    student.close()
    assert teacher.next_presence() == {"user_id": student_id, "online": False}
    assert teacher.call("presence_sync") == {"ok": True, "online": []}
    assert other_teacher.presence.empty()


def test_real_server_refuses_a_foreign_origin(servers, live_clients):
    server = servers()
    cookie = login_cookie(server.url, TEACHER, DEMO_PASSWORD, timeout=WAIT)

    with pytest.raises(socketio.exceptions.ConnectionError):
        live_clients().connect(server, cookie, origin="https://evil.example")
    # Engine.IO turns the handshake away before any Socket.IO handler runs.
    handshake = requests.get(
        f"{server.url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Cookie": cookie, "Origin": "https://evil.example"},
        timeout=WAIT,
    )
    assert handshake.status_code == 400
    # The same session from the server's own origin is welcome.
    assert live_clients().connect(server, cookie).call("presence_sync")["ok"] is True


def test_real_server_refuses_a_socket_without_a_session(servers, live_clients):
    server = servers()
    client = live_clients()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server, cookie="")
    refusal = client.refusals.get(timeout=WAIT)
    assert refusal["data"]["code"] == "unauthorized"
    assert refusal["message"] == refusal["data"]["message"]
