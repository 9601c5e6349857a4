"""A room's numbered events reach every socket in seq order, across processes
(app/realtime/ordering.py).

Real `wsgi.py` processes on one database and Redis; clients record chat events in the order
their frames came off the wire (python-socketio's client runs each handler in a thread of
its own, so its handlers cannot tell the order).
"""

from __future__ import annotations

import itertools
import json
import queue
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import socketio
from engineio import packet as eio_packet

from app.realtime.ordering import MAX_HELD_PER_ROOM
from tests.chat.test_scale_out import (  # noqa: F401  (fixtures)
    ChatClient,
    exchange_database,
    wait_until_subscribed,
)
from tests.conftest import REDIS_URL, ServerProcess
from tests.realtime.conftest import redis_namespace  # noqa: F401  (a namespace per test, cleaned up)

pytestmark = pytest.mark.services

WAIT = 20  # seconds; a bound against hanging, never the thing tested


class WireOrderClient(ChatClient):
    """A chat client that notes each chat event's seq as its frame arrives."""

    def __init__(self, server: ServerProcess, username: str):
        super().__init__(server, username)
        self.arrived: list[int] = []
        self.arrival_times: dict[int, float] = {}
        self.changed = threading.Condition()

    def connect(self) -> WireOrderClient:
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": self.server.url})
        # The frames' order is seen only by the Engine.IO read loop, before any handler thread.
        receive = self.sio.eio._receive_packet

        def noting(engineio_packet):
            self._note(engineio_packet)
            return receive(engineio_packet)

        self.sio.eio._receive_packet = noting
        self.sio.connect(self.server.url, headers={"Cookie": self.cookie}, transports=["websocket"], wait_timeout=WAIT)
        return self

    def _note(self, engineio_packet) -> None:
        data = engineio_packet.data
        # A Socket.IO EVENT in the default namespace: "2" then [name, payload].
        if engineio_packet.packet_type != eio_packet.MESSAGE or not isinstance(data, str) or not data.startswith("2["):
            return
        name, *args = json.loads(data[1:])
        if name == "chat_event":
            seqs = [args[0]["seq"]]
        elif name == "chat_event_batch":
            seqs = [event["seq"] for event in args[0]["events"]]
        else:
            return
        with self.changed:
            now = time.monotonic()
            for seq in seqs:
                self.arrived.append(seq)
                self.arrival_times.setdefault(seq, now)
            self.changed.notify_all()

    def wait_for(self, seq: int, timeout: float = WAIT) -> list[int]:
        with self.changed:
            if not self.changed.wait_for(lambda: seq in self.arrival_times, timeout):
                pytest.fail(f"{self.username} on {self.server.url}: no event with seq {seq}; got {self.arrived}")
            return list(self.arrived)


def _open(server: ServerProcess, username: str, opened: list) -> WireOrderClient:
    opened.append(WireOrderClient(server, username).connect())
    return opened[-1]


