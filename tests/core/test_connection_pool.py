"""The PostgreSQL connection pool: a connection dropped while idle is replaced before use.

Against a real PostgreSQL server: the backend behind a pooled connection is ended with
pg_terminate_backend, as a database restart or an idle timeout would end it.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db
from tests.conftest import POSTGRES_ADMIN_URL, environ_for_tests


def _app(postgres_database, tmp_path, idle_seconds: int):
    environ = environ_for_tests(
        postgres_database, tmp_path, DATABASE_PING_AFTER_IDLE_SECONDS=str(idle_seconds), DATABASE_POOL_SIZE="3"
    )
    return create_app({"TESTING": True}, environ=environ)


def _backend_pid() -> int:
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.commit()  # back to the pool, idle from now on
    return pid


def _terminate(pid: int) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    time.sleep(0.2)  # the backend is gone a moment after the call returns


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_database, tmp_path):
    application = _app(postgres_database, tmp_path, idle_seconds=0)
    with application.app_context():
        first = _backend_pid()
        _terminate(first)
        # The next request gets a live connection, not an error.
        assert _backend_pid() != first
        db.engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(postgres_database, tmp_path):
    """What the idle rule saves is real: within the idle time there is no check, so a drop in
    that window reaches the statement (and SQLAlchemy then renews the whole pool)."""
    application = _app(postgres_database, tmp_path, idle_seconds=3600)
    with application.app_context():
        _terminate(_backend_pid())
        with pytest.raises(OperationalError):
            db.session.execute(text("SELECT 1"))
        db.session.rollback()
        assert db.session.scalar(text("SELECT 1")) == 1
        db.session.commit()
        db.engine.dispose()
