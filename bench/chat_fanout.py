"""Chat fan-out: N clients in one channel, S of them sending; CrossClass against a bare server.

Run by hand, never from pytest. For each server kind, CrossClass (`wsgi.py`, logged-in
students of one exchange, the real `chat_join` / `chat_send` / `chat_event`) and then a bare
Flask-SocketIO broadcast server (`bench/bare_broadcast_server.py`, same async mode, same
events and payload shapes, no login and no database), it connects the same N clients,
joins them to the channel and runs two phases:

- rate: S senders at R messages/s in total (open loop, on a fixed schedule) for D seconds;
- saturation: each sender keeps `--window` messages in flight, sending the next as soon as
  one is acked, for D seconds.

Every message's body carries its send time; every client records when it received each
`chat_event`, keyed by seq. Printed per phase: messages acked, deliveries per second,
end-to-end latency (send call to receipt by each client) p50 / p99 / max, lost (acked but
not received by some client) and duplicated deliveries, ack latency, and the cores busy
(servers, clients, the whole machine), and for CrossClass the events that came after a
higher seq with what the page's gap repair would fetch for them (ArrivalOrder); then
CrossClass / bare for deliveries per second at saturation and both p99s in the rate phase,
against the targets of the chat issue.

    .venv/bin/python bench/chat_fanout.py                         # SQLite, one process
    .venv/bin/python bench/chat_fanout.py --database postgresql   # database bench_chat, recreated
    .venv/bin/python bench/chat_fanout.py --redis redis://127.0.0.1:6379/0   # two processes each

Clients are lean Engine.IO 4 / Socket.IO 5 speakers over websocket-client (one thread per
connection, spread over --workers processes): python-socketio's client starts a thread per
received event, and on a small machine the load generator would measure itself. The
servers get per-user rate limits high enough not to refuse the senders (SERVER_LIMITS
below); everything else is as configured by default.
"""

from __future__ import annotations

import argparse
import base64
import functools
import itertools
import json
import multiprocessing
import os
import secrets
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-1"
BENCH_DATABASE = "bench_chat"
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
SERVER_LIMITS = {"SOCKET_EVENTS_PER_SECOND": "1000", "SOCKET_EVENT_BURST": "10000"}
FILLER = "Hello from the kitchen in Porto, here is our menu for Friday: caldo verde and bacalhau."
CONNECT_TIMEOUT = 30
ACK_TIMEOUT = 30
DRAIN_TIMEOUT = 60
BOUND_CORES = 0.85  # a server process this busy is CPU-bound: the ratio measures the servers
LATE_DUPLICATE_GRACE = 0.5  # seconds to keep listening for duplicates after the last expected event

