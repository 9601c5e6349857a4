"""Read marks and unread counts: monotonic, others' messages only, removed ones not counted."""

from __future__ import annotations

from app.extensions import db
from app.modules.chat import queries
from app.modules.chat.models import ChannelRead
from tests.chat.conftest import join, send


def read(sock, channel_id, seq):
    return sock.emit("chat_read", {"channel_id": channel_id, "seq": seq}, callback=True)


def unread_of(user, exchange):
    return queries.unread_counts(user, queries.channels_for(exchange.project, user))


def test_unread_counts_others_messages_after_the_read_mark(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    sent = [send(ana, exchange.channel.id, body) for body in ["one", "two", "three"]]
    mine = send(ben, exchange.channel.id, "mine")
    assert unread_of(exchange.ben, exchange) == {exchange.channel.id: 3}
    assert unread_of(exchange.ana, exchange) == {exchange.channel.id: 1}

    ack = read(ben, exchange.channel.id, 2)
    assert ack["ok"] and ack["last_read_seq"] == 2
    assert unread_of(exchange.ben, exchange) == {exchange.channel.id: 1}
    assert join(ben, exchange.channel.id)["last_read_seq"] == 2

    assert db.session.get(ChannelRead, (exchange.channel.id, exchange.ben.id)).last_read_seq == 2

    # Removed messages are not counted.
    delete = {"channel_id": exchange.channel.id, "message_id": sent[2]["id"]}
    assert ana.emit("chat_delete", delete, callback=True)["ok"]
    assert ben.emit("chat_delete", {"channel_id": exchange.channel.id, "message_id": mine["id"]}, callback=True)["ok"]
    assert unread_of(exchange.ben, exchange) == {}
    assert unread_of(exchange.ana, exchange) == {}


def test_the_read_mark_never_goes_back_nor_past_the_end(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    for body in ["one", "two", "three"]:
        send(ana, exchange.channel.id, body)
    assert read(ben, exchange.channel.id, 3)["last_read_seq"] == 3
    assert read(ben, exchange.channel.id, 1)["last_read_seq"] == 3  # an old tab reporting late
    assert read(ben, exchange.channel.id, 999)["last_read_seq"] == 3  # no further than the channel goes
    send(ana, exchange.channel.id, "four")
    assert read(ben, exchange.channel.id, 999)["last_read_seq"] == 4
    for bad in [-1, "3", None, True, 2.5]:
        ack = read(ben, exchange.channel.id, bad)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_input", bad


def test_the_users_other_tabs_hear_of_the_new_read_mark(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    send(ana, exchange.channel.id, "one")
    http = browsers.http(exchange.ben)
    first_tab, second_tab = browsers.socket(http), browsers.socket(http)
    assert read(first_tab, exchange.channel.id, 1)["ok"]
    assert second_tab.events("chat_read") == [{"channel_id": exchange.channel.id, "last_read_seq": 1}]
    read(first_tab, exchange.channel.id, 1)  # unchanged: nothing to tell
    assert second_tab.events("chat_read") == []


def test_no_read_marks_in_channels_one_cannot_read(exchange, browsers):
    teacher = browsers.connect_as(exchange.teacher)
    send(teacher, exchange.teachers_channel.id, "between us")
    ack = read(browsers.connect_as(exchange.ana), exchange.teachers_channel.id, 1)
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    assert db.session.get(ChannelRead, (exchange.teachers_channel.id, exchange.ana.id)) is None


def test_chat_page_and_project_page_show_unread_counts(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    send(ana, exchange.channel.id, "one")
    send(ana, exchange.channel.id, "two")
    http = browsers.http(exchange.ben)
    chat = http.get(f"/exchanges/{exchange.project.id}/chat").get_data(as_text=True)
    assert f'data-unread-badge="{exchange.channel.id}">2<' in chat
    project_page = http.get(f"/exchanges/{exchange.project.id}").get_data(as_text=True)
    assert "data-chat-unread-total>2<" in project_page and "unread messages" in project_page

    read(browsers.socket(http), exchange.channel.id, 2)
    assert "data-chat-unread-total" not in http.get(f"/exchanges/{exchange.project.id}").get_data(as_text=True)
