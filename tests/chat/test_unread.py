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
    badge = f'data-unread-badge="{exchange.channel.id}" data-count="2" data-read-seq="0"><span data-unread-count>2<'
    assert badge in chat
    project_page = http.get(f"/exchanges/{exchange.project.id}").get_data(as_text=True)
    assert "data-chat-unread-total>2<" in project_page and "unread messages" in project_page

    read(browsers.socket(http), exchange.channel.id, 2)
    assert "data-chat-unread-total" not in http.get(f"/exchanges/{exchange.project.id}").get_data(as_text=True)


def watch(sock, channel_ids) -> dict:
    return sock.emit("chat_watch", {"channel_ids": channel_ids}, callback=True)


def notices(sock) -> list[dict]:
    return [item["args"][0] for item in sock.get_received() if item["name"] == "chat_notice"]


def test_a_page_on_another_channel_hears_of_new_messages_for_its_unread_count(exchange, browsers):
    """chat_watch: a page open on one channel gets a chat_notice (not the message) for each
    new message in the others it lists, with who wrote it."""
    from tests.chat.test_team_channels import form_teams

    channels = form_teams(exchange, [exchange.ana], [exchange.ben])
    anas_team, bens_team = (channels[team.id] for team in exchange.project.teams)
    ana, teacher = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.teacher)
    ack = watch(ana, [exchange.channel.id, anas_team.id, bens_team.id, exchange.teachers_channel.id, 2**31 - 1])
    assert ack["ok"] and ack["watching"] == [exchange.channel.id, anas_team.id]  # not Ben's team's, nor the teachers'
    assert watch(teacher, [exchange.channel.id, bens_team.id])["watching"] == [exchange.channel.id, bens_team.id]

    sent = send(browsers.connect_as(exchange.ben), bens_team.id, "team talk")
    assert sent["ok"]
    assert notices(ana) == []  # nothing of a channel Ana may not read
    assert notices(teacher) == [{"channel_id": bens_team.id, "seq": sent["seq"], "author_ids": [exchange.ben.id]}]
    send(ana, exchange.channel.id, "hello all")
    (notice,) = notices(teacher)
    assert notice["channel_id"] == exchange.channel.id and notice["author_ids"] == [exchange.ana.id]
    assert all(item["name"] != "chat_event" for item in teacher.get_received())  # a notice, not the message


def removal_notices(sock) -> list[dict]:
    return [item["args"][0] for item in sock.get_received() if item["name"] == "chat_notice_removed"]


def test_a_watching_page_hears_when_a_message_is_deleted_or_hidden_once(exchange, browsers):
    """The page takes the message off its count (if it counted it): one notice per message
    that leaves view, not one for hiding a message already deleted."""
    ana, ben, teacher = (browsers.connect_as(user) for user in (exchange.ana, exchange.ben, exchange.teacher))
    assert watch(ben, [exchange.channel.id])["ok"]
    first, second = (send(ana, exchange.channel.id, body) for body in ("oops", "rude"))
    ben.get_received()

    assert ana.emit("chat_delete", {"channel_id": exchange.channel.id, "message_id": first["id"]}, callback=True)["ok"]
    assert removal_notices(ben) == [
        {"channel_id": exchange.channel.id, "seq": first["seq"], "author_id": exchange.ana.id}
    ]
    hide = {"channel_id": exchange.channel.id, "message_id": second["id"]}
    assert teacher.emit("chat_hide", hide, callback=True)["ok"]
    assert removal_notices(ben) == [
        {"channel_id": exchange.channel.id, "seq": second["seq"], "author_id": exchange.ana.id}
    ]
    assert teacher.emit("chat_hide", {"channel_id": exchange.channel.id, "message_id": first["id"]}, callback=True)[
        "ok"
    ]
    assert removal_notices(ben) == []  # deleted before: not counted twice
    assert queries.unread_counts(exchange.ben, [exchange.channel]) == {}


def test_chat_watch_refuses_what_it_does_not_understand(exchange, browsers):
    from app.modules.chat.sockets import WATCH_LIMIT

    ana = browsers.connect_as(exchange.ana)
    for bad in [None, "1", [1, "2"], [True], [-1], [2**31], list(range(1, WATCH_LIMIT + 2))]:
        ack = watch(ana, bad)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_input", bad
    assert watch(ana, [exchange.channel.id] * 3)["watching"] == [exchange.channel.id]


def test_a_teacher_does_not_watch_the_pupils_direct_channels(exchange, browsers):
    """Teachers may read them for safeguarding, but they are not theirs: never unread for them."""
    from app.modules.chat.operations import open_direct_channel
    from tests.chat.test_team_channels import form_teams

    form_teams(exchange, [exchange.ana, exchange.ben])
    exchange.project.teams[0].allow_direct_messages = True
    direct = open_direct_channel(exchange.ana, exchange.project, exchange.ben.id)
    db.session.flush()
    assert watch(browsers.connect_as(exchange.teacher), [direct.id])["watching"] == []
    assert watch(browsers.connect_as(exchange.ben), [direct.id])["watching"] == [direct.id]


def test_watching_more_channels_costs_no_more_queries(exchange, make, browsers):
    """One look at the exchange's channels, not an access check per listed channel."""
    from tests.chat.test_send_cost import recorded_statements
    from tests.chat.test_team_channels import form_teams

    carla, dora = make.student(exchange.class_pt), make.student(exchange.class_de)
    channels = form_teams(exchange, [exchange.ana, exchange.ben], [carla], [dora])
    teacher = browsers.connect_as(exchange.teacher)
    watch(teacher, [exchange.channel.id])  # warm-up: the socket's first event loads more
    counts = []
    for listed in ([exchange.channel.id], [exchange.channel.id, *(c.id for c in channels.values())]):
        with recorded_statements() as statements:
            assert watch(teacher, listed)["watching"] == listed
        counts.append(len(statements))
    assert counts[1] == counts[0], counts