# ---- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One server process (CrossClass's wsgi.py or the bare broadcast server)."""

    def __init__(self, script: str, environ: dict, args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.script = script
        if args.wrapper:
            self.command = [sys.executable, args.wrapper, script]
        else:
            self.command = [sys.executable, script]
        self.environ = {
            **os.environ,
            "PORT": str(self.port),
            "ALLOWED_ORIGINS": f"http://127.0.0.1:{self.port}",
            "PYTHONUNBUFFERED": "1",
            **environ,
        }
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed in stop())

    def start(self) -> Server:
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.environ, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.script} exited: {self.log.read()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.script} did not start within 30 s")

    def cpu_seconds(self) -> float:
        return sum(self.user_and_system_seconds())

    def user_and_system_seconds(self) -> tuple[float, float]:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.seek(0)
        errors = [line for line in self.log.read().splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            print(f"  ! {self.script} logged {len(errors)} error lines, first: {errors[0]}")
        self.log.close()


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy so far (server, database, Redis and clients alike)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait
    return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")


def wait_until_subscribed(redis_url: str, channel: str, processes: int) -> None:
    """A process subscribes to the message queue after its first socket connects."""
    import redis

    connection = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    try:
        while dict(connection.pubsub_numsub(channel)).get(channel.encode(), 0) < processes:
            if time.monotonic() > deadline:
                raise RuntimeError(f"fewer than {processes} processes subscribed to {channel}")
            time.sleep(0.05)
    finally:
        connection.close()


# ---- CrossClass data ---------------------------------------------------------------------


def bench_database_url(kind: str, tmp: str) -> str:
    if kind == "sqlite":
        # A new file per CrossClass run (--pairs runs several in one temporary directory).
        return f"sqlite:///{tempfile.mkdtemp(dir=tmp)}/bench_chat.db"
    import psycopg

    # The bench's own database, made afresh: the test databases are never touched.
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"


def create_exchange(database_url: str, students: int) -> tuple[int, list[str]]:
    """Two classes in one exchange, `students` pupils spread over them; the channel's id and the logins."""
    from app import create_app
    from app.auth.models import AccountStatus, ClassLanguage, ClassMembership, Role, School, SchoolClass, User
    from app.auth.passwords import hash_password
    from app.core.db import utcnow
    from app.extensions import db
    from app.modules.chat import operations
    from app.modules.chat.models import Channel
    from app.modules.projects.operations import create_project

    app = create_app(environ={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "b" * 40})
    with app.app_context():
        password_hash = hash_password(PASSWORD)  # once: every bench account shares it
        classes = []
        for country, city in (("PT", "Porto"), ("DE", "Berlin")):
            school = School(name=f"Bench {city}", country=country, city=city, latitude=0, longitude=0, timezone="UTC")
            teacher = User(
                username=f"bench.{city.lower()}@example.eu", password_hash=password_hash,
                display_name=f"Teacher {city}", role=Role.TEACHER, status=AccountStatus.ACTIVE, school=school,
            )  # fmt: skip
            classes.append(
                SchoolClass(
                    school=school, teacher=teacher, name=f"Bench {city}", vocational_field="Cooking", eqf_level=4,
                    size=students, age_min=16, age_max=19, join_code=f"BENCH{country}",
                    languages=[ClassLanguage(language="en", cefr_level="B1")],
                )
            )  # fmt: skip
        db.session.add_all(classes)
        names = [f"bench-student-{n}" for n in range(students)]
        for n, name in enumerate(names):
            school_class = classes[n % 2]
            db.session.add(
                User(
                    username=name, password_hash=password_hash, display_name=f"Student {n}", role=Role.STUDENT,
                    status=AccountStatus.ACTIVE, school=school_class.school,
                    memberships=[ClassMembership(school_class=school_class, joined_at=utcnow())],
                )
            )  # fmt: skip
        db.session.flush()
        project = create_project(classes[0].teacher_id, classes, "Chat fan-out bench")
        operations.ensure_channels(project)
        db.session.commit()
        channel_id = db.session.scalar(db.select(Channel.id).filter_by(project_id=project.id, slug="project"))
        db.engine.dispose()
        return channel_id, names


# ---- clients (in worker processes) -------------------------------------------------------


@dataclass
class PhaseLog:
    """What one client saw of one phase."""

    tag: str
    counts: dict[int, int] = field(default_factory=dict)  # seq -> times received
    latencies_ms: list[float] = field(default_factory=list)  # first receipt of each seq
    stray: int = 0  # events of this channel from another phase (late, or early)
    last_ns: int = 0

    def record(self, tag: str, seq: int, sent_ns: int, received_ns: int) -> None:
        """One message received: counted by seq, its latency taken at its first receipt."""
        if tag != self.tag:
            self.stray += 1
            return
        seen = self.counts.get(seq, 0)
        self.counts[seq] = seen + 1
        if not seen:
            self.latencies_ms.append((received_ns - sent_ns) / 1e6)
            self.last_ns = received_ns


# What reordering costs: chat.js applies a channel's events in seq order and fetches a gap
# (chat_events) when one stays open REPAIR_WAIT_SECONDS. The servers deliver each channel in
# seq order (app/realtime/ordering.py), so a gap here means an event was late past their window.
REPAIR_WAIT_SECONDS = 0.25  # static/js/chat.js, REPAIR_DELAY_MS


class ArrivalOrder:
    """One client's chat events in arrival order: how many came after a higher seq, and what
    chat.js's gap repair would fetch for them, both waiting REPAIR_WAIT_SECONDS (chat.js now)
    and asking at once (chat.js before the wait). A fetch is simulated, not made: it brings
    every missing seq below the highest one held, one chat_events call per missing range."""

    def __init__(self):
        self._lock = threading.Lock()
        self._highest = None
        self._policies = {"waiting": _RepairPolicy(int(REPAIR_WAIT_SECONDS * 1e9)), "at_once": _RepairPolicy(0)}
        self.late = 0  # events that arrived after a higher seq

    def start(self, last_seq: int) -> None:
        """From the join's channel.last_seq, as the page starts."""
        with self._lock:
            self._highest = last_seq
            for policy in self._policies.values():
                policy.last = last_seq

    def arrive(self, seq: int, now_ns: int) -> None:
        with self._lock:
            if self._highest is None:
                return
            if seq < self._highest:
                self.late += 1
            self._highest = max(self._highest, seq)
            for policy in self._policies.values():
                policy.arrive(seq, now_ns)

    def take_counts(self, now_ns: int) -> dict:
        """The counts since the last call (a phase), after repairs due by now."""
        with self._lock:
            counts = {"late": self.late}
            self.late = 0
            for name, policy in self._policies.items():
                policy.repair_if_due(now_ns)
                counts[f"{name}_calls"], counts[f"{name}_fetched"] = policy.calls, policy.fetched
                policy.calls = policy.fetched = 0
            return counts


class _RepairPolicy:
    def __init__(self, wait_ns: int):
        self.wait_ns = wait_ns
        self.last = None  # the highest seq applied with nothing missing below it
        self.ahead: set[int] = set()
        self.gap_since = None  # chat.js's repair timer, started when a gap opens
        self.calls = 0
        self.fetched = 0

    def arrive(self, seq: int, now_ns: int) -> None:
        self.repair_if_due(now_ns)
        if seq <= self.last:
            return
        self.ahead.add(seq)
        while self.last + 1 in self.ahead:
            self.last += 1
            self.ahead.remove(self.last)
        if not self.ahead:
            self.gap_since = None
        elif self.gap_since is None:
            self.gap_since = now_ns
            self.repair_if_due(now_ns)

    def repair_if_due(self, now_ns: int) -> None:
        if self.gap_since is None or now_ns - self.gap_since < self.wait_ns:
            return
        held = sorted(self.ahead)
        self.calls += 1 + sum(1 for low, high in itertools.pairwise(held) if high > low + 1)
        self.fetched += held[-1] - self.last - len(held)
        self.last, self.ahead, self.gap_since = held[-1], set(), None


class LeanClient:
    """Engine.IO 4 / Socket.IO 5 over one WebSocket, in the default namespace, JSON only."""

    def __init__(self, url: str, cookie: str | None):
        self.url = url
        self.cookie = cookie
        self.ws = None
        self.log = PhaseLog("")
        self._ack_ids = itertools.count(1)
        self._acks: dict[int, object] = {}  # ack id -> callback(result)
        self._connected = threading.Event()
        self.refusal = None
        self.order = ArrivalOrder()

    def connect(self) -> LeanClient:
        import websocket

        ws_url = self.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        headers = [f"Cookie: {self.cookie}"] if self.cookie else []
        self.ws = websocket.create_connection(
            ws_url, header=headers, origin=self.url, timeout=CONNECT_TIMEOUT, skip_utf8_validation=True
        )
        opening = self.ws.recv()
        if not opening.startswith("0"):
            raise RuntimeError(f"unexpected Engine.IO opening {opening[:100]!r}")
        self.ws.settimeout(None)
        threading.Thread(target=self._read_forever, daemon=True).start()
        self.ws.send("40")
        if not self._connected.wait(CONNECT_TIMEOUT) or self.refusal:
            raise RuntimeError(f"socket refused: {self.refusal}")
        return self

    def emit(self, event: str, data, callback=None) -> None:
        if callback is None:
            self.ws.send("42" + json.dumps([event, data], separators=(",", ":")))
            return
        ack_id = next(self._ack_ids)
        self._acks[ack_id] = callback
        self.ws.send(f"42{ack_id}" + json.dumps([event, data], separators=(",", ":")))

    def call(self, event: str, data, timeout: float = ACK_TIMEOUT):
        answer = []
        done = threading.Event()

        def receive(result):
            answer.append(result)
            done.set()

        self.emit(event, data, receive)
        if not done.wait(timeout):
            raise RuntimeError(f"no ack for {event} within {timeout} s")
        return answer[0]

    def _read_forever(self) -> None:
        import websocket

        try:
            while True:
                frame = self.ws.recv()
                if not frame:
                    return
                received_ns = time.time_ns()
                kind = frame[0]
                if kind == "2":  # Engine.IO ping: answer, or the server drops us
                    self.ws.send("3")
                elif frame.startswith("42"):
                    name, data = json.loads(frame[2:])
                    if name == "chat_event":
                        self._on_chat_event(data, received_ns)
                    elif name == "chat_event_batch":  # group commit: several messages in one frame
                        for event in data["events"]:
                            self._on_chat_event(event, received_ns)
                elif frame.startswith("43"):
                    bracket = frame.index("[")
                    callback = self._acks.pop(int(frame[2:bracket]), None)
                    if callback is not None:
                        callback(json.loads(frame[bracket:])[0])
                elif frame.startswith("40"):
                    self._connected.set()
                elif frame.startswith("44"):
                    self.refusal = frame[2:]
                    self._connected.set()
                elif kind == "1":
                    return
        except (websocket.WebSocketException, OSError):
            return

    def _on_chat_event(self, data: dict, received_ns: int) -> None:
        self.order.arrive(data["seq"], received_ns)
        message = data.get("message")
        if not message or not message.get("body_source"):
            return  # not a message of this bench (a lock, a tombstone)
        # body: "<phase tag> <sender> <n> <send time ns> <filler>"
        tag, _sender, _n, sent_ns = message["body_source"].split(" ", 4)[:4]
        self.log.record(tag, data["seq"], int(sent_ns), received_ns)

    def close(self) -> None:
        try:
            self.ws.send("41")
            self.ws.close(timeout=0.2)
        except Exception:  # noqa: S110  (already gone: nothing to close)
            pass


class Sender:
    """Sends chat_send from one client, on a schedule (rate) or as acks come back (saturation)."""

    def __init__(self, client: LeanClient, index: int, channel_id: int):
        self.client = client
        self.index = index
        self.channel_id = channel_id
        self.acked: list[int] = []
        self.ack_ms: list[float] = []
        self.errors: dict[str, int] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._settled = threading.Condition(self._lock)

    def _send(self, tag: str, n: int, on_ack=None) -> None:
        sent_ns = time.time_ns()
        body = f"{tag} {self.index} {n} {sent_ns} {FILLER}"
        payload = {"channel_id": self.channel_id, "client_id": str(uuid.uuid4()), "body": body}

        def acked(result):
            with self._lock:
                if isinstance(result, dict) and result.get("ok"):
                    self.acked.append(result["seq"])
                    self.ack_ms.append((time.time_ns() - sent_ns) / 1e6)
                else:
                    code = result.get("error", {}).get("code", "?") if isinstance(result, dict) else repr(result)
                    self.errors[code] = self.errors.get(code, 0) + 1
                self._in_flight -= 1
                self._settled.notify_all()
            if on_ack is not None:
                on_ack()

        with self._lock:
            self._in_flight += 1
        self.client.emit("chat_send", payload, acked)

    def run_rate(self, tag: str, start: float, stop: float, interval: float, offset: float) -> None:
        for n in itertools.count():
            due = start + offset + n * interval
            if due >= stop:
                break
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            self._send(tag, n)
        self._wait_settled()

    def run_saturation(self, tag: str, start: float, stop: float, window: int) -> None:
        slots = threading.Semaphore(window)
        time.sleep(max(0.0, start - time.time()))
        for n in itertools.count():
            while not slots.acquire(timeout=0.05):
                if time.time() >= stop:
                    break
            if time.time() >= stop:
                break
            self._send(tag, n, slots.release)
        self._wait_settled()

    def _wait_settled(self) -> None:
        deadline = time.monotonic() + ACK_TIMEOUT
        with self._lock:
            while self._in_flight and time.monotonic() < deadline:
                self._settled.wait(timeout=0.1)
            lost_acks = self._in_flight
        if lost_acks:
            self.errors["no_ack"] = self.errors.get("no_ack", 0) + lost_acks


def worker_main(connection, specs: list[dict], channel_id: int) -> None:
    """One client process: connects its clients, then runs what the parent says, phase by phase."""
    clients: list[LeanClient] = []
    senders: list[Sender] = []
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            clients = list(pool.map(lambda spec: LeanClient(spec["url"], spec["cookie"]).connect(), specs))
        for client in clients:
            joined = client.call("chat_join", {"channel_id": channel_id})
            if not joined.get("ok"):
                raise RuntimeError(f"chat_join refused: {joined}")
            client.order.start(joined["channel"]["last_seq"])
        senders = [
            Sender(client, spec["sender_index"], channel_id)
            for client, spec in zip(clients, specs, strict=True)
            if spec["sender_index"] is not None
        ]
        connection.send(("ready", None))
    except Exception as error:
        connection.send(("failed", repr(error)))
        return

    while True:
        command, arguments = connection.recv()
        if command == "close":
            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(LeanClient.close, clients))
            connection.send(("closed", None))
            return
        if command == "send":
            cpu_before = time.process_time()
            tag = arguments["tag"]
            for client in clients:
                client.log = PhaseLog(tag)
                client.order.take_counts(time.time_ns())  # the phase's counts start here
            for sender in senders:
                sender.acked, sender.ack_ms, sender.errors = [], [], {}
            threads = [threading.Thread(target=_sender_target(sender, arguments)) for sender in senders]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            acked = [seq for sender in senders for seq in sender.acked]
            ack_ms = [ms for sender in senders for ms in sender.ack_ms]
            errors: dict[str, int] = {}
            for sender in senders:
                for code, count in sender.errors.items():
                    errors[code] = errors.get(code, 0) + count
            connection.send(("sent", {"acked": acked, "ack_ms": ack_ms, "errors": errors}))
            expected = set(connection.recv()[1])
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while time.monotonic() < deadline and not all(expected <= client.log.counts.keys() for client in clients):
                time.sleep(0.02)
            time.sleep(LATE_DUPLICATE_GRACE)
            summary = received_summary(clients, expected, time.process_time() - cpu_before)
            connection.send(("received", summary))


