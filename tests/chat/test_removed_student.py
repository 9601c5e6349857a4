"""A pupil removed from a class loses the class's exchanges at once, even on an open socket.

The teacher removes the pupil over HTTP; the pupil's sockets are ended right after the
commit, so nothing more is broadcast to them; a reconnect is checked again from scratch.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import AccountStatus, User, UserSession
from app.extensions import db
from app.modules.chat.models import Message
from tests.chat.conftest import join, send
from tests.conftest import PASSWORD, post_form
from tests.realtime.conftest import redis_namespace  # noqa: F401  (a namespace per test, cleaned up)


def chat_events_queued(sock) -> list:
    # get_received() refuses on a closed socket; what the server sent still lands in the queue.
    return [item["args"][0] for item in sock.queue if item["name"] == "chat_event"]


def remove_from_class(browsers, teacher, school_class, student):
    http = browsers.http(teacher)
    page = f"/classes/{school_class.id}"
    return post_form(http, f"{page}/students/{student.id}/remove", {}, page=page)


def test_pupil_still_in_another_class_is_cut_off_and_refused_after_reconnect(exchange, browsers, make):
    other_class = make.school_class(exchange.partner_teacher)  # not in the exchange
    from app.auth.models import ClassMembership
    from app.core.db import utcnow

    exchange.ben.memberships.append(ClassMembership(class_id=other_class.id, joined_at=utcnow()))
    db.session.flush()
    ana = browsers.connect_as(exchange.ana)
    ben_http = browsers.http(exchange.ben)
    ben = browsers.socket(ben_http)
    join(ana, exchange.channel.id)
    assert join(ben, exchange.channel.id)["ok"]
    assert send(ana, exchange.channel.id, "before")["ok"]
    assert [e["message"]["body_source"] for e in ben.events("chat_event")] == ["before"]
    ben.queue.clear()

    response = remove_from_class(browsers, exchange.partner_teacher, exchange.class_de, exchange.ben)
    assert response.status_code == 302

    assert not ben.is_connected()  # ended by the server right after the commit
    assert ana.is_connected()  # nobody else is touched
    assert send(ana, exchange.channel.id, "after Ben left")["ok"]
    assert chat_events_queued(ben) == []
    assert [e["message"]["body_source"] for e in ana.events("chat_event")][-1] == "after Ben left"
    with pytest.raises(RuntimeError):  # the old socket cannot even send any more
        send(ben, exchange.channel.id, "hello?")

    # The page reconnects: the account is fine, but the exchange is not Ben's any more.
    again = browsers.socket(ben_http)
    assert again.is_connected()
    assert join(again, exchange.channel.id)["error"]["code"] == "forbidden"
    assert send(again, exchange.channel.id, "let me back in")["error"]["code"] == "forbidden"
    send(ana, exchange.channel.id, "still private")
    assert again.events("chat_event") == []


def test_every_socket_of_the_pupil_is_ended(exchange, browsers):
    ben_http = browsers.http(exchange.ben)
    tabs = [browsers.socket(ben_http) for _ in range(3)]
    for tab in tabs:
        join(tab, exchange.channel.id)
    assert remove_from_class(browsers, exchange.partner_teacher, exchange.class_de, exchange.ben).status_code == 302
    assert not any(tab.is_connected() for tab in tabs)
    state = browsers.app.extensions["crossclass_realtime"]
    assert state.presence.count(exchange.ben.id) == 0
    assert exchange.ben.id not in state.socket_owners.values()


def test_pupil_whose_account_goes_is_cut_off_and_cannot_reconnect(exchange, browsers):
    ben_http = browsers.http(exchange.ben)
    ben = browsers.socket(ben_http)
    join(ben, exchange.channel.id)
    ben_id = exchange.ben.id

    assert remove_from_class(browsers, exchange.partner_teacher, exchange.class_de, exchange.ben).status_code == 302

    assert not ben.is_connected()
    db.session.expire_all()
    assert db.session.get(User, ben_id) is None  # never wrote anything: deleted
    refused = browsers.socket(ben_http)
    assert not refused.is_connected() and refused.refusal["data"]["code"] == "unauthorized"
    assert "/login" in ben_http.get("/exchanges").location  # the login session ended with the account


def test_pupil_who_chatted_is_removed_without_error_and_their_messages_keep_their_place(exchange, browsers):
    ben_http = browsers.http(exchange.ben)
    ben = browsers.socket(ben_http)
    sent = send(ben, exchange.channel.id, "Hallo aus Berlin")
    assert sent["ok"]
    ana = browsers.connect_as(exchange.ana)
    join(ana, exchange.channel.id)

    response = remove_from_class(browsers, exchange.partner_teacher, exchange.class_de, exchange.ben)
    assert response.status_code == 302  # not a 500 on the messages that point at the account

    assert not ben.is_connected()
    db.session.expire_all()
    account = db.session.get(User, exchange.ben.id)
    # Closed and without the pupil's name; the exchange's history keeps its order.
    assert account.status == AccountStatus.DISABLED and account.display_name == "—"
    assert "ben" not in account.username.lower() and account.username.startswith("removed-")
    open_sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == account.id, UserSession.ended_at.is_(None))
    )
    assert list(open_sessions) == []
    assert db.session.get(Message, sent["id"]).author_id == account.id
    assert browsers.socket(ben_http).refusal["data"]["code"] == "unauthorized"
    assert "/login" in ben_http.get("/exchanges").location
    login = post_form(browsers.http(), "/login", {"login": "pupil-ben", "password": PASSWORD})
    assert login.status_code != 302
    history = ana.emit("chat_history", {"channel_id": exchange.channel.id, "before_seq": 100}, callback=True)
    # Ana, a partner pupil, sees the closed account's username (it names no one).
    assert [m["author_name"] for m in history["messages"]] == [account.username]


def test_with_redis_the_sockets_of_every_live_process_are_found(redis_namespace):  # noqa: F811  (the fixture)
    """What disconnect_user ends across processes: the sids in the shared presence hash."""
    from app.realtime.presence import RedisPresence
    from tests.conftest import REDIS_URL

    here, there, dead = (RedisPresence(REDIS_URL, redis_namespace) for _ in range(3))
    here.add(7, "sid-here")
    there.add(7, "sid-there")
    dead.add(7, "sid-dead")
    dead._redis.delete(dead._process_key(dead.process_id))  # that process died: no heartbeat
    assert here.sids(7) == ["sid-here", "sid-there"]
    assert there.sids(8) == []
