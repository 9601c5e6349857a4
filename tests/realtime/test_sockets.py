"""The real-time plumbing through Flask-SocketIO's test client: refusals, limits, acks,
live presence and emit-after-commit (docs/realtime.md)."""

import gc
from types import SimpleNamespace

import pytest
from flask_login import current_user
from sqlalchemy import select

from app.auth.models import AccountStatus, School
from app.core.errors import InvalidInput
from app.extensions import db
from app.realtime import limits, socket_event
from app.realtime.emit import emit_after_commit
from app.realtime.rooms import user_room
from tests.conftest import Factory, post_form


@socket_event("test_write")
def _write_then_maybe_fail(payload):
    """A writer as chat's will be: write, queue the room event, and fail on request."""
    Factory().school(name=payload["name"])
    emit_after_commit(db.session, "test_written", {"name": payload["name"]}, user_room(current_user.id))
    if payload.get("fail") == "invalid":
        raise InvalidInput("That name is not allowed.")
    if payload.get("fail") == "crash":
        raise RuntimeError("a bug")
    return {"name": payload["name"]}


def _code(ack) -> str | None:
    return ack["error"]["code"] if ack and not ack.get("ok") else None


def _refused(sock) -> str:
    """The code of a refused connect: {message, data: {code, message}} on the wire."""
    assert not sock.is_connected()
    return sock.refusal["data"]["code"]


# ---- connect -----------------------------------------------------------------------------


def test_logged_in_user_connects_and_gets_acks(browsers, make):
    sock = browsers.connect_as(make.teacher())
    assert sock.is_connected()
    assert sock.emit("presence_sync", {}, callback=True) == {"ok": True, "online": []}


def test_socket_events_leave_no_reference_cycles(browsers, make):
    """Each event's request context is freed when the event ends, not by the garbage collector.

    A full collection stops every socket of the process; with some sixty objects left in a
    cycle per event (its request context, user and frames), a busy server paused for 100 to
    250 ms every few seconds.
    """
    sock = browsers.connect_as(make.teacher())

    def objects_in_cycles_per_event(events: int) -> float:
        gc.collect()
        gc.disable()
        try:
            for _ in range(events):
                assert sock.emit("presence_sync", {}, callback=True)["ok"]
            return gc.collect() / events
        finally:
            gc.enable()

    objects_in_cycles_per_event(5)  # warm-up: what the first events leave once (caches)
    # The test client's own callback closures leave about eight per event.
    assert objects_in_cycles_per_event(10) < 20


def test_the_socketio_path_still_reaches_engineio_over_http(client):
    """The URL rule that spares socket events their routing error serves nothing itself."""
    response = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith('0{"sid":')


def test_socket_without_a_session_is_refused(browsers):
    sock = browsers.socket(browsers.http())
    assert not sock.is_connected()
    assert _refused(sock) == "unauthorized"
    assert sock.refusal["message"] == sock.refusal["data"]["message"]


def test_socket_from_a_foreign_origin_is_refused(browsers, make):
    http = browsers.http(make.teacher())
    sock = browsers.socket(http, origin="https://evil.example")
    assert not sock.is_connected()
    assert _refused(sock) == "bad_origin"
    # The same session from an allowed origin is fine.
    assert browsers.socket(http, origin="http://localhost").is_connected()


def test_pending_teacher_is_refused(browsers, make):
    sock = browsers.connect_as(make.teacher(status=AccountStatus.PENDING))
    assert not sock.is_connected()
    assert _refused(sock) == "unauthorized"


def test_student_who_must_change_password_is_refused(browsers, make):
    sock = browsers.connect_as(make.student(must_change_password=True))
    assert not sock.is_connected()
    assert _refused(sock) == "unauthorized"


def _settle():
    """Lets the background task that ends replaced sockets run (the test process is not
    monkey-patched: gevent runs it when this greenlet sleeps)."""
    from app.extensions import socketio

    socketio.sleep(0.05)


def test_a_closed_socket_frees_its_place_at_once(app, browsers, make):
    limit = app.config["SOCKETS_PER_USER"]
    teacher = make.teacher()
    http = browsers.http(teacher)
    sockets = [browsers.socket(http) for _ in range(limit)]
    assert all(sock.is_connected() for sock in sockets)

    sockets[0].disconnect()
    newcomer = browsers.socket(http)
    _settle()
    # Had the closed socket kept its place, the newcomer would have pushed out the oldest open one.
    assert newcomer.is_connected()
    assert all(sock.is_connected() for sock in sockets[1:])
    assert not any(sock.events("socket_replaced") for sock in sockets[1:])
    assert app.extensions["crossclass_realtime"].presence.count(teacher.id) == limit


