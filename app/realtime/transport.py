"""WebSocket connections that end half-way: a page left while its socket was still switching.

socket.io-client may open a connection with HTTP long-polling and switch to a WebSocket after
it (the "upgrade"; it does so when its first WebSocket failed). A page left during that switch
closes its WebSocket half-way, and Engine.IO (python-engineio 4.15) then
- answers its probe on the closed WebSocket: simple-websocket's ConnectionClosed becomes a bare
  OSError() that reaches gevent's server, which reads its errno from `args[0]` and logs an
  IndexError traceback on top of the OSError one;
- or gives up quietly, and keeps the session open on long-polling that nobody sends again.
Either way the session, and the Socket.IO socket in it, lived until Engine.IO's ping timeout
(25 + 20 s), keeping its place among the user's SOCKETS_PER_USER all that time.

This WebSocket handler ends the session as soon as a switch ends unfinished, so its disconnect
handler frees the place at once, and logs one info line instead of the tracebacks. A page
still there reconnects by itself (socket.io-client does after a lost session) and rejoins its
rooms from its last seq, so it loses nothing.
"""

from __future__ import annotations

import logging

import simple_websocket
from engineio.async_drivers import gevent as engineio_gevent

log = logging.getLogger(__name__)

# Engine.IO's own WebSocket wrapper for gevent: simple-websocket's, since gevent-websocket is
# not installed (it would come as a different class, with no `ws` attribute to look at).
_EngineioWebSocket = engineio_gevent.WebSocketWSGI


class WebSocketEndingUnfinishedUpgrades(_EngineioWebSocket):
    def __call__(self, environ, start_response):
        # Engine.IO builds one of these per WebSocket request, around the handler of the
        # Engine.IO session it belongs to (a new session, or one switching from polling).
        session = getattr(self.app, "__self__", None)
        failure = None
        try:
            return super().__call__(environ, start_response)
        except (OSError, simple_websocket.ConnectionError) as error:
            if type(error) is ConnectionError and getattr(getattr(self, "ws", None), "mode", None) == "werkzeug":
                raise  # simple-websocket's own signal to Werkzeug's server: not a failure
            # Only a client gone half-way gets here: Engine.IO catches what fails on an
            # established WebSocket itself, and closes the session.
            failure = type(error).__name__
            return []
        finally:
            unfinished = session is not None and not session.upgraded and not session.closed
            if unfinished or failure:
                log.info(
                    "WebSocket of session %s ended before it was ready (%s): the page was most likely left",
                    getattr(session, "sid", "?"),
                    ", ".join(filter(None, [_close_reason(self), failure])) or "closed",
                )
            if unfinished:
                _end_session(session)


def _close_reason(websocket) -> str | None:
    server = getattr(websocket, "ws", None)
    reason = getattr(server, "close_reason", None)
    return f"close code {int(reason)}" if reason is not None else None


def _end_session(session) -> None:
    """Closes an Engine.IO session whose switch to WebSocket did not finish.

    Nearly always its page is gone. A page still there (its WebSocket broke on the way) would
    be left with polling paused for the switch, or in a switch that failed: a fresh connection
    serves it better, and socket.io-client makes one by itself.
    """
    session.upgrading = False
    session.close(wait=False, abort=True, reason=session.server.reason.TRANSPORT_CLOSE)


def install(engineio_server) -> None:
    """Makes this Engine.IO server (and no other) use the handler above for WebSockets."""
    if engineio_server._async.get("websocket") is not _EngineioWebSocket:
        return  # another async mode or WebSocket package: its own handling applies
    engineio_server._async = {**engineio_server._async, "websocket": WebSocketEndingUnfinishedUpgrades}
