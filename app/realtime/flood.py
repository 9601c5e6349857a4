"""The rate limit at the door: events over a user's limit refused before any work.

Flask-SocketIO runs every event in a greenlet of its own, inside an app context and a
request context made from the socket's handshake, with the session copied in and the user
loaded by Flask-Login. Refusing a flooding pupil's events there cost all of that per event:
one user at 1,000 events/s slowed everyone's chat from 5 to 15 ms to a second and more.

So the limit sits in front of it, in python-socketio's own dispatch (_handle_eio_message
and _handle_event, replaced on the one server instance by install()): it runs in the
socket's reading greenlet, on what the socket's connect noted (its owner and, in the
owner's language, the refusal's message), and answers a refused event with the usual ack
itself — {ok: false, error: {code: "rate_limited", message}} — with no context, no
database, no greenlet, and for a text packet without decoding its JSON. What passes goes
on to Flask-SocketIO and the checks of socket_event unchanged (so malformed and unknown
events still count against the limit).

A socket that goes on sending while refused (more than SOCKET_FLOOD_REFUSALS refusals
within SOCKET_FLOOD_WINDOW_SECONDS) is told why (a `rate_limited` event) and disconnected,
and its user's connects are refused for SOCKET_FLOOD_COOLDOWN_SECONDS (in Redis too, when
set, so every process refuses them): static/js/live.js shows a calm notice and connects
again after that time. Its reconnects with the same login cookie are refused here too, at
the Socket.IO connect, before any context (a client that ignores the cool-down and connects
again and again cost about 4 ms each through the connect handler); other sockets of the
user (another process, another login) are refused by the connect handler (sockets.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time

from socketio import packet
from werkzeug.http import parse_cookie

log = logging.getLogger(__name__)

_NAMESPACE = "/"


class _WatchedSocket:
    __slots__ = ("cut", "notice", "passed", "refusal_json", "refused", "user_id", "window_started")

    def __init__(self, user_id: int, refusal: dict, notice: dict):
        self.user_id = user_id
        # The ack of a refused event, translated once at connect, as an ACK packet's JSON.
        self.refusal_json = json.dumps([refusal], separators=(",", ":"))
        self.notice = notice  # the `rate_limited` event sent before a disconnect
        self.window_started = 0.0
        self.refused = 0
        self.cut = False
        self.passed = False  # admitted by its header, on its way to _handle_event


class EventGate:
    """This process's sockets, each with its owner, and its users' cool-downs; the limit
    itself is the app's (RealtimeState.buckets: in this process, or in Redis)."""

    def __init__(self, config: dict, state):
        self._state = state
        namespace = config["REDIS_NAMESPACE"]
        if config["REDIS_URL"]:
            import redis

            self._redis = redis.Redis.from_url(config["REDIS_URL"])
        else:
            self._redis = None
        self._cooldown_prefix = f"{namespace}:flood:cooldown:"
        self.refusals_allowed = config["SOCKET_FLOOD_REFUSALS"]
        self.window_seconds = config["SOCKET_FLOOD_WINDOW_SECONDS"]
        self.cooldown_seconds = config["SOCKET_FLOOD_COOLDOWN_SECONDS"]
        self.sockets: dict[str, _WatchedSocket] = {}
        self._cooldowns: dict[int, float] = {}  # user id -> monotonic end, known in this process
        self._session_cookie_name = config["SESSION_COOKIE_NAME"]
        # Digest of a cut-off socket's login cookie -> (monotonic end, its paused notice): its
        # reconnects are refused by handshake alone (install's gated_handle_connect).
        self._cut_logins: dict[str, tuple[float, dict]] = {}

    def watch(self, sid: str, user_id: int, refusal: dict, notice: dict) -> None:
        self.sockets[sid] = _WatchedSocket(user_id, refusal, notice)

    def forget(self, sid: str) -> None:
        self.sockets.pop(sid, None)

    def admits(self, watched: _WatchedSocket) -> bool:
        return self._state.buckets.allow(watched.user_id)

    def refused_once_more(self, watched: _WatchedSocket) -> bool:
        """Counts a refusal; True when the socket is over SOCKET_FLOOD_REFUSALS and must go."""
        if self.refusals_allowed <= 0:
            return False
        now = time.monotonic()
        if now - watched.window_started >= self.window_seconds:
            watched.window_started, watched.refused = now, 0
        watched.refused += 1
        return watched.refused > self.refusals_allowed

    def _login_of(self, environ: dict | None) -> str | None:
        """A digest of the handshake's login cookie (the cookie itself is not kept)."""
        cookie = parse_cookie((environ or {}).get("HTTP_COOKIE", "")).get(self._session_cookie_name)
        return hashlib.sha256(cookie.encode()).hexdigest() if cookie else None

    def start_cooldown(self, user_id: int, environ: dict | None, notice: dict) -> None:
        now = time.monotonic()
        self._cooldowns[user_id] = now + self.cooldown_seconds
        login = self._login_of(environ)
        if login is not None:
            # Expired ones go first: the table holds only logins cut off within a cool-down.
            for key in [key for key, (until, _notice) in self._cut_logins.items() if until <= now]:
                del self._cut_logins[key]
            self._cut_logins[login] = (now + self.cooldown_seconds, notice)
        if self._redis is not None:
            try:
                self._redis.set(f"{self._cooldown_prefix}{user_id}", 1, px=self.cooldown_seconds * 1000)
            except Exception:
                log.exception("could not share the cool-down of user %s", user_id)

    def handshake_refusal(self, environ: dict | None) -> dict | None:
        """The connect refusal for a handshake whose login was cut off in this process and is
        still cooling down ({message, data} as python-socketio sends it), or None."""
        if not self._cut_logins:
            return None
        login = self._login_of(environ)
        cut = self._cut_logins.get(login) if login is not None else None
        if cut is None:
            return None
        remaining = cut[0] - time.monotonic()
        if remaining <= 0:
            del self._cut_logins[login]
            return None
        notice = {**cut[1], "retry_after": math.ceil(remaining)}
        return {"message": notice["message"], "data": notice}

    def cooldown_remaining(self, user_id: int) -> float:
        """Seconds until this user may connect again (0: now), on any process's word."""
        until = self._cooldowns.get(user_id)
        if until is not None:
            remaining = until - time.monotonic()
            if remaining > 0:
                return remaining
            del self._cooldowns[user_id]
        if self._redis is not None:
            try:
                milliseconds = self._redis.pttl(f"{self._cooldown_prefix}{user_id}")
            except Exception:
                log.exception("could not read the cool-down of user %s", user_id)
                return 0.0
            if milliseconds > 0:
                return milliseconds / 1000
        return 0.0


