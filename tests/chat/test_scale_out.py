"""Chat across two real server processes: one database, one Redis, clients on either side.

Two `wsgi.py` processes (gevent) share a database (SQLite file, and PostgreSQL) and Redis as
the Socket.IO message queue, each test with a REDIS_NAMESPACE of its own. Real
python-socketio clients log in over HTTP and talk WebSocket to one process or the other.

Exactly once without timing: events of one room reach a socket in the order they were
published, so after a "fence" message sent last has arrived, everything sent before it has
arrived too; the events seen up to the fence must then be exactly the expected ones.
"""

from __future__ import annotations

import json
import queue
import re
import secrets
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import socketio

from tests.conftest import (
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    ROOT,
    ServerProcess,
    login_cookie,
    need_service,
    postgres_available,
    prepare_database,
)
from tests.realtime.conftest import redis_namespace  # noqa: F401  (a namespace per test, cleaned up)

pytestmark = pytest.mark.services

PASSWORD = "scale-out-password-1"
WAIT = 10  # seconds; every wait here is a bound against hanging, never the thing tested

# Run in a subprocess: an app built in the test process would bind the shared Socket.IO
# server to this database and disturb the in-process socket tests.
_MAKE_EXCHANGE = """
import json, sys
from app import create_app
from app.auth.models import AccountStatus, ClassLanguage, ClassMembership, Role, School, SchoolClass, User
from app.auth.passwords import hash_password
from app.core.db import utcnow
from app.extensions import db
from app.modules.chat import operations
from app.modules.chat.models import Channel
from app.modules.projects.operations import create_project

app = create_app()
with app.app_context():
    password_hash = hash_password(sys.argv[1])

    def person(username, role, school, school_class=None):
        user = User(username=username, password_hash=password_hash, display_name=username.title(), role=role,
                    status=AccountStatus.ACTIVE, school=school)
        if school_class is not None:
            user.memberships.append(ClassMembership(school_class=school_class, joined_at=utcnow()))
        db.session.add(user)
        return user

    classes = []
    for country, city, zone in (("PT", "Porto", "Europe/Lisbon"), ("DE", "Berlin", "Europe/Berlin")):
        school = School(name=f"School {city}", country=country, city=city, latitude=0, longitude=0, timezone=zone)
        teacher = person(f"teacher.{city.lower()}@example.eu", Role.TEACHER, school)
        classes.append(SchoolClass(school=school, teacher=teacher, name=f"Class {city}", vocational_field="Cooking",
                                   eqf_level=4, size=20, age_min=16, age_max=18, join_code=f"SCALE{country}",
                                   languages=[ClassLanguage(language="en", cefr_level="B1")]))
        db.session.add(classes[-1])
    people = [person("ana", Role.STUDENT, classes[0].school, classes[0]),
              person("ben", Role.STUDENT, classes[1].school, classes[1]),
              person("carla", Role.STUDENT, classes[0].school, classes[0])]
    db.session.flush()
    project = create_project(classes[0].teacher_id, classes, "Scale-out")
    operations.ensure_channels(project)
    db.session.commit()
    channel = db.session.scalar(db.select(Channel).filter_by(project_id=project.id, slug="project"))
    print(json.dumps({"channel_id": channel.id, "users": {p.username: p.id for p in people}}))
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def exchange_database(request, tmp_path_factory):
    """A database of this module's own, migrated, with one exchange of two classes."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('scale_out') / 'chat.db'}"
        dropped = None
    else:
        need_service(postgres_available(), f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
        import psycopg

        name = f"crossclass_scale_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        dropped = name
    try:
        prepare_database(url, seed=False)
        made = subprocess.run(
            [sys.executable, "-c", _MAKE_EXCHANGE, PASSWORD],
            cwd=ROOT,
            env={"DATABASE_URL": url, "SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            text=True,
        )
        facts = json.loads(made.stdout.strip().splitlines()[-1])
        yield SimpleNamespace(url=url, channel_id=facts["channel_id"], users=facts["users"])
    finally:
        if dropped:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')


@pytest.fixture
def two_servers(exchange_database, redis_namespace):  # noqa: F811
    """Processes A and B on the same database and Redis; stopped whatever happens."""
    environ = {
        "SECRET_KEY": secrets.token_hex(32),
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": redis_namespace,
        # Bursts of sends in flight at once (group commit); the limit itself is tested elsewhere.
        "SOCKET_EVENTS_PER_SECOND": "1000",
        "SOCKET_EVENT_BURST": "1000",
    }
    started: list[ServerProcess] = []
    try:
        for _ in range(2):
            started.append(ServerProcess(exchange_database.url, **environ))
            started[-1].start()
        yield started
    finally:
        for server in started:
            server.stop()


class ChatClient:
    """A logged-in python-socketio client over WebSocket; the events it receives queue up
    (those of a chat_event_batch one by one, as the page applies them)."""

    def __init__(self, server: ServerProcess, username: str):
        self.server = server
        self.username = username
        self.cookie = login_cookie(server.url, username, PASSWORD, timeout=WAIT)
        self.events: queue.Queue = queue.Queue()
        self.batch_sizes: list[int] = []  # of each chat_event_batch received
        self.sio: socketio.Client | None = None

    def connect(self) -> ChatClient:
        # websocket-client sends its own Origin header; one in `headers` would be a second.
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": self.server.url})
        self.sio.on("chat_event", self.events.put)
        self.sio.on("chat_event_batch", self._receive_batch)
        self.sio.connect(self.server.url, headers={"Cookie": self.cookie}, transports=["websocket"], wait_timeout=WAIT)
        return self

    def _receive_batch(self, batch: dict) -> None:
        self.batch_sizes.append(len(batch["events"]))
        for event in batch["events"]:
            self.events.put(event)

    def call(self, event: str, payload: dict) -> dict:
        return self.sio.call(event, payload, timeout=WAIT)

    def join(self, channel_id: int, last_seq: int | None = None) -> dict:
        ack = self.call("chat_join", {"channel_id": channel_id, "last_seq": last_seq})
        assert ack["ok"], ack
        return ack

    def send(self, channel_id: int, body: str, client_id: str | None = None) -> dict:
        payload = {"channel_id": channel_id, "client_id": client_id or str(uuid.uuid4()), "body": body}
        return self.call("chat_send", payload)

    def events_until(self, seq: int) -> list[dict]:
        """Every chat_event received up to and including the one with this seq."""
        seen = []
        while not seen or seen[-1]["seq"] != seq:
            try:
                seen.append(self.events.get(timeout=WAIT))
            except queue.Empty:
                pytest.fail(f"{self.username} on {self.server.url}: no event with seq {seq}; got {seen}")
        return seen

    def close(self) -> None:
        if self.sio is not None and self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def chat_clients():
    opened: list[ChatClient] = []

    def open_client(server: ServerProcess, username: str) -> ChatClient:
        opened.append(ChatClient(server, username).connect())
        return opened[-1]

    yield open_client
    # A client's disconnect waits for its read loop to end: close them all at once.
    with ThreadPoolExecutor(max_workers=max(1, len(opened))) as pool:
        list(pool.map(ChatClient.close, opened))


def wait_until_subscribed(namespace: str, processes: int) -> None:
    """A process subscribes to the Socket.IO channel in Redis after its first socket
    connects; an event published before that would never reach its sockets."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    channel = f"{namespace}:socketio"
    deadline = time.monotonic() + WAIT
    try:
        while dict(connection.pubsub_numsub(channel)).get(channel.encode(), 0) < processes:
            assert time.monotonic() < deadline, f"fewer than {processes} servers subscribed to {channel}"
            time.sleep(0.05)
    finally:
        connection.close()


def test_a_message_sent_on_one_process_arrives_once_on_the_other(
    exchange_database,
    two_servers,
    redis_namespace,  # noqa: F811
    chat_clients,
):
    server_a, server_b = two_servers
    channel_id = exchange_database.channel_id
    ana = chat_clients(server_a, "ana")
    ben = chat_clients(server_b, "ben")
    start = ana.join(channel_id)["channel"]["last_seq"]
    assert ben.join(channel_id)["channel"]["last_seq"] == start
    wait_until_subscribed(redis_namespace, 2)

    sent = ana.send(channel_id, "Olá from process A")
    assert sent["ok"] and sent["duplicate"] is False and sent["seq"] == start + 1
    fence = ana.send(channel_id, "fence")
    assert fence["ok"] and fence["seq"] == start + 2

    for reader in (ben, ana):  # the other process's client, and the sender's own
        received = reader.events_until(fence["seq"])
        assert [(e["kind"], e["seq"]) for e in received] == [("message", start + 1), ("message", start + 2)]
        message = received[0]["message"]
        assert (message["id"], message["seq"], message["body_source"]) == (
            sent["id"],
            sent["seq"],
            "Olá from process A",
        )
        assert message["author_id"] == exchange_database.users["ana"]


def test_messages_sent_while_away_are_replayed_once_and_in_order(
    exchange_database,
    two_servers,
    redis_namespace,  # noqa: F811
    chat_clients,
):
    server_a, server_b = two_servers
    channel_id = exchange_database.channel_id
    ana = chat_clients(server_a, "ana")
    carla = chat_clients(server_b, "carla")
    ben = chat_clients(server_b, "ben")
    ben.join(channel_id)
    wait_until_subscribed(redis_namespace, 2)
    seen = ana.send(channel_id, "before the break")
    last_seq = ben.events_until(seen["seq"])[-1]["seq"]
    ben.close()

    # Written on both processes while Ben is away; seqs interleave through the database.
    away = []
    for n, writer in enumerate([ana, carla, ana, carla, ana]):
        ack = writer.send(channel_id, f"away {n}")
        assert ack["ok"], ack
        away.append((ack["seq"], f"away {n}"))
    assert [seq for seq, _ in away] == list(range(last_seq + 1, last_seq + 6))

    ben = chat_clients(server_b, "ben")
    rejoin = ben.join(channel_id, last_seq=last_seq)
    assert rejoin["has_more"] is False
    assert [(e["seq"], e["message"]["body_source"]) for e in rejoin["events"]] == away

    # Nothing of the replay comes a second time live; live delivery resumes after it, once.
    back, fence = ana.send(channel_id, "back again"), carla.send(channel_id, "fence")
    assert [e["seq"] for e in ben.events_until(fence["seq"])] == [back["seq"], fence["seq"]]


def test_one_client_id_sent_through_both_processes_is_one_message(
    exchange_database,
    two_servers,
    redis_namespace,  # noqa: F811
    chat_clients,
):
    server_a, server_b = two_servers
    channel_id = exchange_database.channel_id
    ana_on_a, ana_on_b = chat_clients(server_a, "ana"), chat_clients(server_b, "ana")
    ben = chat_clients(server_a, "ben")
    start = ben.join(channel_id)["channel"]["last_seq"]
    wait_until_subscribed(redis_namespace, 2)

    # A retry through the other process, after the first attempt committed.
    client_id = str(uuid.uuid4())
    first = ana_on_a.send(channel_id, "only once", client_id)
    retry = ana_on_b.send(channel_id, "only once", client_id)
    assert first["ok"] and retry["ok"]
    assert (retry["id"], retry["seq"]) == (first["id"], first["seq"]) == (first["id"], start + 1)
    assert (first["duplicate"], retry["duplicate"]) == (False, True)

    # Both processes at once: whichever commits first wins, the other answers with its row.
    racing_id = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=2) as pool:
        acks = list(pool.map(lambda sock: sock.send(channel_id, "racing", racing_id), [ana_on_a, ana_on_b]))
    assert all(ack["ok"] for ack in acks), acks
    assert {(ack["id"], ack["seq"]) for ack in acks} == {(acks[0]["id"], start + 2)}
    assert sorted(ack["duplicate"] for ack in acks) == [False, True]

    fence = ana_on_a.send(channel_id, "fence")
    assert fence["seq"] == start + 3
    received = ben.events_until(fence["seq"])
    assert [(e["seq"], e["message"]["client_id"]) for e in received[:2]] == [
        (start + 1, client_id),
        (start + 2, racing_id),
    ]
    assert len(received) == 3


def test_a_burst_of_sends_on_both_processes_is_group_committed_without_loss_or_gap(
    exchange_database,
    two_servers,
    redis_namespace,  # noqa: F811
    chat_clients,
):
    """Sends in flight at once share transactions (chat/group_commit.py) and reach readers as
    chat_event_batch: each still gets its own ack with a unique seq, the seqs leave no gap,
    a retry racing its original in the same burst is one message, and every reader gets
    every message once."""
    server_a, server_b = two_servers
    channel_id = exchange_database.channel_id
    ana, carla = chat_clients(server_a, "ana"), chat_clients(server_b, "carla")
    ben_on_a, ben_on_b = chat_clients(server_a, "ben"), chat_clients(server_b, "ben")
    start = ana.join(channel_id)["channel"]["last_seq"]
    for reader in (carla, ben_on_a, ben_on_b):
        reader.join(channel_id)
    wait_until_subscribed(redis_namespace, 2)

    burst = 30
    retried = [str(uuid.uuid4()) for _ in range(3)]
    acks: queue.Queue = queue.Queue()

    def answered(username: str, client_id: str):
        return lambda ack: acks.put(((username, client_id), ack))

    sends = []
    for n in range(burst):
        for writer in (ana, carla):
            client_id = str(uuid.uuid4())
            sends.append((writer.username, client_id))
            payload = {"channel_id": channel_id, "client_id": client_id, "body": f"{writer.username} {n}"}
            writer.sio.emit("chat_send", payload, callback=answered(writer.username, client_id))
        if n < len(retried):  # the original and its retry both in flight
            for _ in range(2):
                payload = {"channel_id": channel_id, "client_id": retried[n], "body": "sent twice"}
                ana.sio.emit("chat_send", payload, callback=answered("ana", retried[n]))
    answers = [acks.get(timeout=WAIT * 3) for _ in range(len(sends) + 2 * len(retried))]

    assert all(ack["ok"] for _key, ack in answers), [ack for _key, ack in answers if not ack["ok"]]
    by_client_id: dict[str, list[dict]] = {}
    for (_username, client_id), ack in answers:
        by_client_id.setdefault(client_id, []).append(ack)
    for client_id in retried:
        first, second = by_client_id[client_id]
        assert (first["id"], first["seq"]) == (second["id"], second["seq"])
        assert sorted([first["duplicate"], second["duplicate"]]) == [False, True]
    new_seqs = sorted(ack["seq"] for acks_of in by_client_id.values() for ack in acks_of if not ack["duplicate"])
    assert new_seqs == list(range(start + 1, start + 1 + len(sends) + len(retried))), "seqs unique and gap-free"

    # Each process publishes in its own order: a fence from each, and all before them is in.
    fences = [ana.send(channel_id, "fence A")["seq"], carla.send(channel_id, "fence B")["seq"]]
    expected = {*new_seqs, *fences}
    for reader in (ana, carla, ben_on_a, ben_on_b):
        received: list[dict] = []
        deadline = time.monotonic() + WAIT * 3
        while not set(fences) <= {event["seq"] for event in received}:
            assert time.monotonic() < deadline, f"{reader.username}: fences not received"
            received.append(reader.events.get(timeout=WAIT * 3))
        seqs = [event["seq"] for event in received]
        assert sorted(seqs) == sorted(expected), f"{reader.username}: each message exactly once"
    assert any(size > 1 for reader in (ana, carla, ben_on_a, ben_on_b) for size in reader.batch_sizes), (
        "no chat_event_batch: the burst was not group-committed"
    )


def test_a_logout_on_one_process_ends_the_socket_check_kept_on_the_other(
    exchange_database,
    two_servers,
    redis_namespace,  # noqa: F811
    chat_clients,
):
    """Socket events keep their session and channel checks (app/realtime/auth_cache.py):
    a change committed on another process must still count for the very next event."""

    server_a, server_b = two_servers
    channel_id = exchange_database.channel_id
    ben = chat_clients(server_a, "ben")
    ben.join(channel_id)
    assert ben.send(channel_id, "one")["ok"] and ben.send(channel_id, "two, on the kept check")["ok"]
    wait_until_subscribed(redis_namespace, 1)  # A, where the socket is (B serves HTTP only here)

    # The same login, logged out through the other process (as from a second tab behind nginx).
    log_out_through(server_b, ben.cookie)
    try:
        refused = ben.send(channel_id, "three, after logging out")
    except (socketio.exceptions.BadNamespaceError, socketio.exceptions.TimeoutError):
        # The logout also disconnects the login's sockets (test below), and that may come first.
        assert wait_until(lambda: not ben.sio.connected)
    else:
        assert refused["ok"] is False and refused["error"]["code"] == "unauthorized"


def log_out_through(server: ServerProcess, cookie: str) -> None:
    """Logs the login of this session cookie out over real HTTP, on this process."""
    import requests

    page = requests.get(f"{server.url}/", headers={"Cookie": cookie}, timeout=WAIT)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    # The page put its CSRF token in the session cookie: send that one back with it.
    cookie = next(r.cookies for r in (page, *reversed(page.history)) if "crossclass_session" in r.cookies)
    logout = requests.post(
        f"{server.url}/logout",
        data={"csrf_token": token},
        headers={"Cookie": f"crossclass_session={cookie['crossclass_session']}"},
        allow_redirects=False,
        timeout=WAIT,
    )
    assert logout.status_code == 302


def wait_until(condition) -> bool:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_logout_on_one_process_disconnects_the_logins_listening_socket_on_the_other(
    exchange_database,
    two_servers,
    redis_namespace,  # noqa: F811
    chat_clients,
):
    """A socket that only listens is never refused by a check: ending its login must
    disconnect it, on whichever process holds it (app/realtime/revoke.py)."""
    server_a, server_b = two_servers
    channel_id = exchange_database.channel_id
    ana = chat_clients(server_a, "ana")
    ana.join(channel_id)
    ben = chat_clients(server_a, "ben")  # another person on A, who keeps hearing
    ben.join(channel_id)
    carla = chat_clients(server_b, "carla")
    wait_until_subscribed(redis_namespace, 2)

    log_out_through(server_b, ana.cookie)

    assert wait_until(lambda: not ana.sio.connected), "the ended login's socket on A is still connected"
    fence = carla.send(channel_id, "said after Ana logged out")
    assert fence["ok"], fence
    assert ben.events_until(fence["seq"])[-1]["message"]["body_source"] == "said after Ana logged out"
    assert ana.events.empty()


def test_a_mute_on_one_process_holds_at_once_on_the_other(
    exchange_database,
    two_servers,
    redis_namespace,  # noqa: F811
    chat_clients,
):
    # Last in the module: Carla stays muted in its exchange.
    server_a, server_b = two_servers
    channel_id = exchange_database.channel_id
    carla = chat_clients(server_a, "carla")
    carla.join(channel_id)
    assert carla.send(channel_id, "one")["ok"] and carla.send(channel_id, "two, on the kept check")["ok"]
    teacher = chat_clients(server_b, "teacher.porto@example.eu")
    teacher.join(channel_id)
    wait_until_subscribed(redis_namespace, 2)

    muted = teacher.call(
        "chat_mute", {"channel_id": channel_id, "user_id": exchange_database.users["carla"], "minutes": 15}
    )
    assert muted["ok"], muted
    refused = carla.send(channel_id, "three, muted on the other process")
    assert refused["ok"] is False and refused["error"]["code"] == "muted"
