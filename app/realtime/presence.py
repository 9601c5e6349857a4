"""Who is online: the open sockets of each user, shared by all processes through Redis.

Without REDIS_URL there is one process and the table lives in memory.
"""

from __future__ import annotations

import threading


class MemoryPresence:
    def __init__(self):
        self._sockets: dict[int, set[str]] = {}
        self._lock = threading.Lock()

    def add(self, user_id: int, sid: str) -> int:
        """Records a socket; returns how many the user now has open."""
        with self._lock:
            sockets = self._sockets.setdefault(user_id, set())
            sockets.add(sid)
            return len(sockets)

    def remove(self, user_id: int, sid: str) -> int:
        with self._lock:
            sockets = self._sockets.get(user_id, set())
            sockets.discard(sid)
            if not sockets:
                self._sockets.pop(user_id, None)
            return len(sockets)

    def count(self, user_id: int) -> int:
        with self._lock:
            return len(self._sockets.get(user_id, ()))

    def online(self, user_ids) -> set[int]:
        with self._lock:
            return {user_id for user_id in user_ids if self._sockets.get(user_id)}


class RedisPresence:
    """One Redis hash per user, a field per open socket; MULTI keeps add+count atomic."""

    def __init__(self, url: str, namespace: str):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = f"{namespace}:presence:"

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"

    def add(self, user_id: int, sid: str) -> int:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(user_id), sid, 1)
            pipe.hlen(self._key(user_id))
            return int(pipe.execute()[1])

    def remove(self, user_id: int, sid: str) -> int:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._key(user_id), sid)
            pipe.hlen(self._key(user_id))
            return int(pipe.execute()[1])

    def count(self, user_id: int) -> int:
        return int(self._redis.hlen(self._key(user_id)))

    def online(self, user_ids) -> set[int]:
        user_ids = list(user_ids)
        if not user_ids:
            return set()
        with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.exists(self._key(user_id))
            return {user_id for user_id, exists in zip(user_ids, pipe.execute(), strict=True) if exists}


def make_presence(redis_url: str | None, namespace: str):
    return RedisPresence(redis_url, namespace) if redis_url else MemoryPresence()
