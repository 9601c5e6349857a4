"""Live presence under load: N students connect; how soon does their teacher see each one?

Starts real `wsgi.py` servers (one, or two sharing Redis with --redis), logs in a teacher
and N students over HTTP, connects the teacher's socket to the first server, then the
students' sockets (spread over the servers), and measures for each student the time from
its connect call to the teacher receiving its `presence` event.

    .venv/bin/python bench/presence.py --students 200
    .venv/bin/python bench/presence.py --students 200 --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import ServerProcess, login_cookie, prepare_database  # noqa: E402

PASSWORD = "bench-password-1"


def create_people(database_url: str, students: int) -> tuple[str, dict[str, int]]:
    from app import create_app
    from app.auth.models import AccountStatus, ClassLanguage, ClassMembership, Role, School, SchoolClass, User
    from app.auth.passwords import hash_password
    from app.core.db import utcnow
    from app.extensions import db

    app = create_app(environ={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "b" * 40})
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        school = School(
            name="Bench school", country="PT", city="Porto", latitude=41.1, longitude=-8.6, timezone="Europe/Lisbon"
        )
        teacher = User(
            username="bench.teacher@example.eu", email="bench.teacher@example.eu", password_hash=password_hash,
            display_name="Bench teacher", role=Role.TEACHER, status=AccountStatus.ACTIVE, school=school,
        )  # fmt: skip
        school_class = SchoolClass(
            school=school, teacher=teacher, name="Bench class", vocational_field="Cooking", eqf_level=4, size=60,
            age_min=16, age_max=19, join_code="BENCH001", languages=[ClassLanguage(language="en", cefr_level="B1")],
        )  # fmt: skip
        names = [f"bench-student-{n}" for n in range(students)]
        db.session.add_all([school, teacher, school_class])
        for name in names:
            db.session.add(
                User(
                    username=name, password_hash=password_hash, display_name=name, role=Role.STUDENT,
                    status=AccountStatus.ACTIVE, school=school,
                    memberships=[ClassMembership(school_class=school_class, joined_at=utcnow())],
                )
            )  # fmt: skip
        db.session.commit()
        ids = dict(db.session.execute(db.select(User.username, User.id).where(User.username.in_(names))).all())
        return teacher.username, ids


def connect(base_url: str, cookie: str, handlers: dict | None = None) -> socketio.Client:
    # websocket-client adds its own Origin header; an Origin in `headers` would make two.
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": base_url})
    for event, handler in (handlers or {}).items():
        client.on(event, handler)
    client.connect(base_url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=30)
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--redis", help="REDIS_URL: run two server processes sharing it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/bench.db"
        prepare_database(database_url, seed=False)
        teacher_name, student_ids = create_people(database_url, args.students)
        extra = {"SECRET_KEY": "s" * 40, "SOCKETS_PER_USER": "4"}
        if args.redis:
            extra |= {"REDIS_URL": args.redis, "REDIS_NAMESPACE": f"bench-{os.getpid()}"}
        servers = [ServerProcess(database_url, **extra).start() for _ in range(2 if args.redis else 1)]
        try:
            run(servers, teacher_name, student_ids)
        finally:
            for server in servers:
                server.stop()


def run(servers, teacher_name: str, student_ids: dict[str, int]) -> None:
    student_names = list(student_ids)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        cookies = list(
            pool.map(
                lambda pair: login_cookie(servers[pair[0] % len(servers)].url, pair[1], PASSWORD),
                enumerate(student_names),
            )
        )
    login_seconds = time.perf_counter() - started

    seen: dict[int, float] = {}
    everyone_online = threading.Event()

    def on_presence(event):
        if event["online"]:
            seen.setdefault(event["user_id"], time.perf_counter())
            if len(seen) == len(student_names):
                everyone_online.set()

    teacher = connect(servers[0].url, login_cookie(servers[0].url, teacher_name, PASSWORD), {"presence": on_presence})
    connect_started: dict[str, float] = {}
    clients = []

    def connect_student(index: int) -> None:
        server = servers[index % len(servers)]
        connect_started[student_names[index]] = time.perf_counter()
        clients.append(connect(server.url, cookies[index]))

    burst_started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(connect_student, range(len(student_names))))
    everyone_online.wait(timeout=60)
    burst_seconds = time.perf_counter() - burst_started

    latencies = sorted(
        (seen[student_ids[name]] - connect_started[name]) * 1000 for name in student_names if student_ids[name] in seen
    )
    # A client's disconnect waits for its read loop to end: close them all at once.
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda client: client.disconnect(), [*clients, teacher]))

    print(f"cores: {os.cpu_count()}  servers: {len(servers)}  students: {len(student_names)}")
    print(f"logins: {login_seconds:.1f} s ({len(student_names) / login_seconds:.1f}/s, argon2id-bound)")
    print(f"presence events received: {len(seen)}/{len(student_names)} in {burst_seconds:.2f} s")
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"connect -> teacher sees online: p50 {statistics.median(latencies):.1f} ms, "
            f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
