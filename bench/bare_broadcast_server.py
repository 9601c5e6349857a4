"""A bare Flask-SocketIO broadcast server: the yardstick bench/chat_fanout.py measures chat against.

The same stack as CrossClass (Flask-SocketIO, gevent, one process, the Redis message queue
when REDIS_URL is set), and the same events and payload shapes as chat (`chat_join`,
`chat_send` acked with the message, `chat_event` to everyone in the room), but no login,
no database, no sanitising: only the Socket.IO fan-out that chat cannot do without.

    PORT=5100 .venv/bin/python bench/bare_broadcast_server.py

Several processes behind one Redis (PROCESS_INDEX 0..PROCESS_COUNT-1) hand out distinct
seqs (index + count * n) without talking to each other; they are unique, not gap-free.
"""

from gevent import monkey

monkey.patch_all()

import html  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402
from gevent import pywsgi  # noqa: E402

ROOM = "bench"
CHANNEL_ID = 1
INDEX = int(os.environ.get("PROCESS_INDEX", "0"))
COUNT = int(os.environ.get("PROCESS_COUNT", "1"))

app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode="gevent",
    cors_allowed_origins="*",
    message_queue=os.environ.get("REDIS_URL") or None,
    channel=f"{os.environ.get('REDIS_NAMESPACE', 'bare')}:socketio",
    logger=False,
    engineio_logger=False,
)
_numbers = itertools.count(1)


@socketio.on("chat_join")
def chat_join(payload=None):
    join_room(ROOM)
    return {"ok": True, "channel": {"id": CHANNEL_ID, "last_seq": 0}, "messages": [], "has_older": False}


@socketio.on("chat_send")
def chat_send(payload):
    seq = INDEX + COUNT * next(_numbers)
    body = payload["body"]
    # The shape of chat's message_view, so both servers serialise and send as much.
    message = {
        "id": seq,
        "channel_id": CHANNEL_ID,
        "seq": seq,
        "client_id": payload["client_id"],
        "author_id": 1,
        "author_name": "Bench student",
        "author_country": "PT",
        "state": "visible",
        "body_html": f"<p>{html.escape(body)}</p>",
        "body_source": body,
        "is_edited": False,
        "created_at": datetime.now(UTC).isoformat(),
        "reply_to": None,
    }
    socketio.emit("chat_event", {"channel_id": CHANNEL_ID, "seq": seq, "kind": "message", "message": message}, to=ROOM)
    return {"ok": True, "id": seq, "seq": seq, "duplicate": False, "message": message}


class NoDelayHandler(pywsgi.WSGIHandler):
    """Nagle's algorithm off on accepted sockets, as CrossClass's wsgi.py serves: a fair yardstick."""

    def handle(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle()


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_output=False, handler_class=NoDelayHandler)
