"""Each room's numbered events reach this process's sockets in seq order, across processes.

A room's events take their seqs under the room's write lock, so they are committed in seq
order; but each process publishes its own after its commit, to its own sockets at once and
to the others through Redis. Process B's batch (seqs 16 to 20) could so reach a socket before
process A's (10 to 15), on either process, and every page in the room then asked the database
for a gap that was only late: with two busy processes, thousands of needless repairs.

So with a message queue, every emit of a numbered event (a module registers its events with
register_sequenced_event) goes through RoomOrdering on the way to this process's sockets,
whether this process sent it (python-socketio delivers locally before publishing) or another
did (the queue's listener). Per room it remembers the highest seq delivered; an event that
starts further on waits, at most SOCKET_REORDER_WINDOW_MS, for the ones before it, and goes
out as soon as they came. One still missing then is taken as lost (an emit that failed, a
process that died after its commit): what waits goes out anyway, and the pages repair the gap
from the database as before. An event at or below what was delivered (late after such a
wait, or a duplicate) goes out at once: the pages ignore seqs they have.

Bounded: at most MAX_HELD_PER_ROOM events wait per room (more, and they all go out); a room
idle for ROOM_IDLE_SECONDS is forgotten, and the first event of a room this process does not
know goes out at once (nothing to wait for), unless a socket joining it said from which seq
on it reads (room_joined). Without a message queue there is one process,
whose emits leave in commit order: nothing is installed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import current_app
from socketio.pubsub_manager import PubSubManager

from app.realtime.limits import TokenBuckets

log = logging.getLogger(__name__)

# Event name -> the (first, last) seq its payload carries; registered by modules with rooms.
_SEQ_RANGES: dict[str, Callable[[dict], tuple[int, int]]] = {}

MAX_HELD_PER_ROOM = 256  # events (a chat batch holds up to CHAT_SEND_BATCH_LIMIT messages)
ROOM_IDLE_SECONDS = 300
_SWEEP_EVERY_SECONDS = 60

# One log line every 10 s at most about gaps given up on: a lost Redis link loses many.
_gap_log = TokenBuckets(0.1, 1)


def register_sequenced_event(event_name: str, seq_range: Callable[[dict], tuple[int, int]]) -> None:
    """Makes events of this name, sent to a room, go out in the order of their seqs.

    seq_range(payload) gives the first and last seq the event carries (equal for one event,
    a batch's first and last, gap-free in between); a payload it cannot read raises and that
    event goes out unordered.
    """
    _SEQ_RANGES[event_name] = seq_range


class _Room:
    __slots__ = ("delivered", "held", "touched", "wait")

    def __init__(self, delivered: int, now: float):
        self.delivered = delivered  # the highest seq this process gave its sockets
        self.held: dict[int, tuple[int, dict]] = {}  # first seq -> (last seq, queue message)
        self.touched = now
        self.wait = 0  # counts the waits begun, so a timer knows whether its wait is still on


class RoomOrdering:
    """Wraps a pub/sub manager's _handle_emit (every emit of this process, and every one
    arriving through the queue) so that numbered events go out in seq order per room."""

    def __init__(self, manager: PubSubManager, window_seconds: float):
        self.manager = manager
        self.deliver = manager._handle_emit
        self.window_seconds = window_seconds
        self.rooms: dict[tuple[str, str], _Room] = {}
        # Held while delivering too: two emits of one room never interleave their frames.
        self.lock = threading.RLock()
        self.idle_seconds = ROOM_IDLE_SECONDS
        self.sweep_every = _SWEEP_EVERY_SECONDS
        self.next_sweep = time.monotonic() + self.sweep_every
        self.gaps_given_up = 0  # waits that ended without the missing events

    def starts_after(self, namespace: str, room: str, last_seq: int) -> None:
        """A socket joined the room having read its last seq: unless this process already
        follows the room, the events after that seq go out in order from the first."""
        with self.lock:
            if (namespace, room) not in self.rooms:
                self.rooms[(namespace, room)] = _Room(last_seq, time.monotonic())

    def __call__(self, message: dict) -> None:
        seqs = _seq_range(message)
        if seqs is None:
            self.deliver(message)
            return
        first, last = seqs
        key = (message.get("namespace") or "/", message["room"])
        with self.lock:
            now = time.monotonic()
            if now >= self.next_sweep:
                self._forget_idle_rooms(now)
            room = self.rooms.get(key)
            if room is None:
                self.rooms[key] = room = _Room(first - 1, now)
            room.touched = now
            if first > room.delivered + 1:
                self._hold(key, room, first, last, message)
                return
            waiting = bool(room.held)
            self._send(room, last, message)
            self._send_what_follows(room)
            if waiting:  # part of the gap came: what still waits gets a window from now
                self._wait_again(key, room)

    def _hold(self, key, room: _Room, first: int, last: int, message: dict) -> None:
        if first in room.held:  # the same seqs twice (a duplicate publish): one is enough
            return
        room.held[first] = (last, message)
        if len(room.held) > MAX_HELD_PER_ROOM:
            self._give_up(key, room)
        elif len(room.held) == 1:
            self._wait_again(key, room)

    def _wait_again(self, key, room: _Room) -> None:
        """Ends the room's wait (a timer still running finds it over) and, while events are
        held, begins a new one of a whole window."""
        room.wait += 1
        if room.held:
            self.manager.server.start_background_task(self._wait_for_gap, key, room, room.wait)

    def _wait_for_gap(self, key, room: _Room, wait: int) -> None:
        self.manager.server.sleep(self.window_seconds)
        with self.lock:
            if room.wait == wait and room.held and self.rooms.get(key) is room:
                self._give_up(key, room)

    def _give_up(self, key, room: _Room) -> None:
        """The events before those waiting count as lost: the waiting ones go out, in order."""
        self.gaps_given_up += 1
        if _gap_log.allow(0):
            log.info(
                "room %s: seqs %d to %d not received within %.0f ms; later events sent without them (%d such gaps)",
                key[1], room.delivered + 1, min(room.held) - 1, self.window_seconds * 1000, self.gaps_given_up,
            )  # fmt: skip
        room.delivered = min(room.held) - 1
        self._send_what_follows(room)
        self._wait_again(key, room)  # for a further gap among those held, if any

    def _send_what_follows(self, room: _Room) -> None:
        while room.held:
            first = min(room.held)
            if first > room.delivered + 1:
                return
            last, message = room.held.pop(first)
            self._send(room, last, message)

    def _send(self, room: _Room, last: int, message: dict) -> None:
        room.delivered = max(room.delivered, last)
        try:
            self.deliver(message)
        except Exception:
            # As python-socketio's listener would: one event's failure stops no other.
            log.exception("sending %s to room %s failed", message.get("event"), message.get("room"))

    def _forget_idle_rooms(self, now: float) -> None:
        self.next_sweep = now + self.sweep_every
        idle = [key for key, room in self.rooms.items() if not room.held and now - room.touched > self.idle_seconds]
        for key in idle:
            del self.rooms[key]


def _seq_range(message: dict) -> tuple[int, int] | None:
    """The seqs of a numbered event to one room; None for anything else."""
    seq_range = _SEQ_RANGES.get(message.get("event"))
    data = message.get("data")
    if (
        seq_range is None
        or not isinstance(message.get("room"), str)
        or message.get("binary")
        or message.get("callback")
        or not isinstance(data, list)
        or len(data) != 1
    ):
        return None
    try:
        first, last = seq_range(data[0])
    except (KeyError, IndexError, TypeError):
        return None
    if type(first) is not int or type(last) is not int or last < first:
        return None
    return first, last


def room_joined(room: str, last_seq: int) -> None:
    """Tells this process's ordering the last seq a socket joining the room has read (a
    chat_join): without it, the first event the process gets for the room could only be sent
    at once, even when it overtook the one before it."""
    ordering = current_app.extensions["crossclass_realtime"].ordering
    if ordering is not None:
        ordering.starts_after("/", room, last_seq)


def install(manager, window_ms: int) -> RoomOrdering | None:
    """Orders this server's numbered room events; only with a message queue, and a window."""
    if not isinstance(manager, PubSubManager) or window_ms <= 0:
        return None
    existing = manager.__dict__.get("_handle_emit")
    if isinstance(existing, RoomOrdering):
        return existing
    manager._handle_emit = RoomOrdering(manager, window_ms / 1000)
    return manager._handle_emit
