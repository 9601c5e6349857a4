"""The gevent server on SQLite stays responsive while one request holds the write lock.

A registration takes SQLite's write lock (the new school) and then hashes the password in
gevent's thread pool before its commit. SQLite's own wait for a lock sleeps in C, which under
gevent stopped every greenlet, the lock's holder too: the server stood still for the whole
lock timeout (15 s) and the waiting requests failed with "database is locked".
"""

from __future__ import annotations

import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from app.core.db import SQLITE_LOCK_WAIT_SECONDS
from app.demo import DEMO_PASSWORD

TEACHER = "ana.porto@demo.crossclass.eu"


def _form_session(base_url: str, path: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(f"{base_url}{path}", timeout=60).text
    return http, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _register_with_a_new_school(base_url: str) -> tuple[int, float]:
    http, token = _form_session(base_url, "/register")
    tag = secrets.token_hex(3)
    form = {
        "csrf_token": token,
        "display_name": f"Locking Test {tag}",
        "email": f"locking-{tag}@example.org",
        "password": "a-long-password-9",
        "confirm": "a-long-password-9",
        "school_id": "new",
        "school_name": f"Escola do Teste {tag}",
        "country": "PT",
        "city": "Porto",
        "kind": "vet_school",
    }
    started = time.monotonic()
    response = http.post(f"{base_url}/register", data=form, allow_redirects=False, timeout=60)
    return response.status_code, time.monotonic() - started


def _log_in(base_url: str) -> tuple[int, float]:
    http, token = _form_session(base_url, "/login")
    started = time.monotonic()
    form = {"csrf_token": token, "login": TEACHER, "password": DEMO_PASSWORD}
    response = http.post(f"{base_url}/login", data=form, allow_redirects=False, timeout=60)
    return response.status_code, time.monotonic() - started


def test_writes_wait_for_a_registration_without_stopping_the_server(live_server):
    # The first registration loads the town list; the burst after it measures only the locking.
    assert _register_with_a_new_school(live_server.url)[0] == 302

    with ThreadPoolExecutor(max_workers=12) as pool:
        registrations = [pool.submit(_register_with_a_new_school, live_server.url) for _ in range(4)]
        logins = [pool.submit(_log_in, live_server.url) for _ in range(8)]
        outcomes = [future.result() for future in registrations + logins]

    assert [status for status, _seconds in outcomes] == [302] * 12, live_server.output()[-3000:]
    slowest = max(seconds for _status, seconds in outcomes)
    assert slowest < SQLITE_LOCK_WAIT_SECONDS / 2, f"a request took {slowest:.1f} s"