@pytest.fixture
def servers(exchange_database, redis_namespace):  # noqa: F811
    """Starts servers on the exchange's database and one Redis namespace; stops them all."""
    started: list[ServerProcess] = []
    secret_key = secrets.token_hex(32)

    def start(**environ) -> ServerProcess:
        server = ServerProcess(
            exchange_database.url,
            SECRET_KEY=secret_key,
            REDIS_URL=REDIS_URL,
            REDIS_NAMESPACE=redis_namespace,
            SOCKET_EVENTS_PER_SECOND="1000",
            SOCKET_EVENT_BURST="1000",
            **environ,
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def clients():
    opened: list[WireOrderClient] = []
    yield opened
    with ThreadPoolExecutor(max_workers=max(1, len(opened))) as pool:
        list(pool.map(ChatClient.close, opened))


def test_a_busy_channel_reaches_every_socket_on_two_processes_in_seq_order(
    exchange_database,  # noqa: F811
    servers,
    redis_namespace,  # noqa: F811
    clients,
):
    """Senders on both processes at once, readers on both: each reader gets every seq once,
    in order, with no gap it would have to repair (before, a batch published by one process
    could overtake the other's)."""
    server_a, server_b = servers(), servers()
    channel_id = exchange_database.channel_id
    senders = [_open(server_a, "ana", clients) for _ in range(3)] + [
        _open(server_b, "carla", clients) for _ in range(3)
    ]
    readers = [
        _open(server, username, clients)
        for server in (server_a, server_b)
        for username in ("ben", "teacher.porto@example.eu")
    ]
    start = senders[0].join(channel_id)["channel"]["last_seq"]
    for client in senders[1:] + readers:
        client.join(channel_id)
    wait_until_subscribed(redis_namespace, 2)

    per_sender = 40
    acks: queue.Queue = queue.Queue()
    go = threading.Event()

    def send_all(sender: WireOrderClient) -> None:
        go.wait()
        for n in range(per_sender):
            payload = {"channel_id": channel_id, "client_id": str(uuid.uuid4()), "body": f"{sender.username} {n}"}
            sender.sio.emit("chat_send", payload, callback=acks.put)

    threads = [threading.Thread(target=send_all, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()
    answers = [acks.get(timeout=WAIT) for _ in range(per_sender * len(senders))]
    assert all(answer["ok"] for answer in answers), [answer for answer in answers if not answer["ok"]]
    end = start + per_sender * len(senders)
    assert sorted(answer["seq"] for answer in answers) == list(range(start + 1, end + 1))

    expected = list(range(start + 1, end + 1))
    for client in senders + readers:
        arrived = client.wait_for(end)
        assert arrived == expected, (
            f"{client.username} on {client.server.url}: "
            f"{sum(1 for before, after in itertools.pairwise(arrived) if after < before)} "
            f"events came after a higher seq"
        )


def _publish_from_elsewhere(namespace: str, room: str, channel_id: int, *seqs: int) -> None:
    """chat_events as another process publishes them to the Socket.IO channel in Redis."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        with connection.pipeline(transaction=False) as pipeline:
            for seq in seqs:
                event = {"channel_id": channel_id, "seq": seq, "kind": "unlock", "is_locked": False}
                message = {
                    "method": "emit", "event": "chat_event", "data": [event], "binary": False, "namespace": "/",
                    "room": room, "skip_sid": None, "callback": None, "host_id": "another-process",
                }  # fmt: skip
                pipeline.publish(f"{namespace}:socketio", json.dumps(message))
            pipeline.execute()
    finally:
        connection.close()


def test_an_event_waits_for_the_ones_before_it_at_most_the_window(
    exchange_database,  # noqa: F811
    servers,
    redis_namespace,  # noqa: F811
    clients,
):
    window = 0.4
    server = servers(SOCKET_REORDER_WINDOW_MS=str(int(window * 1000)))
    channel_id = exchange_database.channel_id
    room = f"chat:channel:{channel_id}"
    ben = _open(server, "ben", clients)
    # The events below are made up, from seq 1000 after the channel's last on: the process
    # takes that as where the room is at (the join's last seq) and waits for the seqs between.
    offset = ben.join(channel_id)["channel"]["last_seq"]
    wait_until_subscribed(redis_namespace, 1)

    def publish(seq: int) -> None:
        _publish_from_elsewhere(redis_namespace, room, channel_id, offset + seq)

    def wait_for(seq: int) -> list[int]:
        return [arrived - offset for arrived in ben.wait_for(offset + seq)]

    def arrival(seq: int) -> float:
        return ben.arrival_times[offset + seq]

    publish(1000)  # waits the window for 1 to 999, which never come, then goes out
    publish(1001)
    assert wait_for(1001)[-2:] == [1000, 1001]
    # Overtaken on the way: 1003 waits for 1002 and follows it.
    publish(1003)
    time.sleep(0.05)
    publish(1002)
    assert wait_for(1003)[-3:] == [1001, 1002, 1003]

    # 1004 never comes (an emit lost): 1005 goes out after the window, and the page repairs.
    published = time.monotonic()
    publish(1005)
    wait_for(1005)
    assert arrival(1005) - published >= window * 0.9
    # A straggler still goes out: a page waiting to repair can use it.
    publish(1004)
    assert wait_for(1004)[-2:] == [1005, 1004]
    # And the room goes on from there without waiting.
    published = time.monotonic()
    publish(1006)
    wait_for(1006)
    assert arrival(1006) - published < window


def test_at_most_so_many_events_wait_per_room(
    exchange_database,  # noqa: F811
    servers,
    redis_namespace,  # noqa: F811
    clients,
):
    server = servers(SOCKET_REORDER_WINDOW_MS="2000")  # the most there is
    channel_id = exchange_database.channel_id
    room = f"chat:channel:{channel_id}"
    ben = _open(server, "ben", clients)
    last = ben.join(channel_id)["channel"]["last_seq"]  # the made-up events come after it
    wait_until_subscribed(redis_namespace, 1)
    _publish_from_elsewhere(redis_namespace, room, channel_id, last + 1)
    ben.wait_for(last + 1)

    held = list(range(last + 3, last + 3 + MAX_HELD_PER_ROOM))  # last + 2 never comes
    _publish_from_elsewhere(redis_namespace, room, channel_id, *held)
    time.sleep(0.5)
    assert ben.arrived == [last + 1], "held events went out before the window or the bound"
    published = time.monotonic()
    _publish_from_elsewhere(redis_namespace, room, channel_id, held[-1] + 1)
    assert ben.wait_for(held[-1] + 1) == [last + 1, *held, held[-1] + 1]
    assert ben.arrival_times[held[-1] + 1] - published < 1.5, "one more than the bound sends them all at once"


def test_idle_rooms_are_forgotten_and_rooms_with_waiting_events_kept():
    """The ordering itself, on a python-socketio server that only publishes (no sockets)."""
    import socketio as python_socketio

    import app.modules.chat.sockets  # noqa: F401  (registers chat's numbered events)
    from app.realtime.ordering import install

    manager = python_socketio.RedisManager(REDIS_URL, channel="crossclass-test-order-unit", write_only=True)
    python_socketio.Server(client_manager=manager, async_mode="threading")
    ordering = install(manager, 2000)
    assert install(manager, 2000) is ordering, "installed once"

    def emit(room: str, seq: int) -> None:
        event = {"channel_id": 1, "seq": seq, "kind": "unlock", "is_locked": False}
        ordering({"method": "emit", "event": "chat_event", "data": [event], "namespace": "/", "room": room})

    ordering.starts_after("/", "chat:channel:1", 10)
    emit("chat:channel:1", 11)
    emit("chat:channel:2", 5)
    emit("chat:channel:2", 7)  # waits for 6
    assert ordering.rooms[("/", "chat:channel:1")].delivered == 11
    assert sorted(ordering.rooms[("/", "chat:channel:2")].held) == [7]

    ordering.idle_seconds = ordering.next_sweep = 0  # idle at once, and a sweep due
    time.sleep(0.01)
    emit("chat:channel:3", 1)  # the next event sweeps
    assert set(ordering.rooms) == {("/", "chat:channel:2"), ("/", "chat:channel:3")}