def install(server, state) -> None:
    """Puts the app's gate (state.gate) in front of this python-socketio server's event dispatch.

    Text events are weighed before their JSON is decoded (from the packet's header: a
    refusal must not cost more for a larger payload); binary events, whose parts come in
    several messages, once decoded (python-socketio's _handle_event).
    """
    handle_message = server._handle_eio_message
    handle_event = server._handle_event
    handle_connect = server._handle_connect

    def gated_handle_connect(eio_sid, namespace, data):
        refusal = state.gate.handshake_refusal(server.environ.get(eio_sid))
        if refusal is not None:
            packet_out = server.packet_class(packet.CONNECT_ERROR, data=refusal, namespace=namespace or _NAMESPACE)
            server._send_packet(eio_sid, packet_out)
            return None
        return handle_connect(eio_sid, namespace, data)

    def gated_handle_eio_message(eio_sid, data):
        if isinstance(data, str) and data[:1] == _TEXT_EVENT:
            header = _event_header(data)
            if header is not None:
                namespace, ack_id = header
                sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
                watched = state.gate.sockets.get(sid)
                if watched is not None:
                    if not _passes(server, state.gate, sid, eio_sid, watched, namespace, ack_id):
                        return None
                    watched.passed = True  # (not weighed again in gated_handle_event)
                    try:
                        return handle_message(eio_sid, data)
                    finally:
                        watched.passed = False
        return handle_message(eio_sid, data)

    def gated_handle_event(eio_sid, namespace, ack_id, data):
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace or _NAMESPACE)
        # A socket not watched (none yet: its connect did not finish) goes on to the checks.
        watched = state.gate.sockets.get(sid)
        if watched is not None:
            if watched.passed:
                watched.passed = False
            elif not _passes(server, state.gate, sid, eio_sid, watched, namespace or _NAMESPACE, ack_id):
                return None
        return handle_event(eio_sid, namespace, ack_id, data)

    server._handle_eio_message = gated_handle_eio_message
    server._handle_event = gated_handle_event
    server._handle_connect = gated_handle_connect


