"""What a socket's last check found: its session's user and its channels' access, kept
until something they depend on changes.

Every socket event checks the session and, in chat, the user's access to the channel, as
they are now. Loading them afresh for each event (a session row with its user and school,
a channel with its project and role facts) was about a third of a chat message's server
CPU. So each socket keeps what its last check found, as detached copies that each event
attaches to its own database session without SQL, and drops it as soon as a commit
changes anything it was drawn from:

- every entry belongs to scopes (a user, a project, or everyone), and a socket holding an
  entry is in a Socket.IO room per scope ("auth:user:5");
- after a commit that touched a watched model (sessions, accounts, classes, memberships,
  teams, channels, mutes …: each module names those of its models that checks read, and
  the scopes a change of each touches, with watch_changes() next to the model), the rooms
  of the scopes it touched are closed (at its flush too, for checks reading through the
  same transaction). Socket.IO closes a room on every process (with Redis, through the
  message queue), so entries on other processes go too;
- an entry counts only while its socket is still in each of its rooms, and was put
  there for this entry or after it: a socket that left a room and joined it again for a
  newer entry does not revive the older one;
- a socket joins its rooms before its check reads the database, so a change committed
  while the check runs closes the room after the join and the entry is never used;
- entries also expire after SOCKET_AUTH_CACHE_SECONDS, a bound for a change no hook
  sees (a mute that runs out, an update written in plain SQL), and go with their socket.

HTTP requests never use it: only socket events, which have a sid.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable

from flask import current_app, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.base import instance_state

from app.extensions import db, socketio
from app.realtime.emit import run_after_commit
from app.realtime.rooms import EVERYONE_SCOPE, user_scope

log = logging.getLogger(__name__)

_NAMESPACE = "/"


class _Entry:
    __slots__ = ("expires_at", "rooms", "value")

    def __init__(self, value, rooms: dict[str, int], expires_at: float):
        self.value = value
        self.rooms = rooms  # room -> the socket's joining of it that this entry was read under
        self.expires_at = expires_at


class SocketAuthCache:
    """This process's entries, by socket and key (per app: the tests build several)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._entries: dict[str, dict[object, _Entry]] = {}
        # sid -> room -> how many times the socket joined it (an entry read under an
        # earlier joining is void once the socket has left the room in between).
        self._joinings: dict[str, dict[str, int]] = {}

    def get(self, sid: str, key):
        entry = self._entries.get(sid, {}).get(key)
        if entry is None:
            return None
        joinings = self._joinings.get(sid, {})
        if time.monotonic() >= entry.expires_at or any(
            joinings.get(room) != joining or not _in_room(sid, room) for room, joining in entry.rooms.items()
        ):
            del self._entries[sid][key]
            return None
        return entry.value

    def join(self, sid: str, scopes: Iterable[str]) -> dict[str, int]:
        """Puts the socket in its scopes' rooms; call before reading what the entry holds."""
        joinings = self._joinings.setdefault(sid, {})
        rooms = {}
        for room in (EVERYONE_SCOPE, *scopes):
            if not _in_room(sid, room):
                socketio.server.enter_room(sid, room, namespace=_NAMESPACE)
                joinings[room] = joinings.get(room, 0) + 1
            rooms[room] = joinings[room]
        return rooms

    def put(self, sid: str, key, value, rooms: dict[str, int]) -> None:
        self._entries.setdefault(sid, {})[key] = _Entry(value, rooms, time.monotonic() + self.seconds)

    def forget(self, sid: str) -> None:
        self._entries.pop(sid, None)
        self._joinings.pop(sid, None)


def _in_room(sid: str, room: str) -> bool:
    # python-socketio's manager keeps rooms[namespace][room] as a mapping keyed by sid; it
    # has no public "is this socket in that room" (rooms() lists every room of the namespace).
    return sid in socketio.server.manager.rooms.get(_NAMESPACE, {}).get(room, ())


def _socket_cache() -> tuple[str, SocketAuthCache] | tuple[None, None]:
    if not has_request_context():
        return None, None
    sid = getattr(request, "sid", None)
    state = current_app.extensions.get("crossclass_realtime")
    if sid is None or state is None or state.auth_cache.seconds <= 0:
        return None, None
    if not socketio.server.manager.is_connected(sid, _NAMESPACE):
        return None, None  # an event still running after its socket closed: keep nothing
    return sid, state.auth_cache


def cached_check(key, scopes: Iterable[str], check: Callable[[], object], keep: Callable, restore: Callable):
    """In a socket event: what `check` found for this socket under `key`, while nothing in
    its scopes changed; else `check()` (which raises or returns None to refuse: neither is
    kept). `keep` makes a detached copy of a result to store, `restore` turns that copy into
    the result for this event (attaching its objects to this event's database session)."""
    sid, cache = _socket_cache()
    if cache is None:
        return check()
    kept = cache.get(sid, key)
    if kept is not None:
        return restore(kept)
    rooms = cache.join(sid, scopes)
    result = check()
    if result is not None:
        cache.put(sid, key, keep(result), rooms)
    return result


def remembered(key):
    """A fact this socket noted with remember() (None outside a socket event)."""
    sid, cache = _socket_cache()
    return cache.get(sid, key) if cache is not None else None


def remember(key, value) -> None:
    """Notes a fact that never changes (which project a channel is in) for this socket."""
    sid, cache = _socket_cache()
    if cache is not None:
        cache.put(sid, key, value, cache.join(sid, ()))


def socket_owner() -> int | None:
    """In a socket event: the id of the user whose session opened the socket (None while it connects)."""
    sid, cache = _socket_cache()
    if cache is None:
        return None
    return current_app.extensions["crossclass_realtime"].socket_owners.get(sid)


