"""Per-user event rate limit and payload size check for socket events.

Without Redis the limit is a token bucket in this process (TokenBuckets). With Redis
(REDIS_URL) it is one bucket per user in Redis (SharedRateLimit), so a user's sockets on
several processes share it; see docs/realtime.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time

log = logging.getLogger(__name__)


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


# The same bucket as TokenBuckets, kept in Redis as GCRA's "theoretical arrival time": one
# number per user, read and moved in one round trip. Redis's own clock (TIME), so processes
# whose clocks differ still share one bucket. Returns {1, 0} for a token, or {0, the
# microseconds until the next one}.
_GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > capacity then
  return {0, next_tat - capacity - now}
end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(capacity / 1000) + 1000)
return {1, 0}
"""


class SharedRateLimit:
    """Each user's token bucket in Redis, shared by every process.

    An accepted event costs one Redis round trip (EVALSHA). A refused one tells this
    process how long the bucket stays empty: until then the user's events are refused here
    without asking Redis, so a flood costs Redis a call per refill interval, not one per
    event. If Redis cannot be reached, this process's own bucket decides meanwhile.
    """

    def __init__(self, url: str, namespace: str, rate_per_second: float, burst: int):
        import redis

        self.rate, self.burst = rate_per_second, burst
        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_GCRA)
        self._prefix = f"{namespace}:rate:"
        self._interval_us = max(1, round(1_000_000 / rate_per_second))
        self._burst = burst
        self._empty_until: dict[int, float] = {}  # user id -> monotonic time of the next token
        self._fallback = TokenBuckets(rate_per_second, burst)
        self._warned_at = -1e9

    def allow(self, key: int) -> bool:
        until = self._empty_until.get(key)
        if until is not None:
            if time.monotonic() < until:
                return False
            del self._empty_until[key]
        try:
            granted, wait_us = self._script(keys=[f"{self._prefix}{key}"], args=[self._interval_us, self._burst])
        except Exception as error:
            now = time.monotonic()
            if now - self._warned_at > 10:  # a line per ten seconds, not one per event
                self._warned_at = now
                log.warning("rate limit in Redis unavailable (%s): this process's own bucket decides", error)
            return self._fallback.allow(key)
        if granted:
            return True
        self._empty_until[key] = time.monotonic() + int(wait_us) / 1_000_000
        return False

    def forget(self, key: int) -> None:
        self._empty_until.pop(key, None)


def payload_size(args: tuple) -> int:
    """Size of the event's arguments as JSON, which is what travels on the wire."""
    try:
        return len(json.dumps(args, separators=(",", ":"), default=str).encode())
    except (TypeError, ValueError):
        return 1 << 30