_TEXT_EVENT = str(packet.EVENT)
_TEXT_ACK = str(packet.ACK)


class _EncodedPacket:
    """A Socket.IO packet already encoded: the refusal's JSON is made once per socket, not
    walked and encoded again for every refused event."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def encode(self) -> str:
        return self.text


_MAX_ACK_ID_DIGITS = 16


def _event_header(data: str) -> tuple[str, int | None] | None:
    """The namespace and ack id of an encoded Socket.IO EVENT packet ('2', '/ns,' if not the
    default one, the ack id's digits, then the JSON), or None if they cannot be read (the
    packet then goes to python-socketio as it is, and fails there as it would have)."""
    position = 1
    namespace = _NAMESPACE
    if data[1:2] == "/":
        comma = data.find(",", 1, 256)
        if comma < 0:
            return None
        namespace, position = data[1:comma], comma + 1
    end = position
    while end < len(data) and end - position <= _MAX_ACK_ID_DIGITS and data[end].isdigit():
        end += 1
    if end - position > _MAX_ACK_ID_DIGITS:
        return None
    return namespace, (int(data[position:end]) if end > position else None)


def _passes(server, gate: EventGate, sid: str, eio_sid: str, watched: _WatchedSocket, namespace, ack_id) -> bool:
    """Whether the event may go on; else it is answered (and its socket maybe cut off) here."""
    if watched.cut:
        return False  # already told and being disconnected
    if gate.admits(watched):
        return True
    if ack_id is not None:
        prefix = "" if namespace == _NAMESPACE else f"{namespace},"
        server._send_packet(eio_sid, _EncodedPacket(f"{_TEXT_ACK}{prefix}{ack_id}{watched.refusal_json}"))
    if gate.refused_once_more(watched):
        _cut_off(server, gate, sid, eio_sid, watched)
    # No gevent.sleep(0) here to let other sockets in between refusals: tried, the quiet
    # users' p99 under a flood was no better in bench/flood.py (a hub turn per refusal, and
    # every other event waiting behind each flooding socket's turn).
    return False


def _cut_off(server, gate: EventGate, sid: str, eio_sid: str, watched: _WatchedSocket) -> None:
    watched.cut = True
    gate.start_cooldown(watched.user_id, server.environ.get(eio_sid), watched.notice)
    log.warning(
        "socket %s of user %s disconnected for sending over its limit; connects refused for %s s",
        sid,
        watched.user_id,
        gate.cooldown_seconds,
    )
    # Straight onto this socket, ahead of the disconnect (an emit through the Redis queue
    # could arrive after it, to a socket already gone).
    notice = {**watched.notice, "retry_after": gate.cooldown_seconds}
    server._send_packet(eio_sid, server.packet_class(packet.EVENT, namespace=_NAMESPACE, data=["rate_limited", notice]))
    # The Socket.IO disconnect (its handlers run: presence, the place among SOCKETS_PER_USER),
    # then the connection under it, so a client that ignores the disconnect cannot go on
    # sending on it. The latter outside this socket's reading greenlet, which it ends.
    server.disconnect(sid, namespace=_NAMESPACE, ignore_queue=True)
    server.start_background_task(server.eio.disconnect, eio_sid)
