"""Socket.IO test clients that behave like separate browsers talking to one server.

Flask-SocketIO's test client runs every handler inside the test's own app context, so
`g` (Flask-Login's cached user) would leak from one socket's event into another's. Like
the HTTP `client` fixture, each socket operation here runs in an empty contextvars
context and gets a fresh app context, as it does in production.
"""

from __future__ import annotations

import contextvars
import secrets

import pytest
from flask_socketio.test_client import SocketIOTestClient
from socketio import packet

from app.extensions import socketio
from tests.conftest import REDIS_URL, log_in, need_service, redis_available


class IsolatedSocketClient(SocketIOTestClient):
    """A socket of one browser; `refusal` keeps the payload of a refused connect."""

    refusal = None

    def connect(self, namespace=None, query_string=None, headers=None, auth=None):
        server = self.socketio.server
        deliver = server._send_packet

        def record_refusal(eio_sid, pkt):
            if eio_sid == self.eio_sid and pkt.packet_type == packet.CONNECT_ERROR:
                self.refusal = pkt.data
            return deliver(eio_sid, pkt)

        server._send_packet = record_refusal
        try:
            return _fresh(super().connect, namespace, query_string, headers, auth)
        finally:
            server._send_packet = deliver

    def emit(self, event, *args, **kwargs):
        return _fresh(super().emit, event, *args, **kwargs)

    def disconnect(self, namespace=None):
        return _fresh(super().disconnect, namespace)

    def events(self, name: str) -> list:
        """The payloads of `name` events received since the last call (others are dropped),
        also those that came just before the server closed the socket."""
        received, self.queue = self.queue, []
        return [item["args"][0] for item in received if item["namespace"] == "/" and item["name"] == name]


def _fresh(function, *args, **kwargs):
    return contextvars.Context().run(function, *args, **kwargs)


class Browsers:
    """Opens HTTP clients (one per person) and their sockets; closes every socket at the end."""

    def __init__(self, app):
        self.app = app
        self.sockets: list[IsolatedSocketClient] = []

    def http(self, user=None):
        # The `client` fixture sets app.test_client_class to the fresh-context client.
        http = self.app.test_client()
        if user is not None:
            log_in(http, user)
        return http

    def socket(self, http, origin: str | None = "http://localhost") -> IsolatedSocketClient:
        headers = {"Origin": origin} if origin else None
        sock = IsolatedSocketClient(self.app, socketio, headers=headers, flask_test_client=http)
        self.sockets.append(sock)
        return sock

    def connect_as(self, user, origin: str | None = "http://localhost") -> IsolatedSocketClient:
        return self.socket(self.http(user), origin=origin)

    def close_all(self) -> None:
        for sock in self.sockets:
            if sock.is_connected():
                sock.disconnect()
        for sock in self.sockets:
            SocketIOTestClient.clients.pop(sock.eio_sid, None)


@pytest.fixture
def browsers(app, client):
    opened = Browsers(app)
    yield opened
    opened.close_all()


@pytest.fixture
def redis_namespace():
    """A REDIS_NAMESPACE of this test alone; its keys are deleted afterwards."""
    need_service(redis_available(), f"Redis is not reachable at {REDIS_URL}")
    import redis

    namespace = f"crossclass-test-{secrets.token_hex(6)}"
    yield namespace
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(f"{namespace}:*"))
    if keys:
        connection.delete(*keys)
    connection.close()
