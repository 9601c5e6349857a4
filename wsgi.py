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

if __name__ == "__main__":
    from app.extensions import socketio

    host = os.environ.get("HOST", "127.0.0.1")
    port = app.config["PORT"]
    print(f"CrossClass is running at http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    socketio.run(app, host=host, port=port, log_output=os.environ.get("ACCESS_LOG") == "1")
