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

import pytest
import requests

from tests.conftest import ServerProcess, prepare_database

JOINS, WRONG_CODES, REGISTRATIONS = 4, 3, 2
PARALLEL = 12
PASSWORD = "my-own-secret-9"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("doors") / "doors.db"
    prepare_database(f"sqlite:///{path}")
    started = ServerProcess(
        f"sqlite:///{path}",
        SECRET_KEY=secrets.token_hex(32),
        CODE_JOINS_PER_ADDRESS_PER_HOUR=str(JOINS),
        WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR=str(WRONG_CODES),
        REGISTRATIONS_PER_ADDRESS_PER_HOUR=str(REGISTRATIONS),
    ).start()
    started.path = path
    yield started
    started.stop()


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
    with sqlite3.connect(server.path) as connection:
        code = connection.execute("SELECT join_code FROM school_class ORDER BY id LIMIT 1").fetchone()[0]
    pupil = {"display_name": "Pupil", "password": PASSWORD, "confirm": PASSWORD}

    joins = post_together(server, "/join", [{**pupil, "code": code}] * PARALLEL)
    guesses = post_together(server, "/join", [{**pupil, "code": f"WRONG{n:03d}"} for n in range(PARALLEL)])

    assert joins == Counter({302: JOINS, 429: PARALLEL - JOINS}), server.output()[-3000:]
    assert guesses == Counter({400: WRONG_CODES, 429: PARALLEL - WRONG_CODES}), server.output()[-3000:]
    with sqlite3.connect(server.path) as connection:
        assert connection.execute("SELECT count(*) FROM class_join_request").fetchone() == (JOINS,)


def test_parallel_registrations_from_one_address_stop_exactly_at_the_limit(server):
    with sqlite3.connect(server.path) as connection:
        school_id = connection.execute("SELECT id FROM school WHERE is_verified ORDER BY id LIMIT 1").fetchone()[0]
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
    with sqlite3.connect(server.path) as connection:
        assert connection.execute("SELECT count(*) FROM user WHERE email LIKE 'flood%'").fetchone() == (REGISTRATIONS,)
