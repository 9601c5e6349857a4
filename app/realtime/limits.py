"""Per-user event rate limit (a token bucket) and payload size check for socket events.

The bucket lives in this process: behind nginx's ip_hash a user's sockets land on one
process, so the limit holds per user in practice; see docs/realtime.md.
"""

from __future__ import annotations

import json
import threading
import time


class TokenBuckets:
    def __init__(self, rate_per_second: float, burst: int):
        self.rate = rate_per_second
        self.burst = burst
        self._state: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: int) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._state.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if tokens < 1:
                self._state[key] = (tokens, now)
                return False
            self._state[key] = (tokens - 1, now)
            return True

    def forget(self, key: int) -> None:
        with self._lock:
            self._state.pop(key, None)


def payload_size(args: tuple) -> int:
    """Size of the event's arguments as JSON, which is what travels on the wire."""
    try:
        return len(json.dumps(args, separators=(",", ":"), default=str).encode())
    except (TypeError, ValueError):
        return 1 << 30
