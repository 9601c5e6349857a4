"""Socket plumbing shared by every module: authentication, limits, acks, presence."""

from __future__ import annotations

import functools
import inspect
import logging

from flask import abort, current_app
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user

from app.core.errors import AppError
from app.extensions import db, socketio
from app.realtime import flood, ordering, transport
from app.realtime.auth_cache import SocketAuthCache, install_invalidation
from app.realtime.limits import SharedRateLimit, TokenBuckets, payload_size
from app.realtime.payloads import WireJSON, shape_problem
from app.realtime.presence import PROCESS_TTL_SECONDS, RedisPresence, make_presence

log = logging.getLogger(__name__)


# Every handler registered through on_socket(), so init_realtime can bind them to each app's
# server: Flask-SocketIO re-registers on init_app only the handlers it saw before its first
# server existed, and a second app in the same process (the test suite builds one per
# database) would otherwise get a server that accepts every socket without any check.
_HANDLERS: list[tuple[str, object]] = []


def on_socket(event_name: str):
    """Registers a raw Socket.IO handler (connect, disconnect) for every app."""

    def decorator(handler):
        _HANDLERS.append((event_name, handler))
        socketio.on_event(event_name, handler)
        return handler

    return decorator


def error_ack(code: str, message: str) -> dict:
    return {"ok": False, "error": {"code": code, "message": message}}


def may_use_realtime(user) -> bool:
    return bool(user and user.is_authenticated and not user.is_pending and not user.must_change_password)


# One log line a second at most (a burst of ten) about refused events: a client sending
# garbage in a loop must not be able to fill the log.
_refusal_log = TokenBuckets(1, 10)


def refuse(event_name: str, code: str, message: str, reason: str) -> dict:
    """The ack of an event refused for the client's mistake, logged briefly (no traceback)."""
    if _refusal_log.allow(0):
        user_id = getattr(current_user, "id", None)
        log.warning("socket event %r of user %s refused (%s): %s", event_name[:64], user_id, code, reason)
    return error_ack(code, message)


def bad_payload(event_name: str, reason: str) -> dict:
    return refuse(event_name, "bad_payload", _("This message could not be read. Nothing was saved."), reason)


def socket_event(event_name: str):
    """Registers a socket handler with the checks every event needs.

    The rate limit comes first, before this handler and its context (app/realtime/flood.py:
    so that no malformed event gets past it, and a refusal costs next to nothing). Then, in
    order: the user may use real time, the shape of the arguments (payloads.shape_problem) and their number, the
    size, then the handler. The handler returns a dict (or None) for a successful ack; an
    AppError becomes {ok: false, error}; nothing raised reaches the connection and tears
    it down.
    """

    def decorator(handler):
        signature = inspect.signature(handler)

        @functools.wraps(handler)
        def checked_handler(*args):
            if not may_use_realtime(current_user):
                return error_ack("unauthorized", _("Your session has ended. Please log in again."))
            problem = shape_problem(args)
            if problem is not None:
                return bad_payload(event_name, problem)
            try:
                signature.bind(*args)
            except TypeError:
                return bad_payload(event_name, f"{len(args)} arguments")
            if payload_size(args) > current_app.config["SOCKET_MAX_PAYLOAD_BYTES"]:
                return error_ack("payload_too_large", _("This message is too large to send."))
            try:
                result = handler(*args)
                # (Nothing began since a send's group commit ended its transaction: an empty
                # commit would still run the session's whole commit and expire its objects.)
                if db.session().in_transaction():
                    db.session.commit()
            except AppError as error:
                db.session.rollback()
                return error_ack(error.code, error.message)
            except Exception:
                db.session.rollback()
                current_app.logger.exception("socket event %s failed", event_name)
                return error_ack("server_error", _("Something went wrong on our side. Nothing was saved."))
            return {"ok": True, **(result or {})}

        on_socket(event_name)(checked_handler)
        return checked_handler

    return decorator


@on_socket("*")
def unknown_event(event_name, *args):
    """Any event without a handler: refused with an ack, after the same rate limit (flood.py)."""
    if not may_use_realtime(current_user):
        return error_ack("unauthorized", _("Your session has ended. Please log in again."))
    name = event_name if isinstance(event_name, str) else repr(event_name)
    return refuse(name, "unknown_event", _("The server does not know this kind of message."), "no such event")


class SocketSessionInterface(SecureCookieSessionInterface):
    """The cookie session, not decoded again for every socket event.

    Flask-SocketIO puts, into each event's request context, the copy of the session it made
    at the socket's first event (environ["saved_session"]): the cookie of a socket is the
    one of its handshake and cannot change. Opening it again (signature check, decompress,
    JSON) only to have it replaced cost about a tenth of a chat_send. Whether the session is
    still valid is not decided here: the user loader checks its row on every event.
    """

    def open_session(self, app, request):
        saved = request.environ.get("saved_session")
        if saved is not None:
            return saved
        return super().open_session(app, request)


