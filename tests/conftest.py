"""Shared fixtures: the app on SQLite and PostgreSQL, a database rolled back per test,
factories, CSRF-aware form posts, and a real server process for browser and socket tests.

Services are mandatory under CI=true; elsewhere a test that needs a missing one is skipped
with the reason.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.auth.models import (  # noqa: E402
    AccountStatus,
    ClassLanguage,
    ClassMembership,
    Role,
    School,
    SchoolClass,
    User,
)
from app.auth.passwords import hash_password  # noqa: E402
from app.core.db import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.realtime.flood import EventGate  # noqa: E402
from app.realtime.limits import TokenBuckets  # noqa: E402
from app.realtime.presence import MemoryPresence  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "correct-horse-42"
_PASSWORD_HASH = hash_password(PASSWORD)


def need_service(available: bool, reason: str) -> None:
    """Skips (or, under CI=true, fails) a test whose service is not there."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


def environ_for_tests(database_url: str, tmp_path: Path, **extra) -> dict:
    return {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "ALLOWED_ORIGINS": "http://localhost",
        "REDIS_NAMESPACE": f"crossclass-test-{os.getpid()}-{secrets.token_hex(3)}",
        **extra,
    }


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    need_service(postgres_available(), f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
    import psycopg

    name = f"crossclass_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request, tmp_path_factory):
    """The app, migrated with Alembic, once per database backend."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'test.db'}"
    else:
        url = request.getfixturevalue("postgres_database")
    # Mail goes to this run's own outbox unless a test points the app at its SMTP server.
    application = create_app(
        {"TESTING": True, "MAIL_OUTBOX_DIR": str(tmp / "outbox")}, environ=environ_for_tests(url, tmp)
    )
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
        if request.param == "sqlite":
            _make_sqlite_savepoints_work(db.engine)
    return application


def _make_sqlite_savepoints_work(engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT, which the per-test rollback
    # needs; SQLAlchemy documents this recipe (sqlite dialect, "Serializable isolation").
    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection, record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    engine.dispose()


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    # Flask-SQLAlchemy picks the engine by table and would bypass the test's connection.
    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def _database(request):
    """Each test that uses the app runs in a transaction rolled back at its end."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _ConnectionBoundSession}
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()
            # Process-level real-time state must not leak from one test into the next.
            realtime = application.extensions["crossclass_realtime"]
            realtime.socket_owners.clear()
            if isinstance(realtime.presence, MemoryPresence):
                realtime.presence = MemoryPresence()
            realtime.buckets = TokenBuckets(realtime.buckets.rate, realtime.buckets.burst)
            realtime.gate = EventGate(application.config, realtime)


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as it does in production.

    The test body holds an app context for its factories; Flask would reuse it for the
    request, and then `g` (Flask-Login's cached user, Flask-WTF's CSRF token) would leak
    from one request into the next. An empty contextvars context starts clean; the
    request's session still uses the test's connection, so it sees the test's data.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


# ---- factories ---------------------------------------------------------------------------


class Factory:
    """Builds valid objects with few arguments; every account's password is PASSWORD."""

    def __init__(self):
        self.count = 0

    def _next(self) -> int:
        self.count += 1
        return self.count

    def school(self, country="PT", city="Porto", timezone="Europe/Lisbon", **fields) -> School:
        n = self._next()
        school = School(
            name=fields.pop("name", f"School {n}"),
            country=country,
            city=city,
            latitude=fields.pop("latitude", 41.15),
            longitude=fields.pop("longitude", -8.61),
            timezone=timezone,
            is_verified=fields.pop("is_verified", True),
            **fields,
        )
        db.session.add(school)
        db.session.flush()
        return school

    def user(self, role=Role.TEACHER, school=None, status=AccountStatus.ACTIVE, **fields) -> User:
        n = self._next()
        username = fields.pop("username", f"{role.value}{n}@example.eu" if role != Role.STUDENT else f"pupil-{n}")
        user = User(
            username=username,
            email=fields.pop("email", username if "@" in username else None),
            password_hash=_PASSWORD_HASH,
            display_name=fields.pop("display_name", f"{role.value.title()} {n}"),
            role=role,
            status=status,
            school=school,
            **fields,
        )
        db.session.add(user)
        db.session.flush()
        return user

    def teacher(self, school=None, **fields) -> User:
        return self.user(Role.TEACHER, school or self.school(), **fields)

    def coordinator(self, school=None, **fields) -> User:
        return self.user(Role.COORDINATOR, school or self.school(), **fields)

    def admin(self, **fields) -> User:
        return self.user(Role.ADMIN, None, **fields)

    def school_class(self, teacher=None, **fields) -> SchoolClass:
        teacher = teacher or self.teacher()
        n = self._next()
        school_class = SchoolClass(
            school_id=teacher.school_id,
            teacher_id=teacher.id,
            name=fields.pop("name", f"Class {n}"),
            vocational_field=fields.pop("vocational_field", "Cooking and catering"),
            isced_code=fields.pop("isced_code", "1013"),
            eqf_level=fields.pop("eqf_level", 4),
            size=fields.pop("size", 20),
            age_min=fields.pop("age_min", 16),
            age_max=fields.pop("age_max", 18),
            join_code=fields.pop("join_code", f"CODE{n:04d}"),
            languages=[ClassLanguage(language="en", cefr_level="B1")],
            **fields,
        )
        db.session.add(school_class)
        db.session.flush()
        return school_class

    def student(self, school_class=None, **fields) -> User:
        school_class = school_class or self.school_class()
        student = self.user(Role.STUDENT, db.session.get(School, school_class.school_id), **fields)
        student.memberships.append(ClassMembership(class_id=school_class.id, joined_at=utcnow()))
        db.session.flush()
        return student


@pytest.fixture
def make(app):
    return Factory()


# ---- HTTP helpers ------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path="/login") -> str:
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict, page: str | None = None, **kwargs):
    """Posts like a browser: with the CSRF token of the page the form is on."""
    token = csrf_token(client, page or "/login")
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def log_in(client, user: User, password: str = PASSWORD):
    response = post_form(client, "/login", {"login": user.username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


# ---- real server processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """`python wsgi.py` in its own process, as `make run` starts it.

    Its output goes to a file, not a pipe: nobody reads a pipe while the tests run, and once
    its buffer (64 KiB) is full, the server's next log line blocks the whole server.
    """

    # The servers up now, whose output a failing test's report shows (pytest_runtest_makereport).
    running: list[ServerProcess] = []

    def __init__(self, database_url: str, port: int | None = None, **environ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environ = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "ALLOWED_ORIGINS": f"http://127.0.0.1:{self.port},http://localhost:{self.port}",
            "PYTHONUNBUFFERED": "1",
            **environ,
        }
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile(mode="w+", prefix=f"server-{self.port}-")  # noqa: SIM115 (closed by stop())

    def output(self) -> str:
        """Everything the server printed so far."""
        if self.log.closed:
            return self.final_output
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def start(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=ROOT,
            env=self.environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    ServerProcess.running.append(self)
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start within 30 s")

    def stop(self) -> None:
        if self in ServerProcess.running:
            ServerProcess.running.remove(self)
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.final_output = self.output()
            self.log.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report ends with what its servers printed: their tracebacks and warnings
    are most often the reason, and the servers' output is otherwise never shown."""
    report = yield
    if report.failed:
        for server in ServerProcess.running:
            report.sections.append((f"server on port {server.port}", server.output()[-20_000:]))
    return report


def login_cookie(base_url: str, username: str, password: str, timeout: float = 30) -> str:
    """Logs in over real HTTP, as a browser would (CSRF token first); the session cookie, ready
    for a socket client's Cookie header."""
    import requests

    http = requests.Session()
    page = http.get(f"{base_url}/login", timeout=timeout).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = http.post(
        f"{base_url}/login",
        data={"csrf_token": token, "login": username, "password": password},
        allow_redirects=False,
        timeout=timeout,
    )
    assert response.status_code == 302, response.text[:2000]
    return f"crossclass_session={http.cookies['crossclass_session']}"


def prepare_database(database_url: str, seed: bool = True) -> None:
    """Migrates (and seeds with demo data) a database through the real CLI."""
    environ = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "app:create_app", "SECRET_KEY": "x" * 40}
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=environ, check=True, capture_output=True)
    if seed:
        subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=environ, check=True, capture_output=True)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A real gevent server on a seeded SQLite database, shared by the browser tests."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    prepare_database(database_url)
    server = ServerProcess(database_url, SECRET_KEY=secrets.token_hex(32)).start()
    yield server
    server.stop()
