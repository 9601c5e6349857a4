"""Declarative base, shared column helpers and per-connection database settings."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic migrations stay the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value of an Integer column (ids, seqs): 32 bits on PostgreSQL, which binds a
# bigger number as a failing ::INTEGER cast. A bigger id or seq (from a URL or a socket
# payload) cannot name a row, so it is refused before it reaches the driver.
MAX_DB_INT = 2**31 - 1


def is_db_int(value, minimum: int = 1) -> bool:
    """An int (not a bool) that can stand for an id (minimum 1) or a seq (minimum 0)."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= MAX_DB_INT


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite would drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use app.core.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class, name: str) -> Enum:
    """An enum stored as its value strings and checked by the database, alike on SQLite and PostgreSQL."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# How long a write waits for SQLite's write lock, held by another connection, before it fails.
SQLITE_LOCK_WAIT_SECONDS = 15
_SQLITE_BUSY = 5  # the plain "database is locked"; not its variants such as BUSY_SNAPSHOT


def serving_under_gevent() -> bool:
    """True in the gevent server (wsgi.py), where greenlets share one thread."""
    from gevent import monkey

    return monkey.is_module_patched("socket")


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record):
    # Only SQLite connections get these; psycopg connections have no such pragmas.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def wait_for_sqlite_lock_cooperatively(engine: Engine) -> None:
    """Under gevent, a statement that finds SQLite's write lock taken waits in the event loop.

    SQLite waits for a lock by sleeping in C, and under gevent that stops the whole process:
    if the lock's holder is a greenlet that yielded (a password hashed in the thread pool, a
    socket write) before its commit, it can never go on, and the process stands still for the
    whole timeout, then the waiting statement fails (a registration during a busy login
    minute froze every page and socket for 15 s at a time). Here the statement is tried
    again after a short sleep that lets other greenlets, the holder too, run meanwhile.
    """
    import gevent

    @event.listens_for(engine, "connect")
    def _no_waiting_inside_sqlite(dbapi_connection, _connection_record):
        # Runs after _tune_sqlite (listeners on the Engine class come first): SQLite answers
        # "busy" at once, and run() below does the waiting.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    def run(execute, *arguments):
        deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
        pause = 0.001
        while True:
            try:
                execute(*arguments)
                return True  # done: SQLAlchemy does not execute it again
            except engine.dialect.loaded_dbapi.OperationalError as error:
                if getattr(error, "sqlite_errorcode", None) != _SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            gevent.sleep(pause)
            pause = min(pause * 2, 0.05)

    @event.listens_for(engine, "do_execute")
    def _execute(cursor, statement, parameters, _context):
        return run(cursor.execute, statement, parameters)

    @event.listens_for(engine, "do_executemany")
    def _execute_many(cursor, statement, parameters, _context):
        return run(cursor.executemany, statement, parameters)

    @event.listens_for(engine, "do_execute_no_params")
    def _execute_no_params(cursor, statement, _context):
        return run(cursor.execute, statement)


def commit_sqlite_off_the_event_loop(engine: Engine) -> None:
    """Under gevent, SQLite's COMMIT of a write runs in a worker thread while the event loop goes on.

    The COMMIT of a write transaction waits for the disk (a sync of the write-ahead log, and
    now and then a checkpoint) inside C, and under gevent that stops every greenlet: at chat
    saturation the process stood still in COMMIT a fifth of its busy time, with every socket
    waiting. In a thread of gevent's pool the COMMIT waits alone (sqlite3 lets go of the GIL
    there); the committing greenlet waits for it, so nothing sees its transaction as committed
    earlier, and no other greenlet touches its connection meanwhile. A transaction that wrote
    nothing has no COMMIT to run (Python's sqlite3 begins one only before a write), and stays
    on the loop: handing it to a thread would cost more than it saves.
    """
    import sqlite3

    import gevent

    class OffLoopCommitConnection(sqlite3.Connection):
        def commit(self):
            if not self.in_transaction:
                return super().commit()
            return gevent.get_hub().threadpool.apply(sqlite3.Connection.commit, (self,))

    @event.listens_for(engine, "do_connect")
    def _with_off_loop_commit(_dialect, _connection_record, _cargs, cparams):
        # (SQLAlchemy opens file databases with check_same_thread=False: any thread may commit.)
        cparams["factory"] = OffLoopCommitConnection


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Checks a pooled PostgreSQL connection before use when it sat idle for idle_seconds.

    A connection the database dropped (a restart, a failover, an idle timeout) fails on its
    next statement. Pinging at every checkout (pool_pre_ping) catches that, but costs a round
    trip per socket event; such drops come mostly after quiet spells, and a connection in
    steady use is known alive. A dead one is replaced before the caller gets it.
    """

    @event.listens_for(engine, "checkin")
    def _note_idle_since(_dbapi_connection, connection_record) -> None:
        connection_record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, connection_record, _proxy) -> None:
        idle_since = connection_record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # just opened, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and hands out a new one.
            raise DisconnectionError("pooled connection found dead after idling") from error