def _sender_target(sender: Sender, arguments: dict):
    if arguments["mode"] == "rate":
        interval = arguments["senders"] / arguments["rate"]
        offset = sender.index / arguments["rate"]  # staggered, so the total rate is even
        return lambda: sender.run_rate(arguments["tag"], arguments["start"], arguments["stop"], interval, offset)
    return lambda: sender.run_saturation(arguments["tag"], arguments["start"], arguments["stop"], arguments["window"])


# ---- loop client: one selectors loop per worker process (the default) -------------------
#
# The thread-per-connection client above costs more CPU per delivery than the bare server
# spends sending it, so with it the bench measured the client. This one speaks RFC 6455 and
# Engine.IO 4 / Socket.IO 5 by hand over non-blocking sockets, one thread per worker process,
# and reads a delivery with a few string operations instead of json.loads: only the bench's
# own bodies ("<tag> <sender> <n> <send time ns> <filler>", plain ASCII) are looked at.

BODY_KEY = '"body_source":"'
SEQ_KEY = '"seq":'


def websocket_frame(text: str) -> bytes:
    """One masked text frame (clients must mask; the key is random per frame, as RFC 6455 asks)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, 0x80 | size))
    elif size < 65536:
        header = bytes((0x81, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 0x80 | 127)) + size.to_bytes(8, "big")
    key = os.urandom(4)
    keystream = (key * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(size, "big")
    return header + key + masked


class LoopConnection:
    """One Socket.IO client socket, driven by its worker's LoopWorker."""

    def __init__(self, worker: LoopWorker, url: str, cookie: str | None):
        self.worker = worker
        self.log = PhaseLog("")
        self.order = ArrivalOrder()
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.fragments: list[bytes] = []
        self.acks: dict[int, object] = {}  # ack id -> callback(result text)
        self.next_ack_id = 1
        self.connected = False
        self.refusal: str | None = None
        self.closed = False
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        request = [
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {url}",
        ]
        if cookie:
            request.append(f"Cookie: {cookie}")
        self.sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("connection closed during the websocket handshake")
            response += chunk
        head, _, rest = response.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"websocket handshake refused: {head[:200]!r}")
        self.sock.setblocking(False)
        self.inbox += rest

    def fileno(self) -> int:
        return self.sock.fileno()

    # -- sending

    def send_text(self, text: str) -> None:
        frame = websocket_frame(text)
        if self.outbox:
            self.outbox += frame
            return
        try:
            sent = self.sock.send(frame)
        except BlockingIOError:
            sent = 0
        if sent < len(frame):
            self.outbox += frame[sent:]
            self.worker.want_write(self, True)

    def flush(self) -> None:
        try:
            sent = self.sock.send(self.outbox)
        except BlockingIOError:
            return
        del self.outbox[:sent]
        if not self.outbox:
            self.worker.want_write(self, False)

    def emit(self, event: str, data, callback=None) -> None:
        packet = json.dumps([event, data], separators=(",", ":"))
        if callback is None:
            self.send_text("42" + packet)
            return
        ack_id = self.next_ack_id
        self.next_ack_id += 1
        self.acks[ack_id] = callback
        self.send_text(f"42{ack_id}{packet}")

    # -- receiving

    def receive(self, data: bytes, received_ns: int) -> None:
        inbox = self.inbox
        inbox += data
        position, size = 0, len(inbox)
        while size - position >= 2:
            length = inbox[position + 1] & 0x7F
            head = 2
            if length == 126:
                if size - position < 4:
                    break
                length = int.from_bytes(inbox[position + 2 : position + 4], "big")
                head = 4
            elif length == 127:
                if size - position < 10:
                    break
                length = int.from_bytes(inbox[position + 2 : position + 10], "big")
                head = 10
            end = position + head + length
            if end > size:
                break
            first = inbox[position]
            payload = bytes(inbox[position + head : end])
            position = end
            opcode = first & 0x0F
            if not first & 0x80:  # a fragment; the message ends with a FIN continuation
                self.fragments.append(payload)
                continue
            if opcode == 0:
                payload = b"".join([*self.fragments, payload])
                self.fragments = []
                opcode = 1
            if opcode == 1:
                self.on_packet(payload.decode(), received_ns)
            elif opcode == 9:  # websocket ping
                self.send_control(0xA, payload)
            elif opcode == 8:
                self.closed = True
        del inbox[:position]

    def send_control(self, opcode: int, payload: bytes) -> None:
        key = os.urandom(4)
        masked = bytes(byte ^ key[n % 4] for n, byte in enumerate(payload))
        self.outbox += bytes((0x80 | opcode, 0x80 | len(payload))) + key + masked
        self.flush()

    def on_packet(self, text: str, received_ns: int) -> None:
        if text.startswith('42["chat_event'):
            self.on_chat_events(text, received_ns)
        elif text == "2":  # Engine.IO ping: answer, or the server drops us
            self.send_text("3")
        elif text.startswith("43"):
            bracket = text.index("[")
            callback = self.acks.pop(int(text[2:bracket]), None)
            if callback is not None:
                callback(text[bracket:])
        elif text.startswith("40"):
            self.connected = True
        elif text.startswith("44"):
            self.refusal = text[2:]
        elif text.startswith("1"):
            self.closed = True

    def on_chat_events(self, text: str, received_ns: int) -> None:
        """chat_event (one message) or chat_event_batch (several): each message's seq and send time.

        A message view carries "seq" before "body_source"; tombstones have a null body_source."""
        record, arrive = self.log.record, self.order.arrive
        find, rfind, index = text.find, text.rfind, text.index
        at = find(BODY_KEY)
        while at >= 0:
            seq_at = rfind(SEQ_KEY, 0, at) + 6
            seq = int(text[seq_at : index(",", seq_at)])
            body_at = at + 15
            tag, _sender, _n, sent_ns = text[body_at : body_at + 80].split(" ", 4)[:4]
            at = find(BODY_KEY, body_at)
            arrive(seq, received_ns)
            record(tag, seq, int(sent_ns), received_ns)

    def close(self) -> None:
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(0.2)
            self.sock.sendall(bytes(self.outbox) + websocket_frame("41"))
            self.sock.close()
        except OSError:
            pass


