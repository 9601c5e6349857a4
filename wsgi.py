"""Serve CrossClass with gevent: `python wsgi.py` (make run) or any gevent-capable server.

The monkey patch must come first, before anything imports socket, ssl or threading.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402

from config import ConfigError  # noqa: E402

try:
    from app import create_app

    app = create_app()
except ConfigError as error:
    sys.exit(f"CrossClass cannot start: {error}")


def no_delay_handler():
    """gevent's request handler with Nagle's algorithm off on every accepted socket.

    A Socket.IO ack is a small write right after the room's event to the same socket; with
    Nagle on it waits for the client's delayed ACK (~40 ms on Linux) before it leaves.
    WebSockets come from simple-websocket on this handler's socket (gevent-websocket, which
    would need its own handler_class, is not installed: see requirements.txt).
    """
    import socket

    from gevent import pywsgi

    class NoDelayHandler(pywsgi.WSGIHandler):
        def handle(self):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return super().handle()

        def read_request(self, raw_requestline):
            result = super().read_request(raw_requestline)
            if (self.headers.get("Upgrade") or "").lower() == "websocket":
                # No HTTP request follows a WebSocket on its connection. Waiting for one (its
                # "Connection: Upgrade" reads as keep-alive) took the client's last frames for a
                # request line: an "Invalid HTTP method" in the log for many closed sockets.
                self.close_connection = True
            return result

    return NoDelayHandler


if __name__ == "__main__":
    import gc

    from app.extensions import socketio

    # What the app built at start (modules, classes, SQLAlchemy's mappings and compiled
    # statements: about 160,000 objects) lives as long as the process. Python's full garbage
    # collection walks every object it tracks, and with those it paused the whole server (every
    # socket) for 100 to 250 ms every few seconds under load; frozen, they are not walked.
    gc.collect()
    gc.freeze()

    host = os.environ.get("HOST", "127.0.0.1")
    port = app.config["PORT"]
    print(f"CrossClass is running at http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    socketio.run(
        app,
        host=host,
        port=port,
        log_output=os.environ.get("ACCESS_LOG") == "1",
        handler_class=no_delay_handler(),  # Flask-SocketIO passes it on to gevent's WSGIServer
    )