def test_one_socket_over_the_limit_takes_the_place_of_the_oldest(app, browsers, make):
    """The newest window is the one the person looks at: it connects, the oldest gives way
    and is told why (its page does not reconnect by itself, see static/js/live.js)."""
    limit = app.config["SOCKETS_PER_USER"]
    teacher = make.teacher()
    http = browsers.http(teacher)
    sockets = [browsers.socket(http) for _ in range(limit)]

    newest = browsers.socket(http)
    _settle()
    assert newest.is_connected()
    assert not sockets[0].is_connected()
    assert [notice["code"] for notice in sockets[0].events("socket_replaced")] == ["replaced"]
    assert all(sock.is_connected() for sock in sockets[1:])
    assert not any(sock.events("socket_replaced") for sock in [*sockets[1:], newest])
    assert app.extensions["crossclass_realtime"].presence.count(teacher.id) == limit
    # Another person's sockets are not touched by it.
    assert browsers.connect_as(make.teacher()).is_connected()


def test_a_student_replacing_a_window_stays_online_for_the_teacher(app, browsers, two_classes):
    teacher = browsers.connect_as(two_classes.teacher)
    http = browsers.http(two_classes.students[0])
    sockets = [browsers.socket(http) for _ in range(app.config["SOCKETS_PER_USER"])]
    assert teacher.events("presence") == [{"user_id": two_classes.students[0].id, "online": True}]

    browsers.socket(http)
    _settle()
    assert not sockets[0].is_connected()
    assert teacher.events("presence") == []  # one window gave way to another: still online


# ---- limits and acks ---------------------------------------------------------------------


def test_payload_over_the_limit_is_answered_and_the_connection_stays(app, browsers, make):
    sock = browsers.connect_as(make.teacher())
    too_big = {"text": "x" * app.config["SOCKET_MAX_PAYLOAD_BYTES"]}
    ack = sock.emit("presence_sync", too_big, callback=True)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "payload_too_large"
    assert ack["error"]["message"]
    assert sock.is_connected()
    assert sock.emit("presence_sync", {}, callback=True)["ok"] is True


@pytest.fixture
def frozen_clock(monkeypatch):
    """Stops the token buckets' clock, so a burst is exactly SOCKET_EVENT_BURST events."""
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(limits, "time", SimpleNamespace(monotonic=lambda: clock.now))
    return clock


def test_rate_limit_holds_back_only_the_fast_user(app, browsers, make, frozen_clock):
    fast = browsers.connect_as(make.teacher())
    other = browsers.connect_as(make.teacher())
    burst = app.config["SOCKET_EVENT_BURST"]
    for _ in range(burst):
        assert fast.emit("presence_sync", {}, callback=True)["ok"] is True

    ack = fast.emit("presence_sync", {}, callback=True)
    assert _code(ack) == "rate_limited"
    assert ack["error"]["message"]
    assert fast.is_connected()
    assert other.emit("presence_sync", {}, callback=True)["ok"] is True

    # Tokens come back at SOCKET_EVENTS_PER_SECOND.
    frozen_clock.now += 1 / app.config["SOCKET_EVENTS_PER_SECOND"]
    assert fast.emit("presence_sync", {}, callback=True)["ok"] is True
    assert _code(fast.emit("presence_sync", {}, callback=True)) == "rate_limited"


def test_rate_limit_counts_all_sockets_of_a_user(app, browsers, make, frozen_clock):
    http = browsers.http(make.teacher())
    first, second = browsers.socket(http), browsers.socket(http)
    for turn in range(app.config["SOCKET_EVENT_BURST"]):
        assert (first if turn % 2 else second).emit("presence_sync", {}, callback=True)["ok"] is True
    assert _code(first.emit("presence_sync", {}, callback=True)) == "rate_limited"
    assert _code(second.emit("presence_sync", {}, callback=True)) == "rate_limited"


def test_logout_makes_the_next_event_unauthorized(browsers, make):
    teacher = make.teacher()
    http = browsers.http(teacher)
    sock = browsers.socket(http)
    assert sock.emit("presence_sync", {}, callback=True)["ok"] is True

    post_form(http, "/logout", {}, page="/dashboard")
    # The logout disconnects the session's sockets (app/realtime/revoke.py; a socket that
    # only listens: tests/realtime/test_ended_logins.py), and their next event would be
    # refused anyway (a disabled account below: the same check).
    assert not sock.is_connected()
    # A new socket with the ended session is refused too.
    assert _refused(browsers.socket(http)) == "unauthorized"


