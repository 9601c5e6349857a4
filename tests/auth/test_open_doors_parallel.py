"""The hourly limits of /join and /register hold when requests arrive at the same moment.

A real gevent server (wsgi.py) on a seeded database gets the requests from parallel threads:
each greenlet hashes its password in the thread pool and waits for the database, so requests
interleave as they do when a class presses "Join" together, or a script floods the form.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
from collections import Counter

import psycopg
import pytest
import requests

from tests.conftest import POSTGRES_ADMIN_URL, ServerProcess, need_service, postgres_available, prepare_database

JOINS, WRONG_CODES, REGISTRATIONS = 4, 3, 2
PARALLEL = 12
PASSWORD = "my-own-secret-9"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("doors") / "doors.db"
        url = f"sqlite:///{path}"
    else:
        # A database of its own: the server commits, and the shared test database must stay clean.
        need_service(postgres_available(), f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
        name = f"crossclass_doors_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    prepare_database(url)
    started = ServerProcess(
        url,
        SECRET_KEY=secrets.token_hex(32),
        CODE_JOINS_PER_ADDRESS_PER_HOUR=str(JOINS),
        WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR=str(WRONG_CODES),
        REGISTRATIONS_PER_ADDRESS_PER_HOUR=str(REGISTRATIONS),
    ).start()
    started.database_url = url
    yield started
    started.stop()
    if request.param == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(server, sql: str):
    """One row of the server's database, read outside the app (SQLite file or PostgreSQL)."""
    url = server.database_url
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return connection.execute(sql).fetchone()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(sql).fetchone()


def post_together(server, path: str, forms: list[dict]) -> Counter:
    """Each form from its own browser session (with its CSRF token), all sent at once."""
    sessions = []
    for _form in forms:
        http = requests.Session()
        token = _CSRF.search(http.get(f"{server.url}{path}", timeout=30).text).group(1)
        sessions.append((http, token))
    start = threading.Barrier(len(forms))
    statuses: list[int] = []

    def send(http, token, form):
        start.wait()
        response = http.post(f"{server.url}{path}", data={"csrf_token": token, **form}, allow_redirects=False)
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=send, args=(*session, form)) for session, form in zip(sessions, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(statuses)


def test_parallel_joins_and_guesses_from_one_address_stop_exactly_at_the_limits(server):
    code = query(server, "SELECT join_code FROM school_class ORDER BY id LIMIT 1")[0]
    pupil = {"display_name": "Pupil", "password": PASSWORD, "confirm": PASSWORD}

    joins = post_together(server, "/join", [{**pupil, "code": code}] * PARALLEL)
    guesses = post_together(server, "/join", [{**pupil, "code": f"WRONG{n:03d}"} for n in range(PARALLEL)])

    assert joins == Counter({302: JOINS, 429: PARALLEL - JOINS}), server.output()[-3000:]
    assert guesses == Counter({400: WRONG_CODES, 429: PARALLEL - WRONG_CODES}), server.output()[-3000:]
    assert query(server, "SELECT count(*) FROM class_join_request") == (JOINS,)


def test_parallel_registrations_from_one_address_stop_exactly_at_the_limit(server):
    school_id = query(server, "SELECT id FROM school WHERE is_verified ORDER BY id LIMIT 1")[0]
    forms = [
        {
            "display_name": f"Teacher {n}",
            "email": f"flood{n}@example.eu",
            "password": "chalk-and-board-7",
            "confirm": "chalk-and-board-7",
            "school_id": str(school_id),
            "kind": "vet_school",
        }
        for n in range(PARALLEL)
    ]

    statuses = post_together(server, "/register", forms)

    assert statuses == Counter({302: REGISTRATIONS, 429: PARALLEL - REGISTRATIONS}), server.output()[-3000:]
    assert query(server, "SELECT count(*) FROM \"user\" WHERE email LIKE 'flood%'") == (REGISTRATIONS,)