def cached_user_loader(loader: Callable[[str], object]) -> Callable[[str], object]:
    """Flask-Login's user loader, keeping a socket's last finding (see the module). The
    user's school comes along: chat shows its country with each message."""

    def load(token: str):
        owner = socket_owner()
        if owner is None:
            return loader(token)
        return cached_check(
            ("session", token),
            [user_scope(owner)],
            lambda: loader(token),
            keep=lambda user: detached_copy(user, ("school",)),
            restore=lambda copy: _with_session_token(merge_copy(copy), token),
        )

    return load


def _with_session_token(user, token: str):
    user.session_token = token  # (not a column: merge does not copy it)
    return user


def detached_copy(instance, relationships: Iterable[str] = (), left_out: Iterable[str] = ()):
    """A copy of the loaded row that no database session owns: its columns, and the named
    relationships (copied the same way). merge_copy() puts it into a session without SQL.

    Columns left out (those written in plain SQL, which no hook sees) are read from the
    database when an event uses them, as a column not yet loaded is."""
    mapper = inspect(type(instance))
    copy = mapper.class_manager.new_instance()
    for attribute in mapper.column_attrs:
        if attribute.key not in left_out:
            setattr(copy, attribute.key, getattr(instance, attribute.key))
    make_transient_to_detached(copy)  # the values set count as loaded from the database
    for name in relationships:
        related = getattr(instance, name)
        # Straight into the state: merge() follows the relationships found there.
        copy.__dict__[name] = detached_copy(related) if related is not None else None
    return copy


def merge_copy(copy):
    """The copy as an object of this event's database session (lazy loads work as usual).

    What session.merge(copy, load=False) does for these copies, for about two thirds of its
    CPU (every socket event restores its user, school, channel and project): merge visits
    every property of the mapper, sets each value through the attribute events and then
    cascades; here the copy's loaded values (columns, and the related copies it carries)
    go straight into a new instance's state, marked as loaded from the database. An object
    already in the session is returned as it is (it is at least as fresh as the copy)."""
    return _attach_copy(db.session(), copy)


def _attach_copy(session: Session, copy):
    state = instance_state(copy)
    existing = session.identity_map.get(state.key)
    if existing is not None:
        return existing
    values = {}
    for name, value in state.dict.items():
        if name == "_sa_instance_state":
            continue
        if hasattr(value, "_sa_instance_state"):  # a related copy (detached_copy's relationships)
            value = _attach_copy(session, value)
        values[name] = value
    instance = state.manager.new_instance()
    attached = instance_state(instance)
    attached.dict.update(values)
    # What make_transient_to_detached() found for the copy holds for this one too: the row's
    # key, and the columns left out as expired (read from the database if an event uses
    # them); its values count as loaded, as nothing marks them changed.
    attached.key = state.key
    attached.expired_attributes = set(state.expired_attributes)
    # (session.add() would cascade through every relationship of the mapper; there is
    # nothing to cascade to but the copies attached above.)
    session._update_impl(attached)
    return instance


# ---- invalidation -----------------------------------------------------------------------------

ScopesOf = Callable[[object, bool], Iterable[str]]

# Each model a kept check reads -> what tells the scopes a change of one of its rows touches.
# Filled by the modules that own the models (watch_changes, next to each model), so this
# plumbing names no feature: a new module's checks work by registering its own models.
_watched: dict[type, tuple[ScopesOf, ...]] = {}


def watch_changes(model: type, scopes_of: ScopesOf) -> None:
    """Declares that kept checks read `model`: a flush that adds, changes or deletes one of
    its rows closes the rooms of the scopes `scopes_of(row, deleted)` names (user_scope,
    project_scope or EVERYONE_SCOPE from app/realtime/rooms.py), on every process.

    Call it where the model is declared (its module's models.py), so it holds in every
    process and app that can write such a row: a model a check reads that nobody watches
    goes stale for up to SOCKET_AUTH_CACHE_SECONDS. Registering the same function again
    changes nothing; another function for the same model adds its scopes to the first's."""
    known = _watched.get(model, ())
    if scopes_of not in known:
        _watched[model] = (*known, scopes_of)


def everyone(_row, _deleted) -> list[str]:
    """scopes_of for a rare change many checks depend on (a school, a class)."""
    return [EVERYONE_SCOPE]


def install_invalidation() -> None:
    """After each commit, closes the rooms of the scopes its flushes touched (every app,
    every session)."""
    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)


def _note_changes(session: Session, _flush_context) -> None:
    scopes: set[str] = set()
    for rows, deleted in ((session.new, False), (session.dirty, False), (session.deleted, True)):
        for row in rows:
            watchers = _watched.get(type(row))
            if watchers and (deleted or session.is_modified(row, include_collections=True)):
                for scopes_of in watchers:
                    scopes.update(scopes_of(row, deleted))
    if not scopes:
        return
    rooms = sorted(scopes)
    # Now, for checks that read through this transaction's own connection (in this process);
    # and again once committed, for those that ran in between and read the rows as they were.
    # Queued per flush: a savepoint rolled back drops its own flushes' closes, no others.
    try:
        _close(rooms)
    except Exception:
        # (Redis away: the write must not fail for it; the close after the commit tries again.)
        log.exception("could not drop the socket checks of %s", rooms)
    run_after_commit(session, functools.partial(_close, rooms), "drop the socket checks it changed")


def _close(rooms: list[str]) -> None:
    for room in rooms:
        socketio.server.close_room(room, namespace=_NAMESPACE)
