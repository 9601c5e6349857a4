"""Who is online: the open sockets of each user, shared by all processes through Redis.

Without REDIS_URL there is one process and the table lives in memory, and dies with it.
"""

from __future__ import annotations

import secrets
import threading
import time

# A process that has not said it is alive for this long is taken for dead.
PROCESS_TTL_SECONDS = 30


class MemoryPresence:
    def __init__(self):
        # user id -> {sid: when it connected}; the connect order decides which sockets give way
        # when a user opens more than SOCKETS_PER_USER (app/realtime/sockets.py).
        self._sockets: dict[int, dict[str, float]] = {}
        self._logins: dict[str, int] = {}  # sid -> the login session (UserSession id) it runs under
        self._lock = threading.Lock()

    def add(self, user_id: int, sid: str, login: int | None = None) -> int:
        """Records a socket (and its login session); returns how many the user now has open."""
        with self._lock:
            sockets = self._sockets.setdefault(user_id, {})
            sockets.setdefault(sid, time.time())
            if login is not None:
                self._logins[sid] = login
            return len(sockets)

    def remove(self, user_id: int, sid: str) -> int:
        with self._lock:
            sockets = self._sockets.get(user_id, {})
            sockets.pop(sid, None)
            self._logins.pop(sid, None)
            if not sockets:
                self._sockets.pop(user_id, None)
            return len(sockets)

    def count(self, user_id: int) -> int:
        with self._lock:
            return len(self._sockets.get(user_id, ()))

    def sids(self, user_id: int, logins=None) -> list[str]:
        """The user's open sockets (all in this process), oldest first; only those of these
        login sessions when given."""
        with self._lock:
            sockets = self._sockets.get(user_id, {})
            found = sorted(sockets, key=lambda sid: (sockets[sid], sid))
            if logins is not None:
                found = [sid for sid in found if self._logins.get(sid) in set(logins)]
            return found

    def online(self, user_ids) -> set[int]:
        with self._lock:
            return {user_id for user_id in user_ids if self._sockets.get(user_id)}


class RedisPresence:
    """One Redis hash per user, a field per open socket, named after the process holding it;
    its value is when the socket connected.

    A process that dies (a crash, a kill, a restart during deployment) never runs its
    disconnect handlers, so its fields would stay forever: its pupils shown online, and
    each user's SOCKETS_PER_USER slowly filled with ghosts. Each process therefore keeps a
    heartbeat key alive (beat(), every PROCESS_TTL_SECONDS / 3); a field whose process has
    no heartbeat is not counted, and is deleted when next seen.

    A second hash per user names, with the same fields, the login session (UserSession id)
    each socket runs under, so ending a session can find its sockets on every process.
    """

    def __init__(self, url: str, namespace: str, process_ttl: int = PROCESS_TTL_SECONDS):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = f"{namespace}:presence:"
        self._process_ttl = process_ttl
        self.process_id = secrets.token_hex(8)

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"

    def _login_key(self, user_id: int) -> str:
        return f"{self._prefix}login:{user_id}"

    def _process_key(self, process_id: str) -> str:
        return f"{self._prefix}process:{process_id}"

    def _field(self, sid: str) -> str:
        return f"{self.process_id}:{sid}"

    def beat(self) -> None:
        """Says this process is alive; call at least every process_ttl / 2 seconds."""
        self._redis.set(self._process_key(self.process_id), 1, ex=self._process_ttl)

    def add(self, user_id: int, sid: str, login: int | None = None) -> int:
        """Records a socket (and its login session); returns how many the user now has open
        in live processes."""
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._process_key(self.process_id), 1, ex=self._process_ttl)
            # HSETNX: the same socket counted twice keeps its first time.
            pipe.hsetnx(self._key(user_id), self._field(sid), repr(time.time()))
            if login is not None:
                pipe.hset(self._login_key(user_id), self._field(sid), login)
            pipe.hkeys(self._key(user_id))
            fields = pipe.execute()[-1]
        return len(self._live_fields({user_id: fields})[user_id])

    def remove(self, user_id: int, sid: str) -> int:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._key(user_id), self._field(sid))
            pipe.hdel(self._login_key(user_id), self._field(sid))
            pipe.hkeys(self._key(user_id))
            fields = pipe.execute()[-1]
        return len(self._live_fields({user_id: fields})[user_id])

    def count(self, user_id: int) -> int:
        return len(self._live_fields({user_id: self._redis.hkeys(self._key(user_id))})[user_id])

    def sids(self, user_id: int, logins=None) -> list[str]:
        """The user's open sockets in every live process, oldest first (a field is
        "{process_id}:{sid}", its value the time it connected); only those of these login
        sessions when given."""
        connected_at = self._redis.hgetall(self._key(user_id))
        fields = self._live_fields({user_id: list(connected_at)})[user_id]
        if logins is not None:
            wanted = {str(login).encode() for login in logins}
            of_login = self._redis.hgetall(self._login_key(user_id))
            fields = [field for field in fields if of_login.get(field) in wanted]
        fields.sort(key=lambda field: (_seconds(connected_at[field]), field))
        return [field.split(b":", 1)[1].decode() for field in fields]

    def online(self, user_ids) -> set[int]:
        user_ids = list(user_ids)
        if not user_ids:
            return set()
        with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.hkeys(self._key(user_id))
            fields = dict(zip(user_ids, pipe.execute(), strict=True))
        return {user_id for user_id, live in self._live_fields(fields).items() if live}

    def _live_fields(self, fields_by_user: dict[int, list[bytes]]) -> dict[int, list[bytes]]:
        """Keeps the fields of processes with a heartbeat; deletes the others' fields."""
        processes = sorted({field.split(b":", 1)[0] for fields in fields_by_user.values() for field in fields})
        if not processes:
            return {user_id: [] for user_id in fields_by_user}
        beating = self._redis.mget([self._process_key(process.decode()) for process in processes])
        alive = {process for process, beat in zip(processes, beating, strict=True) if beat is not None}
        live: dict[int, list[bytes]] = {}
        for user_id, fields in fields_by_user.items():
            live[user_id] = [field for field in fields if field.split(b":", 1)[0] in alive]
            dead = [field for field in fields if field.split(b":", 1)[0] not in alive]
            if dead:
                self._redis.hdel(self._key(user_id), *dead)
                self._redis.hdel(self._login_key(user_id), *dead)
        return live


def _seconds(value: bytes) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0  # a field written before connect times were kept: take it as the oldest


def make_presence(redis_url: str | None, namespace: str):
    return RedisPresence(redis_url, namespace) if redis_url else MemoryPresence()