def test_socket_events_do_not_decode_the_cookie_again_yet_see_a_logout_at_once(browsers, make, monkeypatch):
    """The cookie is opened once per socket (its handshake's); the session row behind it is
    still checked on every event."""
    from flask.sessions import SecureCookieSessionInterface

    teacher = make.teacher()
    http = browsers.http(teacher)
    sock = browsers.socket(http)
    assert sock.emit("presence_sync", {}, callback=True)["ok"] is True
    opened = []
    original = SecureCookieSessionInterface.open_session
    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", lambda *args: opened.append(1) or original(*args))
    for _ in range(3):
        assert sock.emit("presence_sync", {}, callback=True)["ok"] is True
    assert opened == []
    post_form(http, "/logout", {}, page="/dashboard")
    assert opened  # HTTP requests still open the cookie
    assert not sock.is_connected()  # the logout ended the socket at once


def test_disabled_account_makes_the_next_event_unauthorized(browsers, make):
    teacher = make.teacher()
    sock = browsers.connect_as(teacher)
    teacher.status = AccountStatus.DISABLED
    db.session.flush()
    assert _code(sock.emit("presence_sync", {}, callback=True)) == "unauthorized"


# ---- presence ----------------------------------------------------------------------------


@pytest.fixture
def two_classes(make):
    teacher = make.teacher()
    school_class = make.school_class(teacher)
    other_teacher = make.teacher()
    other_class = make.school_class(other_teacher)
    return SimpleNamespace(
        teacher=teacher,
        students=[make.student(school_class), make.student(school_class)],
        other_teacher=other_teacher,
        other_student=make.student(other_class),
    )


def test_teacher_sees_their_student_come_online_and_go_offline(browsers, two_classes):
    teacher = browsers.connect_as(two_classes.teacher)
    other_teacher = browsers.connect_as(two_classes.other_teacher)
    student = two_classes.students[0]

    student_http = browsers.http(student)
    first_tab = browsers.socket(student_http)
    assert teacher.events("presence") == [{"user_id": student.id, "online": True}]

    # A second tab is not news; closing one of two tabs is not going offline.
    second_tab = browsers.socket(student_http)
    first_tab.disconnect()
    assert teacher.events("presence") == []

    second_tab.disconnect()
    assert teacher.events("presence") == [{"user_id": student.id, "online": False}]
    assert other_teacher.events("presence") == []


def test_student_of_two_classes_is_announced_once_to_each_teacher(browsers, make):
    student = make.student()
    teacher = make.teacher()
    second_class = make.school_class(teacher)
    from app.auth.models import ClassMembership
    from app.core.db import utcnow

    student.memberships.append(ClassMembership(class_id=second_class.id, joined_at=utcnow()))
    db.session.flush()
    teacher_socket = browsers.connect_as(teacher)
    browsers.connect_as(student)
    assert teacher_socket.events("presence") == [{"user_id": student.id, "online": True}]


def test_teachers_coming_online_are_not_announced(browsers, two_classes):
    watcher = browsers.connect_as(two_classes.teacher)
    browsers.connect_as(two_classes.other_teacher)
    assert watcher.events("presence") == []


def test_presence_sync_lists_exactly_my_online_students(browsers, two_classes):
    online_student, offline_student = two_classes.students
    browsers.connect_as(online_student)
    browsers.connect_as(two_classes.other_student)
    browsers.connect_as(two_classes.other_teacher)

    teacher = browsers.connect_as(two_classes.teacher)
    assert teacher.emit("presence_sync", {}, callback=True) == {"ok": True, "online": [online_student.id]}
    assert offline_student.id not in teacher.emit("presence_sync", {}, callback=True)["online"]


def test_presence_sync_tells_a_student_nothing(browsers, two_classes):
    browsers.connect_as(two_classes.students[1])
    student = browsers.connect_as(two_classes.students[0])
    assert student.emit("presence_sync", {}, callback=True) == {"ok": True, "online": []}


def test_presence_sync_without_a_payload_or_callback(browsers, two_classes):
    teacher = browsers.connect_as(two_classes.teacher)
    assert teacher.emit("presence_sync", callback=True)["ok"] is True
    assert teacher.emit("presence_sync", {}) is None  # no ack asked, none sent
    assert teacher.is_connected()


# ---- emit after commit -------------------------------------------------------------------


@pytest.fixture
def listener(browsers, make):
    """A connected teacher; events sent to their personal room arrive here."""
    teacher = make.teacher()
    sock = browsers.connect_as(teacher)
    sock.get_received()
    return SimpleNamespace(room=user_room(teacher.id), socket=sock)