class RealtimeState:
    """Per-app real-time state: the rate limit and its gate, the presence table."""

    def __init__(self, app):
        self.buckets = make_rate_limit(app.config)
        self.gate = flood.EventGate(app.config, self)
        self.presence = make_presence(app.config["REDIS_URL"], app.config["REDIS_NAMESPACE"])
        self.socket_owners: dict[str, int] = {}  # sid -> user id, for this process's sockets
        self.auth_cache = SocketAuthCache(app.config["SOCKET_AUTH_CACHE_SECONDS"])
        self.ordering: ordering.RoomOrdering | None = None  # set by init_realtime, with Redis
        self._heartbeat_started = False

    def keep_presence_alive(self) -> None:
        """Starts this process's presence heartbeat with its first socket.

        Not in create_app: CLI commands build the app too and must not start tasks. The
        in-memory table needs none: it lives and dies with its only process.
        """
        if isinstance(self.presence, RedisPresence) and not self._heartbeat_started:
            self._heartbeat_started = True
            socketio.start_background_task(self._beat_forever)

    def _beat_forever(self) -> None:
        while True:
            socketio.sleep(PROCESS_TTL_SECONDS / 3)
            try:
                self.presence.beat()
            except Exception:
                # Redis away for a moment: the next beat may still come within the TTL.
                log.exception("presence heartbeat failed")


def make_rate_limit(config: dict) -> TokenBuckets | SharedRateLimit:
    rate, burst = config["SOCKET_EVENTS_PER_SECOND"], config["SOCKET_EVENT_BURST"]
    if config["REDIS_URL"]:
        return SharedRateLimit(config["REDIS_URL"], config["REDIS_NAMESPACE"], rate, burst)
    return TokenBuckets(rate, burst)


# Flask-SocketIO's default, which static/js/live.js uses too.
SOCKETIO_PATH = "socket.io"


def _not_served_here():
    abort(404)


def init_realtime(app) -> None:
    socketio.init_app(
        app,
        # Engine.IO refuses a handshake whose Origin is not listed (browsers always send
        # Origin on cross-site requests and WebSockets); connect() checks it again.
        cors_allowed_origins=app.config["ALLOWED_ORIGINS"],
        message_queue=app.config["REDIS_URL"],
        channel=f"{app.config['REDIS_NAMESPACE']}:socketio",
        # A hard cap on the wire; larger than the per-event limit so that limit can answer
        # with a clear error instead of a dropped connection.
        max_http_buffer_size=max(1_000_000, app.config["SOCKET_MAX_PAYLOAD_BYTES"] * 4),
        path=SOCKETIO_PATH,
        # Too deep a packet becomes a refused event instead of a RecursionError per packet.
        json=WireJSON,
        logger=False,
        engineio_logger=False,
    )
    # A WebSocket left half-way frees its socket's place at once, without a traceback.
    transport.install(socketio.server.eio)
    # With Redis, a room's numbered events reach this process's sockets in seq order.
    room_ordering = ordering.install(socketio.server.manager, app.config["SOCKET_REORDER_WINDOW_MS"])
    # Every socket event runs in a request context made from its socket's handshake, on the
    # Socket.IO path. With no rule for that path, each event's URL match raised NotFound, and
    # the exception kept the context (its user, its frames) alive in a reference cycle: some
    # sixty objects per event that only the full garbage collection frees, a pause of 100 to
    # 250 ms every few seconds in a busy process. These rules only end that: HTTP requests to
    # the path never reach them, as Flask-SocketIO's middleware hands those to Engine.IO.
    # Werkzeug matches a websocket handshake (the usual transport) only to a rule marked as
    # one, long-polling's to a plain one; strict_slashes=False also takes the test client's
    # "/socket.io" (without a redirect, which would be an exception again).
    for options in ({"methods": ["GET", "POST"]}, {"methods": ["GET"], "websocket": True}):
        app.add_url_rule(
            f"/{SOCKETIO_PATH}/",
            endpoint="socketio_transport",
            view_func=_not_served_here,
            strict_slashes=False,
            **options,
        )
    state = app.extensions["crossclass_realtime"] = RealtimeState(app)
    state.ordering = room_ordering
    # The rate limit, ahead of Flask-SocketIO's per-event context (see flood.py).
    flood.install(socketio.server, state)
    install_invalidation()
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SocketSessionInterface()
    from app.realtime import revoke, sockets  # noqa: F401  (register the handlers on first import)

    for event_name, handler in _HANDLERS:
        socketio.on_event(event_name, handler)
