"""Typing notices (not stored, throttled) and who of a channel's readers is online."""

from __future__ import annotations

from app.modules.chat import sockets as chat_sockets
from app.modules.projects.models import ProjectMember, ProjectRole
from tests.chat.conftest import join


def typing(sock, channel_id):
    return sock.emit("chat_typing", {"channel_id": channel_id}, callback=True)


def test_typing_reaches_the_others_in_the_channel_but_not_the_typist(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id), join(ben, exchange.channel.id)
    ack = typing(ana, exchange.channel.id)
    assert ack == {"ok": True, "relayed": True}
    assert ben.events("chat_typing") == [
        {"channel_id": exchange.channel.id, "user_id": exchange.ana.id, "name": exchange.ana.username}
    ]
    assert ana.events("chat_typing") == []


def test_typing_is_throttled_per_socket(exchange, browsers, monkeypatch):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ben, exchange.channel.id)
    assert typing(ana, exchange.channel.id)["relayed"] is True
    assert typing(ana, exchange.channel.id)["relayed"] is False  # within TYPING_INTERVAL_SECONDS
    assert len(ben.events("chat_typing")) == 1
    monkeypatch.setattr(chat_sockets, "TYPING_INTERVAL_SECONDS", 0)
    assert typing(ana, exchange.channel.id)["relayed"] is True


def test_readers_who_cannot_write_cannot_type(exchange, browsers, make):
    assert typing(browsers.connect_as(exchange.ana), exchange.teachers_channel.id)["error"]["code"] == "forbidden"
    visitor = make.user()
    from app.extensions import db

    db.session.add(ProjectMember(project_id=exchange.project.id, user_id=visitor.id, role=ProjectRole.VISITOR))
    db.session.flush()
    assert typing(browsers.connect_as(visitor), exchange.channel.id)["error"]["code"] == "forbidden"
    teacher = browsers.connect_as(exchange.teacher)
    teacher.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": True}, callback=True)
    assert typing(browsers.connect_as(exchange.ben), exchange.channel.id)["error"]["code"] == "forbidden"


def test_presence_lists_the_channels_readers_who_are_online(exchange, browsers, make):
    outsider = make.student(make.school_class(), display_name="Zoe")
    browsers.connect_as(outsider)  # online, but not a reader of this exchange
    ana = browsers.connect_as(exchange.ana)
    ack = ana.emit("chat_presence", {"channel_id": exchange.channel.id}, callback=True)
    assert ack["ok"] and ack["online"] == [{"user_id": exchange.ana.id, "name": "Ana"}]

    ben = browsers.connect_as(exchange.ben)
    teacher = browsers.connect_as(exchange.teacher)
    names = [p["name"] for p in ana.emit("chat_presence", {"channel_id": exchange.channel.id}, callback=True)["online"]]
    # Ana's own answer: her own name, the partner pupil's username, the teacher's name.
    assert names == sorted(["Ana", exchange.ben.username, exchange.teacher.display_name], key=str.casefold)
    # The teachers' channel: its readers are the teachers only.
    only_teachers = teacher.emit("chat_presence", {"channel_id": exchange.teachers_channel.id}, callback=True)
    assert [p["user_id"] for p in only_teachers["online"]] == [exchange.teacher.id]

    ben.disconnect()
    online = ana.emit("chat_presence", {"channel_id": exchange.channel.id}, callback=True)["online"]
    assert exchange.ben.id not in [p["user_id"] for p in online]
    refused = ana.emit("chat_presence", {"channel_id": exchange.teachers_channel.id}, callback=True)
    assert refused["error"]["code"] == "forbidden"


def test_joining_announces_the_newcomer_to_the_room(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id)
    join(ben, exchange.channel.id)
    assert ana.events("chat_online") == [
        {"channel_id": exchange.channel.id, "user_id": exchange.ben.id, "name": exchange.ben.username}
    ]
    assert ben.events("chat_online") == []


def test_leaving_for_good_is_announced_to_the_channels_the_socket_was_in(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id), join(ben, exchange.channel.id)
    ana.get_received()
    ben.disconnect()
    assert ana.events("chat_offline") == [{"channel_id": exchange.channel.id, "user_id": exchange.ben.id}]


def test_closing_one_of_two_sockets_announces_nothing(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    other_tab = browsers.socket(browsers.http(exchange.ben))
    join(ana, exchange.channel.id), join(ben, exchange.channel.id)
    ana.get_received()
    ben.disconnect()
    assert ana.events("chat_offline") == []
    other_tab.disconnect()  # not in the room, but the last socket: Ben is now offline
    assert ana.events("chat_offline") == []


def test_a_failing_announcement_does_not_break_the_disconnect(exchange, browsers, monkeypatch, caplog):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id), join(ben, exchange.channel.id)

    class BrokenQueue:
        def emit(self, *args, **kwargs):
            raise ConnectionError("message queue down")

    monkeypatch.setattr(chat_sockets, "socketio", BrokenQueue())
    ben.disconnect()
    assert "chat_offline to chat:channel:" in caplog.text
    monkeypatch.undo()
    online = ana.emit("chat_presence", {"channel_id": exchange.channel.id}, callback=True)["online"]
    assert [p["user_id"] for p in online] == [exchange.ana.id]