class LoopSender:
    """A sending client's schedule (rate) or window (saturation), run by the worker's loop."""

    def __init__(self, connection: LoopConnection, index: int, channel_id: int):
        self.connection = connection
        self.index = index
        self.channel_id = channel_id
        self.reset()

    def reset(self) -> None:
        self.acked: list[int] = []
        self.ack_ms: list[float] = []
        self.errors: dict[str, int] = {}
        self.in_flight = 0
        self.sent = 0
        self.next_due = 0.0

    def send(self, tag: str) -> None:
        sent_ns = time.time_ns()
        body = f"{tag} {self.index} {self.sent} {sent_ns} {FILLER}"
        self.sent += 1
        self.in_flight += 1

        def acked(result_text: str) -> None:
            self.in_flight -= 1
            result = json.loads(result_text)[0]
            if isinstance(result, dict) and result.get("ok"):
                self.acked.append(result["seq"])
                self.ack_ms.append((time.time_ns() - sent_ns) / 1e6)
            else:
                code = result.get("error", {}).get("code", "?") if isinstance(result, dict) else repr(result)
                self.errors[code] = self.errors.get(code, 0) + 1

        payload = {"channel_id": self.channel_id, "client_id": str(uuid.uuid4()), "body": body}
        self.connection.emit("chat_send", payload, acked)