def test_event_of_a_rolled_back_transaction_is_never_emitted(listener):
    emit_after_commit(db.session, "card_moved", {"n": 1}, listener.room)
    assert listener.socket.events("card_moved") == []  # waits for the commit
    db.session.rollback()
    db.session.commit()
    assert listener.socket.events("card_moved") == []


def test_event_of_a_committed_transaction_is_emitted_once(listener, make):
    make.school()  # some write in the same transaction
    emit_after_commit(db.session, "card_moved", {"n": 1}, listener.room)
    emit_after_commit(db.session, "card_moved", {"n": 2}, listener.room)
    assert listener.socket.events("card_moved") == []
    db.session.commit()
    assert listener.socket.events("card_moved") == [{"n": 1}, {"n": 2}]
    db.session.commit()
    assert listener.socket.events("card_moved") == []


def test_rolled_back_savepoint_drops_only_its_own_events(listener, make):
    # Chat's retry path: a duplicate client_id fails inside a savepoint, the rest commits.
    emit_after_commit(db.session, "card_moved", {"n": "outer"}, listener.room)
    savepoint = db.session.begin_nested()
    make.school()
    emit_after_commit(db.session, "card_moved", {"n": "inner"}, listener.room)
    savepoint.rollback()
    kept = db.session.begin_nested()
    emit_after_commit(db.session, "card_moved", {"n": "released"}, listener.room)
    kept.commit()
    db.session.commit()
    assert listener.socket.events("card_moved") == [{"n": "outer"}, {"n": "released"}]


def test_event_queued_before_any_query_is_dropped_by_rollback(listener):
    db.session.commit()  # nothing begun now
    emit_after_commit(db.session, "card_moved", {"n": 1}, listener.room)
    db.session.rollback()
    db.session.commit()
    assert listener.socket.events("card_moved") == []


def test_event_of_a_session_closed_without_commit_is_never_emitted(listener):
    emit_after_commit(db.session, "card_moved", {"n": 1}, listener.room)
    db.session.close()  # as at the end of a request that neither committed nor rolled back
    db.session.commit()
    assert listener.socket.events("card_moved") == []


def test_an_action_after_commit_may_use_the_database_when_the_pool_has_no_other_connection(tmp_path):
    """The disconnect handlers of a pupil whose access shrank run after the commit and read
    the database. With a fixed pool, they must not wait for the connection the committing
    session still held (every commit holding one, each waiting for another)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import QueuePool

    from app.realtime.emit import run_after_commit

    engine = create_engine(
        f"sqlite:///{tmp_path / 'pool.db'}", poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=1
    )
    read = []

    def read_in_a_second_connection():
        with engine.connect() as connection:
            read.append(connection.execute(text("SELECT count(*) FROM note")).scalar())

    try:
        with Session(engine) as session:
            session.execute(text("CREATE TABLE note (body TEXT)"))
            session.execute(text("INSERT INTO note VALUES ('kept')"))
            run_after_commit(session, read_in_a_second_connection, "read the notes")
            session.commit()
    finally:
        engine.dispose()
    assert read == [1]


# ---- acks of a writing handler -----------------------------------------------------------


def _school_named(name: str):
    return db.session.scalar(select(School).where(School.name == name))


def test_handler_that_succeeds_commits_acks_and_emits(browsers, make):
    sock = browsers.connect_as(make.teacher())
    assert sock.emit("test_write", {"name": "Kept"}, callback=True) == {"ok": True, "name": "Kept"}
    assert sock.events("test_written") == [{"name": "Kept"}]
    assert _school_named("Kept") is not None


def test_handler_error_is_acked_rolled_back_and_not_emitted(browsers, make):
    sock = browsers.connect_as(make.teacher())
    ack = sock.emit("test_write", {"name": "Refused", "fail": "invalid"}, callback=True)
    assert ack == {"ok": False, "error": {"code": "invalid_input", "message": "That name is not allowed."}}
    assert sock.events("test_written") == []
    assert _school_named("Refused") is None
    assert sock.is_connected()


def test_handler_crash_is_acked_as_server_error_and_nothing_is_kept(app, browsers, make, caplog, monkeypatch):
    # Alembic's fileConfig() disables loggers that exist when a later app migrates.
    monkeypatch.setattr(app.logger, "disabled", False)
    sock = browsers.connect_as(make.teacher())
    ack = sock.emit("test_write", {"name": "Crashed", "fail": "crash"}, callback=True)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "server_error"
    assert ack["error"]["message"]
    assert "socket event test_write failed" in caplog.text
    assert sock.events("test_written") == []
    assert _school_named("Crashed") is None
    # The connection survives and the next event works.
    assert sock.emit("test_write", {"name": "After"}, callback=True)["ok"] is True
