"""An ended login stops hearing at once: its sockets are disconnected after the commit.

HTTP refuses an ended session at once, and every socket event checks the session again; but
a socket that only listens (joined a chat channel, never sends) would keep receiving what is
broadcast there. So ending a session (logout, a new login card, a password change, a
disabled account) disconnects that session's sockets, and only those
(app/realtime/revoke.py). Across processes: tests/chat/test_scale_out.py.
"""

from __future__ import annotations

from datetime import timedelta

from app.auth.models import AccountStatus, UserSession
from app.core.db import utcnow
from app.extensions import db
from tests.chat.conftest import exchange, join, send  # noqa: F401  (the exchange fixture)
from tests.chat.test_removed_student import chat_events_queued
from tests.conftest import PASSWORD, post_form


def listening(browsers, http, channel_id: int):
    """A socket of this browser's login that joined the channel and then only listens."""
    sock = browsers.socket(http)
    assert join(sock, channel_id)["ok"]
    sock.events("chat_event")  # (drop what the join brought)
    return sock


def assert_hears_nothing_more(sock, speaker, channel_id: int) -> None:
    assert not sock.is_connected()
    assert send(speaker, channel_id, "said after the login ended")["ok"]
    assert chat_events_queued(sock) == []


def test_logging_out_disconnects_that_logins_listening_socket(exchange, browsers):  # noqa: F811
    laptop, phone = browsers.http(exchange.ana), browsers.http(exchange.ana)
    laptop_socket = listening(browsers, laptop, exchange.channel.id)
    phone_socket = listening(browsers, phone, exchange.channel.id)
    ben = browsers.connect_as(exchange.ben)

    assert post_form(laptop, "/logout", {}, page="/dashboard").status_code == 302

    assert_hears_nothing_more(laptop_socket, ben, exchange.channel.id)
    # Another login of the same person (the phone) is not ended, and keeps hearing.
    assert phone_socket.is_connected()
    assert [event["kind"] for event in phone_socket.events("chat_event")] == ["message"]


def test_a_new_login_card_disconnects_the_pupils_listening_sockets(exchange, browsers):  # noqa: F811
    ana_socket = listening(browsers, browsers.http(exchange.ana), exchange.channel.id)
    ben = browsers.connect_as(exchange.ben)
    school_class = exchange.class_pt

    reset = post_form(
        browsers.http(exchange.teacher),
        f"/classes/{school_class.id}/students/{exchange.ana.id}/reset",
        {},
        page="/classes",
    )

    assert reset.status_code == 200
    assert_hears_nothing_more(ana_socket, ben, exchange.channel.id)


def test_changing_the_password_disconnects_the_other_logins_listening_sockets(exchange, browsers):  # noqa: F811
    laptop, phone = browsers.http(exchange.teacher), browsers.http(exchange.teacher)
    laptop_socket = listening(browsers, laptop, exchange.teachers_channel.id)
    phone_socket = listening(browsers, phone, exchange.teachers_channel.id)
    partner = browsers.connect_as(exchange.partner_teacher)

    changed = post_form(
        laptop,
        "/account/password",
        {"current_password": PASSWORD, "password": "a-brand-new-one-5", "confirm": "a-brand-new-one-5"},
        page="/account/password",
    )

    assert changed.status_code == 302
    assert_hears_nothing_more(phone_socket, partner, exchange.teachers_channel.id)
    # The login that changed the password is its owner's: it stays, and keeps hearing.
    assert laptop_socket.is_connected()
    assert [event["kind"] for event in laptop_socket.events("chat_event")] == ["message"]


def test_disabling_a_teacher_disconnects_their_listening_sockets(exchange, make, browsers):  # noqa: F811
    coordinator = make.coordinator(exchange.teacher.school)
    teacher_socket = listening(browsers, browsers.http(exchange.teacher), exchange.teachers_channel.id)
    partner = browsers.connect_as(exchange.partner_teacher)

    disabled = post_form(
        browsers.http(coordinator),
        f"/school/teachers/{exchange.teacher.id}/disable",
        {},
        page="/school/teachers",
    )

    assert disabled.status_code == 302
    db.session.refresh(exchange.teacher)
    assert exchange.teacher.status == AccountStatus.DISABLED
    assert_hears_nothing_more(teacher_socket, partner, exchange.teachers_channel.id)


def test_a_session_found_idle_by_a_socket_event_ends_that_sessions_sockets(exchange, browsers, app):  # noqa: F811
    http = browsers.http(exchange.ana)
    asking, listening_socket = browsers.socket(http), listening(browsers, http, exchange.channel.id)
    ben = browsers.connect_as(exchange.ben)
    row = db.session.scalar(
        db.select(UserSession).where(UserSession.user_id == exchange.ana.id, UserSession.ended_at.is_(None))
    )
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.commit()

    ack = asking.emit("presence_sync", {}, callback=True)

    assert ack is None or ack["error"]["code"] == "unauthorized"
    assert not asking.is_connected()
    assert_hears_nothing_more(listening_socket, ben, exchange.channel.id)