class LoopWorker:
    """All the connections of one worker process on one selector, in one thread."""

    def __init__(self, specs: list[dict], channel_id: int):
        self.selector = selectors.DefaultSelector()
        self.connections: list[LoopConnection] = []
        for spec in specs:
            connection = LoopConnection(self, spec["url"], spec["cookie"])
            self.selector.register(connection, selectors.EVENT_READ, connection)
            self.connections.append(connection)
        for connection in self.connections:
            if connection.inbox:  # the opening packet came with the handshake's answer
                connection.receive(b"", time.time_ns())
            connection.send_text("40")
        self.pump_until(lambda: all(c.connected or c.refusal for c in self.connections), CONNECT_TIMEOUT, "connect")
        refused = [c.refusal for c in self.connections if c.refusal]
        if refused:
            raise RuntimeError(f"socket refused: {refused[0]}")
        joins: dict[LoopConnection, str] = {}
        for connection in self.connections:
            connection.emit("chat_join", {"channel_id": channel_id}, functools.partial(joins.__setitem__, connection))
        self.pump_until(lambda: len(joins) == len(self.connections), ACK_TIMEOUT, "chat_join")
        for connection, answer in joins.items():
            joined = json.loads(answer)[0]
            if not joined.get("ok"):
                raise RuntimeError(f"chat_join refused: {answer[:300]}")
            # The page's gap repair starts from the join's last seq (ArrivalOrder).
            connection.order.start(joined["channel"]["last_seq"])
        self.senders = [
            LoopSender(connection, spec["sender_index"], channel_id)
            for connection, spec in zip(self.connections, specs, strict=True)
            if spec["sender_index"] is not None
        ]

    def want_write(self, connection: LoopConnection, wanted: bool) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if wanted else 0)
        self.selector.modify(connection, events, connection)

    def pump(self, timeout: float) -> None:
        for key, events in self.selector.select(max(0.0, timeout)):
            connection = key.data
            if events & selectors.EVENT_READ:
                try:
                    data = connection.sock.recv(1 << 18)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    data = b""
                if data:
                    connection.receive(data, time.time_ns())
                elif data == b"":
                    connection.closed = True
                    self.selector.unregister(connection)
                    continue
            if events & selectors.EVENT_WRITE:
                connection.flush()

    def pump_until(self, done, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not done within {seconds} s")
            self.pump(0.05)

    def run_phase(self, pipe, arguments: dict) -> None:
        cpu_before = time.process_time()
        tag, mode, start, stop = arguments["tag"], arguments["mode"], arguments["start"], arguments["stop"]
        for connection in self.connections:
            connection.log = PhaseLog(tag)
        interval = arguments["senders"] / arguments["rate"]
        for sender in self.senders:
            sender.reset()
            sender.next_due = start + sender.index / arguments["rate"]  # staggered: an even total rate
        window = arguments["window"]
        ack_deadline = stop + ACK_TIMEOUT
        cpu_at_start = cpu_at_stop = None
        while True:
            now = time.time()
            if cpu_at_start is None and now >= start:
                cpu_at_start = time.process_time()
            if cpu_at_stop is None and now >= stop:
                cpu_at_stop = time.process_time()
            if (now >= stop and not any(sender.in_flight for sender in self.senders)) or now > ack_deadline:
                break
            timeout = 0.05
            if start <= now < stop:
                for sender in self.senders:
                    if mode == "rate":
                        while sender.next_due <= now and sender.next_due < stop:
                            sender.send(tag)
                            sender.next_due += interval
                        timeout = min(timeout, sender.next_due - now)
                    else:
                        while sender.in_flight < window:
                            sender.send(tag)
            elif now < start:
                timeout = min(timeout, start - now)
            self.pump(timeout)
        errors: dict[str, int] = {}
        for sender in self.senders:
            if sender.in_flight:
                sender.errors["no_ack"] = sender.errors.get("no_ack", 0) + sender.in_flight
            for code, count in sender.errors.items():
                errors[code] = errors.get(code, 0) + count
        acked = [seq for sender in self.senders for seq in sender.acked]
        ack_ms = [ms for sender in self.senders for ms in sender.ack_ms]
        pipe.send(("sent", {"acked": acked, "ack_ms": ack_ms, "errors": errors}))
        while not pipe.poll():
            self.pump(0.02)
        expected = set(pipe.recv()[1])
        logs = [connection.log for connection in self.connections]

        def all_received() -> bool:
            return all(len(log.counts) >= len(expected) and expected <= log.counts.keys() for log in logs)

        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline and not all_received():
            self.pump(0.02)
        grace_end = time.monotonic() + LATE_DUPLICATE_GRACE
        while time.monotonic() < grace_end:
            self.pump(grace_end - time.monotonic())
        summary = received_summary(self.connections, expected, time.process_time() - cpu_before)
        pipe.send(("received", {**summary, "window_cpu_seconds": cpu_at_stop - cpu_at_start}))


def loop_worker_main(connection, specs: list[dict], channel_id: int) -> None:
    """One client process of the loop client: same commands and answers as worker_main."""
    try:
        worker = LoopWorker(specs, channel_id)
        connection.send(("ready", None))
    except Exception as error:
        connection.send(("failed", repr(error)))
        return
    while True:
        command, arguments = connection.recv()
        if command == "close":
            for client in worker.connections:
                client.close()
            connection.send(("closed", None))
            return
        if command == "send":
            worker.run_phase(connection, arguments)


# ---- orchestration -----------------------------------------------------------------------


@dataclass
class PhaseResult:
    acked: int
    errors: dict
    deliveries: int
    seconds: float
    latencies_ms: list[float]
    ack_ms: list[float]
    lost: int
    duplicated: int
    unexpected: int
    stray: int
    # CPU in use over the phase (from its start to the end of the drain), in cores
    server_cores: float
    client_cores: float
    machine_cores: float
    server_processes: int
    client_cpu_seconds: float
    server_cpu_seconds: float  # from the start of sending to the end of the drain
    server_system_seconds: float  # of which in the kernel (socket writes, SQLite's disk syncs)
    order: dict = field(default_factory=dict)  # ArrivalOrder's counts, summed over the clients

    @property
    def server_us_per_message(self) -> float:
        """Server CPU per acked message: unlike throughput, hardly moved by other work on the machine."""
        return self.server_cpu_seconds / self.acked * 1e6 if self.acked else float("nan")

    @property
    def cores_per_server(self) -> float:
        return self.server_cores / self.server_processes

    @property
    def server_us_per_delivery(self) -> float:
        return self.server_cpu_seconds / self.deliveries * 1e6 if self.deliveries else float("nan")

    @property
    def client_us_per_delivery(self) -> float:
        return self.client_cpu_seconds / self.deliveries * 1e6 if self.deliveries else float("nan")

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else 0.0


def received_summary(clients, expected: set[int], cpu_seconds: float) -> dict:
    """What a worker's clients received in a phase (each client has .log and .order)."""
    logs = [client.log for client in clients]
    return {
        "lost": sum(len(expected - log.counts.keys()) for log in logs),
        "duplicated": sum(count - 1 for log in logs for count in log.counts.values()),
        "unexpected": sum(len(log.counts.keys() - expected) for log in logs),
        "stray": sum(log.stray for log in logs),
        "deliveries": sum(len(log.counts) for log in logs),
        "latencies_ms": [ms for log in logs for ms in log.latencies_ms],
        "last_ns": max((log.last_ns for log in logs), default=0),
        "cpu_seconds": cpu_seconds,
        "order": sum_counts(client.order.take_counts(time.time_ns()) for client in clients),
    }


def sum_counts(parts) -> dict:
    total: dict[str, int] = {}
    for part in parts:
        for name, count in part.items():
            total[name] = total.get(name, 0) + count
    return total


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class Fleet:
    """The client worker processes of one server kind."""

    def __init__(self, specs: list[dict], channel_id: int, workers: int, client: str):
        target = loop_worker_main if client == "loop" else worker_main
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        for n in range(workers):
            parent, child = context.Pipe()
            process = context.Process(target=target, args=(child, specs[n::workers], channel_id), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        for pipe in self.pipes:
            status, detail = pipe.recv()
            if status != "ready":
                raise RuntimeError(f"a client worker failed: {detail}")

    def run(self, servers: list[Server], mode: str, tag: str, args) -> PhaseResult:
        start = time.time() + 0.5
        stop = start + args.duration
        wall_before = time.monotonic()
        command = {"mode": mode, "tag": tag, "start": start, "stop": stop, "rate": args.rate}
        command |= {"senders": args.senders, "window": args.window}
        for pipe in self.pipes:
            pipe.send(("send", command))
        # Cores are measured while the senders send (start to stop), not over the drain after:
        # at saturation that is when a server is as busy as the load can make it.
        time.sleep(max(0.0, start - time.time()))
        cpu_before = sum(server.cpu_seconds() for server in servers)
        system_before = sum(server.user_and_system_seconds()[1] for server in servers)
        machine_before = machine_busy_seconds()
        window_before = time.monotonic()
        time.sleep(max(0.0, stop - time.time()))
        server_cpu = sum(server.cpu_seconds() for server in servers) - cpu_before
        machine_cpu = machine_busy_seconds() - machine_before
        window = time.monotonic() - window_before
        sent = [pipe.recv()[1] for pipe in self.pipes]
        acked = [seq for part in sent for seq in part["acked"]]
        for pipe in self.pipes:
            pipe.send(("expect", acked))
        received = [pipe.recv()[1] for pipe in self.pipes]
        wall = time.monotonic() - wall_before
        server_phase_cpu = sum(server.cpu_seconds() for server in servers) - cpu_before
        server_phase_system = sum(server.user_and_system_seconds()[1] for server in servers) - system_before
        if all("window_cpu_seconds" in part for part in received):
            client_cores = sum(part["window_cpu_seconds"] for part in received) / window
        else:  # the thread client: over the whole phase, drain included
            client_cores = sum(part["cpu_seconds"] for part in received) / wall
        errors: dict[str, int] = {}
        for part in sent:
            for code, count in part["errors"].items():
                errors[code] = errors.get(code, 0) + count
        last_ns = max(part["last_ns"] for part in received)
        return PhaseResult(
            acked=len(acked),
            errors=errors,
            deliveries=sum(part["deliveries"] for part in received),
            seconds=max(1e-9, last_ns / 1e9 - start),
            latencies_ms=[ms for part in received for ms in part["latencies_ms"]],
            ack_ms=[ms for part in sent for ms in part["ack_ms"]],
            lost=sum(part["lost"] for part in received),
            duplicated=sum(part["duplicated"] for part in received),
            unexpected=sum(part["unexpected"] for part in received),
            stray=sum(part["stray"] for part in received),
            server_cores=server_cpu / window,
            client_cores=client_cores,
            machine_cores=machine_cpu / window,
            server_processes=len(servers),
            client_cpu_seconds=sum(part["cpu_seconds"] for part in received),
            server_cpu_seconds=server_phase_cpu,
            server_system_seconds=server_phase_system,
            order=sum_counts(part.get("order", {}) for part in received),
        )

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(("close", None))
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            pipe.recv()
            process.join(timeout=10)


def report(kind: str, phase: str, result: PhaseResult) -> None:
    latencies = result.latencies_ms
    errors = ", ".join(f"{code} {count}" for code, count in sorted(result.errors.items())) or "none"
    print(
        f"{kind:10} {phase:18} acked {result.acked:6d} ({result.acked / max(result.seconds, 1e-9):7.1f}/s)  "
        f"delivered {result.deliveries:7d} ({result.per_second:8.1f}/s)  "
        f"latency p50 {percentile(latencies, 0.5):7.1f} ms  p99 {percentile(latencies, 0.99):7.1f} ms  "
        f"max {max(latencies, default=float('nan')):7.1f} ms  "
        f"lost {result.lost}  duplicated {result.duplicated}"
    )
    print(
        f"{'':29} ack p50 {percentile(result.ack_ms, 0.5):.1f} ms p99 {percentile(result.ack_ms, 0.99):.1f} ms  "
        f"send errors: {errors}  unexpected {result.unexpected}  stray {result.stray}  "
        f"cores busy: servers {result.server_cores:.2f}, clients {result.client_cores:.2f}, "
        f"whole machine {result.machine_cores:.2f} of {os.cpu_count()}; "
        f"client CPU {result.client_us_per_delivery:.1f} µs per delivery; "
        f"server CPU {result.server_us_per_message:.0f} µs per message "
        f"({result.server_system_seconds / max(result.server_cpu_seconds, 1e-9):.0%} in the kernel)"
    )
    report_order(kind, result)


def report_order(kind: str, result: PhaseResult) -> None:
    """Events that came after a higher seq, and what gap repair would fetch for them."""
    if kind != "crossclass":  # the bare server's processes number apart: no order to keep
        return
    order, deliveries = result.order, max(result.deliveries, 1)
    line = f"{'':29} order: {order.get('late', 0)} events after a higher seq"
    for name, wait in (("waiting", f"{REPAIR_WAIT_SECONDS * 1000:.0f} ms"), ("at_once", "0 ms")):
        fetched = order.get(f"{name}_fetched", 0)
        line += (
            f"; repair after {wait}: {order.get(f'{name}_calls', 0)} calls, "
            f"{fetched} events ({100 * fetched / deliveries:.2f} % of deliveries)"
        )
    print(line)


def run_kind(kind: str, servers: list[Server], specs: list[dict], channel_id: int, args, redis_channel: str | None):
    fleet = Fleet(specs, channel_id, args.workers, args.client)
    try:
        if redis_channel:
            wait_until_subscribed(args.redis, redis_channel, len(servers))
        if args.warmup > 0:
            saved = args.duration
            args.duration = args.warmup
            fleet.run(servers, "rate", "warmup", args)
            args.duration = saved
        results = {
            "rate": fleet.run(servers, "rate", "rate", args),
            "saturation": fleet.run(servers, "saturation", "saturation", args),
        }
    finally:
        fleet.close()
    report(kind, f"rate {args.rate:g}/s", results["rate"])
    report(kind, f"saturation w={args.window}", results["saturation"])
    return results


def client_specs(servers: list[Server], cookies: list[str | None], senders: int) -> list[dict]:
    specs = []
    for n, cookie in enumerate(cookies):
        # Senders spread over the servers (and the workers) like everyone else.
        specs.append(
            {"url": servers[n % len(servers)].url, "cookie": cookie, "sender_index": n if n < senders else None}
        )
    return specs


def bench_crossclass(args, tmp: str) -> dict:
    database_url = bench_database_url(args.database, tmp)
    from tests.conftest import login_cookie, prepare_database

    prepare_database(database_url, seed=False)
    channel_id, names = create_exchange(database_url, args.clients)
    environ = {"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32), **SERVER_LIMITS}
    if args.batch_limit is not None:
        environ["CHAT_SEND_BATCH_LIMIT"] = str(args.batch_limit)
    redis_channel = None
    if args.redis:
        namespace = f"bench-chat-{os.getpid()}-{secrets.token_hex(3)}"
        environ |= {"REDIS_URL": args.redis, "REDIS_NAMESPACE": namespace}
        redis_channel = f"{namespace}:socketio"
    servers = [Server("wsgi.py", environ, args).start() for _ in range(2 if args.redis else 1)]
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            urls = [servers[n % len(servers)].url for n in range(len(names))]
            cookies = list(pool.map(lambda url, name: login_cookie(url, name, PASSWORD), urls, names))
        print(f"logins: {len(names)} in {time.perf_counter() - started:.1f} s (argon2id on the server)")
        specs = client_specs(servers, cookies, args.senders)
        return run_kind("crossclass", servers, specs, channel_id, args, redis_channel)
    finally:
        for server in servers:
            server.stop()


def bench_bare(args) -> dict:
    count = 2 if args.redis else 1
    environ = {"PROCESS_COUNT": str(count)}
    redis_channel = None
    if args.redis:
        namespace = f"bench-bare-{os.getpid()}-{secrets.token_hex(3)}"
        environ |= {"REDIS_URL": args.redis, "REDIS_NAMESPACE": namespace}
        redis_channel = f"{namespace}:socketio"
    servers = [
        Server("bench/bare_broadcast_server.py", {**environ, "PROCESS_INDEX": str(index)}, args).start()
        for index in range(count)
    ]
    try:
        specs = client_specs(servers, [None] * args.clients, args.senders)
        return run_kind("bare", servers, specs, 1, args, redis_channel)
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=60, help="clients in the channel (default 60)")
    parser.add_argument("--senders", type=int, default=5, help="of them, how many send (default 5)")
    parser.add_argument("--rate", type=float, default=50, help="messages per second in total, rate phase (default 50)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per phase (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of unmeasured rate phase first (default 2)")
    parser.add_argument("--window", type=int, default=16, help="saturation: messages in flight per sender (default 16)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--redis", metavar="REDIS_URL", help="two processes of each server, sharing this Redis")
    parser.add_argument("--workers", type=int, default=2, help="client processes (default 2)")
    parser.add_argument(
        "--wrapper", help="experiments: start each server as `python WRAPPER SCRIPT` (a profiler, socket options)"
    )
    parser.add_argument(
        "--client",
        choices=["loop", "threads"],
        default="loop",
        help="load client: one selectors loop per worker (default) or a websocket-client thread per connection",
    )
    parser.add_argument("--pairs", type=int, default=1, help="interleaved CrossClass / bare pairs (default 1)")
    parser.add_argument("--only", choices=["crossclass", "bare"], help="run one server kind only")
    parser.add_argument(
        "--batch-limit",
        type=int,
        help="CrossClass's CHAT_SEND_BATCH_LIMIT (default: the server's, 64; 1: no group commit, a frame per message)",
    )
    args = parser.parse_args()
    if not 0 < args.senders <= args.clients:
        parser.error("--senders must be between 1 and --clients")

    processes = 2 if args.redis else 1
    print(
        f"cores: {os.cpu_count()}  database: {args.database}  server processes: {processes}  "
        f"clients: {args.clients}  senders: {args.senders}  rate: {args.rate:g}/s  duration: {args.duration:g} s  "
        f"window: {args.window}  client: {args.client} in {args.workers} workers  pairs: {args.pairs}"
    )
    kinds = [kind for kind in ("crossclass", "bare") if args.only in (None, kind)]
    pairs = []
    with tempfile.TemporaryDirectory() as tmp:
        for pair in range(args.pairs):
            # Interleaved (C B, B C, C B ...): a slow spell of the machine hits both kinds alike.
            order = kinds if pair % 2 == 0 else kinds[::-1]
            results = {}
            for kind in order:
                # Anything else running shares the cores with the servers and the clients.
                print(f"pair {pair + 1}, {kind}: load average before " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
                results[kind] = bench_crossclass(args, tmp) if kind == "crossclass" else bench_bare(args)
            pairs.append(results)
    if len(kinds) < 2:
        return
    summarise(pairs, args)


def saturation_ratio(results: dict) -> tuple[float, bool]:
    """CrossClass / bare deliveries per second at saturation, and whether it measures the servers.

    Only when the bare server is CPU-bound (BOUND_CORES of a core per process) is the bare
    figure the server's; below that the client or the machine paced it, and so the ratio."""
    chat, bare = results["crossclass"]["saturation"], results["bare"]["saturation"]
    return chat.per_second / bare.per_second, bare.cores_per_server >= BOUND_CORES


def invalid_reason(bare: PhaseResult) -> str:
    if bare.machine_cores >= 0.95 * (os.cpu_count() or 1):
        return (
            f"the bare server used under {BOUND_CORES} of a core while the machine was full "
            f"({bare.machine_cores:.2f} of {os.cpu_count()} cores busy): the ratio measures other work's share"
        )
    return f"the bare server used under {BOUND_CORES} of a core: the ratio measures the client"


def summarise(pairs: list[dict], args) -> None:
    ratios = []
    for number, results in enumerate(pairs, 1):
        ratio, valid = saturation_ratio(results)
        ratios.append(ratio)
        chat, bare = results["crossclass"]["saturation"], results["bare"]["saturation"]
        print(
            f"pair {number}: saturation deliveries/s crossclass/bare {ratio:.2f} "
            f"({chat.per_second:.0f} / {bare.per_second:.0f}); cores per server process: "
            f"crossclass {chat.cores_per_server:.2f}, bare {bare.cores_per_server:.2f}; clients "
            f"{chat.client_cores:.2f} and {bare.client_cores:.2f}; server CPU per delivery crossclass "
            f"{chat.server_us_per_delivery:.1f} µs, bare {bare.server_us_per_delivery:.1f} µs "
            f"(bare/crossclass {bare.server_us_per_delivery / chat.server_us_per_delivery:.2f}): "
            + ("VALID (the bare server is CPU-bound)" if valid else f"NOT VALID: {invalid_reason(bare)}")
        )
    median = statistics.median(ratios)
    valid_pairs = sum(saturation_ratio(results)[1] for results in pairs)
    print(
        f"median crossclass/bare over {len(pairs)} pairs: {median:.2f}  target >= 0.95: "
        f"{'met' if median >= 0.95 else 'MISSED'}  ({valid_pairs} of {len(pairs)} pairs valid)"
    )
    p99s = [percentile(results["crossclass"]["rate"].latencies_ms, 0.99) for results in pairs]
    p99s_bare = [percentile(results["bare"]["rate"].latencies_ms, 0.99) for results in pairs]
    print(
        f"p99 at {args.rate:g} msg/s into {args.clients} clients: crossclass "
        + ", ".join(f"{p99:.1f}" for p99 in p99s)
        + " ms, bare "
        + ", ".join(f"{p99:.1f}" for p99 in p99s_bare)
        + f" ms  target <= 20 ms: {'met' if max(p99s) <= 20 else 'MISSED'}"
    )
    lost = sum(phase.lost for results in pairs for kind in results.values() for phase in kind.values())
    duplicated = sum(phase.duplicated for results in pairs for kind in results.values() for phase in kind.values())
    verdict = "met" if lost == duplicated == 0 else "MISSED"
    print(f"lost {lost}, duplicated {duplicated} over all phases  target 0 / 0: {verdict}")


if __name__ == "__main__":
    main()
