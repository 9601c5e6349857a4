"""Chat over sockets: delivery as the real-time contract promises, access, limits, moderation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import ClassMembership
from app.extensions import db
from app.modules.chat.models import BODY_LIMIT, Channel, ChannelEvent, Message
from app.modules.projects.models import ProjectStatus
from tests.chat.conftest import join, new_client_id, send
from tests.conftest import post_form


def test_same_client_id_twice_gives_one_message(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    client_id = new_client_id()
    first = send(ana, exchange.channel.id, "Olá!", client_id)
    again = send(ana, exchange.channel.id, "Olá!", client_id)
    assert first["ok"] and again["ok"]
    assert (again["id"], again["seq"]) == (first["id"], first["seq"])
    assert first["duplicate"] is False and again["duplicate"] is True
    count = db.session.scalar(select(db.func.count()).select_from(Message).where(Message.client_id == client_id))
    assert count == 1
    assert [e["seq"] for e in ana.events("chat_event") if e["kind"] == "message"] == []  # not joined: no events


def test_someone_elses_client_id_is_refused(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    client_id = new_client_id()
    assert send(ana, exchange.channel.id, "mine", client_id)["ok"]
    taken = send(ben, exchange.channel.id, "his", client_id)
    assert taken["ok"] is False and taken["error"]["code"] == "client_id_taken"


def test_live_delivery_to_everyone_in_the_channel(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    assert join(ana, exchange.channel.id)["ok"] and join(ben, exchange.channel.id)["ok"]
    ack = send(ana, exchange.channel.id, "**Hallo** Ben")
    assert ack["ok"] and ack["seq"] == 1
    (event,) = ben.events("chat_event")
    assert event["kind"] == "message" and event["seq"] == 1
    assert event["message"]["body_html"] == "<p><strong>Hallo</strong> Ben</p>"
    # The room hears the pupil's public name: her username (app/auth/names.py).
    assert event["message"]["author_name"] == exchange.ana.username and event["message"]["author_country"] == "PT"
    assert [e["seq"] for e in ana.events("chat_event")] == [1]  # the sender gets it too (matches its ack)


def test_messages_sent_while_away_arrive_after_rejoin_once_and_in_order(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    first = join(ben, exchange.channel.id)
    assert first["ok"] and first["messages"] == [] and first["channel"]["last_seq"] == 0
    join(ana, exchange.channel.id)
    send(ana, exchange.channel.id, "one")
    last_seen = max(e["seq"] for e in ben.events("chat_event"))
    ben.disconnect()

    for body in ["two", "three", "four"]:
        assert send(ana, exchange.channel.id, body)["ok"]

    ben = browsers.connect_as(exchange.ben)
    rejoin = join(ben, exchange.channel.id, last_seen)
    assert rejoin["ok"] and rejoin["has_more"] is False
    assert [e["seq"] for e in rejoin["events"]] == [2, 3, 4]
    assert [e["message"]["body_source"] for e in rejoin["events"]] == ["two", "three", "four"]
    assert ben.events("chat_event") == []  # nothing twice: the replay was in the ack only

    send(ana, exchange.channel.id, "five")  # and live again after the rejoin
    assert [e["seq"] for e in ben.events("chat_event")] == [5]


def test_replay_comes_in_pages_and_gaps_can_be_asked_for(exchange, browsers, monkeypatch):
    from app.modules.chat import queries

    monkeypatch.setattr(queries, "REPLAY_PAGE", 2)
    monkeypatch.setattr(queries.events_after, "__defaults__", (None, 2))
    ana = browsers.connect_as(exchange.ana)
    for n in range(5):
        send(ana, exchange.channel.id, f"m{n}")
    page = join(ana, exchange.channel.id, 0)
    assert [e["seq"] for e in page["events"]] == [1, 2] and page["has_more"] is True
    gap = ana.emit("chat_events", {"channel_id": exchange.channel.id, "after_seq": 2, "until_seq": 3}, callback=True)
    assert [e["seq"] for e in gap["events"]] == [3] and gap["has_more"] is False
    rest = ana.emit("chat_events", {"channel_id": exchange.channel.id, "after_seq": 3}, callback=True)
    assert [e["seq"] for e in rest["events"]] == [4, 5]


def test_seq_is_gap_free_under_interleaved_senders_and_edits(exchange, browsers):
    people = [browsers.connect_as(p) for p in (exchange.ana, exchange.ben, exchange.teacher, exchange.partner_teacher)]
    watcher = browsers.connect_as(exchange.ana)
    join(watcher, exchange.channel.id)
    acks = []
    for round_ in range(5):
        for n, sock in enumerate(people):
            acks.append(send(sock, exchange.channel.id, f"round {round_} from {n}"))
    edit = people[0].emit(
        "chat_edit", {"channel_id": exchange.channel.id, "message_id": acks[0]["id"], "body": "edited"}, callback=True
    )
    removal = people[1].emit(
        "chat_delete", {"channel_id": exchange.channel.id, "message_id": acks[1]["id"]}, callback=True
    )
    assert edit["ok"] and removal["ok"]
    assert sorted(a["seq"] for a in acks) == list(range(1, 21))
    seen = [e["seq"] for e in watcher.events("chat_event")]
    assert seen == list(range(1, 23))
    stored = db.session.scalars(
        select(ChannelEvent.seq).where(ChannelEvent.channel_id == exchange.channel.id).order_by(ChannelEvent.seq)
    )
    assert list(stored) == list(range(1, 23))
    db.session.expire_all()
    assert db.session.get(Channel, exchange.channel.id).next_seq == 23


def test_edit_and_delete_own_messages_only(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ben, exchange.channel.id)
    sent = send(ana, exchange.channel.id, "typo")
    target = {"channel_id": exchange.channel.id, "message_id": sent["id"]}
    assert ben.emit("chat_edit", {**target, "body": "hijack"}, callback=True)["error"]["code"] == "forbidden"
    assert ben.emit("chat_delete", target, callback=True)["error"]["code"] == "forbidden"
    edited = ana.emit("chat_edit", {**target, "body": "fixed"}, callback=True)
    assert edited["ok"] and edited["message"]["is_edited"] is True
    assert ana.emit("chat_delete", target, callback=True)["ok"]
    kinds = [(e["kind"], e["message"]["state"]) for e in ben.events("chat_event")]
    assert kinds == [("message", "visible"), ("edit", "visible"), ("delete", "deleted")]
    history = ben.emit("chat_history", {"channel_id": exchange.channel.id, "before_seq": 100}, callback=True)
    (tombstone,) = history["messages"]
    assert tombstone["state"] == "deleted" and tombstone["body_html"] is None and tombstone["body_source"] is None


def test_student_of_another_project_cannot_join_read_or_send(exchange, browsers, make):
    outsider = make.student(make.school_class())
    sock = browsers.connect_as(outsider)
    channel_id = exchange.channel.id
    assert join(sock, channel_id)["error"]["code"] == "forbidden"
    history = sock.emit("chat_history", {"channel_id": channel_id, "before_seq": 10}, callback=True)
    assert history["error"]["code"] == "forbidden"
    events = sock.emit("chat_events", {"channel_id": channel_id, "after_seq": 0}, callback=True)
    assert events["error"]["code"] == "forbidden"
    assert send(sock, channel_id, "let me in")["error"]["code"] == "forbidden"
    ana = browsers.connect_as(exchange.ana)
    send(ana, channel_id, "private to the exchange")
    assert sock.events("chat_event") == []
    assert join(sock, 999_999)["error"]["code"] == "not_found"


def test_students_cannot_use_the_teachers_channel(exchange, browsers):
    ana, teacher = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.partner_teacher)
    assert join(ana, exchange.teachers_channel.id)["error"]["code"] == "forbidden"
    assert send(ana, exchange.teachers_channel.id, "hi")["error"]["code"] == "forbidden"
    assert join(teacher, exchange.teachers_channel.id)["ok"]
    assert send(teacher, exchange.teachers_channel.id, "between us")["ok"]


def test_student_removed_from_class_loses_access_at_once_on_an_open_socket(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id)
    join(ben, exchange.channel.id)
    assert send(ben, exchange.channel.id, "still here")["ok"]

    membership = db.session.scalar(select(ClassMembership).where(ClassMembership.student_id == exchange.ben.id))
    db.session.delete(membership)
    db.session.flush()

    refused = send(ben, exchange.channel.id, "am I still here?")
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert ben.is_connected()  # refused, not thrown out of the live connection
    ben.get_received()
    send(ana, exchange.channel.id, "after Ben left")
    assert ben.events("chat_event") == []  # the socket left the channel's room
    assert join(ben, exchange.channel.id)["error"]["code"] == "forbidden"


def test_script_and_markup_are_stored_as_written_and_sent_inert(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ben, exchange.channel.id)
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) <a href="#" onclick="y">'
    ack = send(ana, exchange.channel.id, payload)
    assert ack["ok"]
    stored = db.session.get(Message, ack["id"])
    assert stored.body_source == payload
    (event,) = ben.events("chat_event")
    html = event["message"]["body_html"]
    # Shown as text: the only real tag is the paragraph around it.
    assert re.findall(r"<(/?\w+)", html) == ["p", "/p"]
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html


def test_size_limit_answers_clearly_and_keeps_everyone_connected(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ben, exchange.channel.id)
    too_long = send(ana, exchange.channel.id, "x" * (BODY_LIMIT + 1))
    assert too_long["ok"] is False and too_long["error"]["code"] == "message_too_long"
    assert str(BODY_LIMIT) in too_long["error"]["message"]
    too_large = send(ana, exchange.channel.id, "x" * 20_000)
    assert too_large["ok"] is False and too_large["error"]["code"] == "payload_too_large"
    empty = send(ana, exchange.channel.id, "   ")
    assert empty["error"]["code"] == "invalid_input"
    bad_id = send(ana, exchange.channel.id, "hi", client_id="not-a-uuid")
    assert bad_id["error"]["code"] == "invalid_input"
    assert ana.is_connected() and ben.is_connected()
    assert ben.events("chat_event") == []
    assert send(ana, exchange.channel.id, "x" * BODY_LIMIT)["ok"]
    assert len(ben.events("chat_event")) == 1


def test_rate_limit_answers_clearly_and_others_keep_chatting(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id)
    answers = [send(ben, exchange.channel.id, f"spam {n}") for n in range(40)]
    limited = [a for a in answers if not a["ok"]]
    assert limited and all(a["error"]["code"] == "rate_limited" for a in limited)
    assert ana.is_connected() and ben.is_connected()
    ana.get_received()
    assert send(ana, exchange.channel.id, "I can still talk")["ok"]
    assert [e["message"]["body_source"] for e in ana.events("chat_event")] == ["I can still talk"]


def test_teacher_hides_a_message_everyone_sees_the_tombstone(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    teacher = browsers.connect_as(exchange.partner_teacher)
    for sock in (ana, ben, teacher):
        join(sock, exchange.channel.id)
    sent = send(ana, exchange.channel.id, "something unkind")
    target = {"channel_id": exchange.channel.id, "message_id": sent["id"]}
    assert ben.emit("chat_hide", target, callback=True)["error"]["code"] == "forbidden"
    ben.get_received()
    assert teacher.emit("chat_hide", target, callback=True)["ok"]
    (event,) = ben.events("chat_event")
    assert event["kind"] == "hide" and event["message"]["state"] == "hidden"
    assert event["message"]["body_html"] is None and event["message"]["body_source"] is None
    # A client that was away gets the tombstone on replay, never the hidden text.
    replay = join(browsers.connect_as(exchange.ben), exchange.channel.id, 0)
    assert [(e["kind"], e["message"]["state"]) for e in replay["events"]] == [("message", "hidden"), ("hide", "hidden")]
    assert "unkind" not in str(replay)
    stored = db.session.get(Message, sent["id"])
    assert stored.hidden_by_id == exchange.partner_teacher.id and stored.body_source == "something unkind"


def test_locked_channel_refuses_students_but_not_teachers(exchange, browsers):
    ana, teacher = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.teacher)
    join(ana, exchange.channel.id)
    assert ana.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": True}, callback=True)["ok"] is False
    assert teacher.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": True}, callback=True)["is_locked"]
    assert [(e["kind"], e["is_locked"]) for e in ana.events("chat_event")] == [("lock", True)]
    refused = send(ana, exchange.channel.id, "hello?")
    assert refused["ok"] is False and refused["error"]["code"] == "channel_locked"
    assert "locked" in refused["error"]["message"]
    assert send(teacher, exchange.channel.id, "Quiet for a moment, please.")["ok"]
    assert join(ana, exchange.channel.id)["channel"]["is_locked"] is True  # reading still works
    teacher.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": False}, callback=True)
    assert send(ana, exchange.channel.id, "thanks")["ok"]


def test_closed_exchange_is_read_only(exchange, browsers):
    ana, teacher = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.teacher)
    sent = send(ana, exchange.channel.id, "before closing")
    exchange.project.status = ProjectStatus.CLOSED
    db.session.flush()
    assert send(ana, exchange.channel.id, "after")["error"]["code"] == "project_closed"
    assert send(teacher, exchange.channel.id, "after")["error"]["code"] == "project_closed"
    target = {"channel_id": exchange.channel.id, "message_id": sent["id"]}
    assert ana.emit("chat_edit", {**target, "body": "changed"}, callback=True)["error"]["code"] == "project_closed"
    assert [m["body_source"] for m in join(ana, exchange.channel.id)["messages"]] == ["before closing"]


def test_quote_reply_shows_what_it_answers(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    first = send(ana, exchange.channel.id, "Which dish do you cook next week?")
    reply = send(ben, exchange.channel.id, "Feijoada!", reply_to=first["id"])
    assert reply["message"]["reply_to"] == {
        "id": first["id"],
        "author_id": exchange.ana.id,
        "author_name": exchange.ana.username,
        "excerpt": "Which dish do you cook next week?",
    }
    other = send(ben, exchange.teachers_channel.id, "x", reply_to=first["id"])
    assert other["ok"] is False


def test_history_scrolls_back_in_pages(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    for n in range(60):
        send(ana, exchange.channel.id, f"m{n}")
        if n % 15 == 14:  # stay under the rate limit
            exchange_buckets = browsers.app.extensions["crossclass_realtime"].buckets
            exchange_buckets.__init__(exchange_buckets.rate, exchange_buckets.burst)
    newest = join(ana, exchange.channel.id)
    assert [m["seq"] for m in newest["messages"]] == list(range(11, 61)) and newest["has_older"] is True
    older = ana.emit("chat_history", {"channel_id": exchange.channel.id, "before_seq": 11}, callback=True)
    assert [m["seq"] for m in older["messages"]] == list(range(1, 11)) and older["has_older"] is False


def test_visitors_read_but_do_not_write(exchange, browsers, make):
    coordinator = make.coordinator(school=exchange.teacher.school)
    sock = browsers.connect_as(coordinator)
    assert join(sock, exchange.channel.id)["ok"]
    assert send(sock, exchange.channel.id, "hello")["error"]["code"] == "forbidden"
    assert join(sock, exchange.teachers_channel.id)["error"]["code"] == "forbidden"


def test_team_channel_admits_its_team_and_the_teachers(exchange, browsers, make):
    from app.modules.chat.models import ChannelKind
    from app.modules.projects.models import Team, TeamMembership

    team = Team(project_id=exchange.project.id, name="Team 1")
    db.session.add(team)
    db.session.flush()
    db.session.add(TeamMembership(project_id=exchange.project.id, team_id=team.id, student_id=exchange.ana.id))
    channel = Channel(
        project_id=exchange.project.id, kind=ChannelKind.TEAM, team_id=team.id, slug=f"team:{team.id}", name="T"
    )
    db.session.add(channel)
    db.session.flush()
    assert send(browsers.connect_as(exchange.ana), channel.id, "team talk")["ok"]
    assert join(browsers.connect_as(exchange.ben), channel.id)["error"]["code"] == "forbidden"
    assert join(browsers.connect_as(exchange.partner_teacher), channel.id)["ok"]


@pytest.mark.parametrize("huge", [2**31, 10**20], ids=["past-int32", "past-int64"])
def test_ids_and_seqs_past_the_databases_integers_are_refused_as_such(exchange, browsers, huge):
    # 2**31 passes SQLite but not PostgreSQL's 32-bit Integer columns; 10**20 passes neither.
    ana = browsers.connect_as(exchange.ana)
    channel = exchange.channel.id
    answers = {
        "join": ana.emit("chat_join", {"channel_id": huge}, callback=True),
        "history": ana.emit("chat_history", {"channel_id": channel, "before_seq": huge}, callback=True),
        "events": ana.emit("chat_events", {"channel_id": channel, "after_seq": huge}, callback=True),
        "edit": ana.emit("chat_edit", {"channel_id": channel, "message_id": huge, "body": "x"}, callback=True),
        "reply": send(ana, channel, "x", reply_to=huge),
        "mute": browsers.connect_as(exchange.teacher).emit(
            "chat_mute", {"channel_id": channel, "user_id": huge, "minutes": 15}, callback=True
        ),
    }
    codes = {name: answer["error"]["code"] for name, answer in answers.items()}
    assert codes == {
        "join": "not_found",
        "history": "invalid_input",
        "events": "invalid_input",
        "edit": "not_found",
        "reply": "not_found",
        "mute": "not_found",
    }
    assert ana.is_connected()


def test_pages_with_ids_past_the_databases_integers_are_not_found(exchange, browsers):
    http = browsers.http(exchange.ana)
    huge = 10**20
    project = exchange.project.id
    assert http.get(f"/exchanges/{huge}").status_code == 404
    assert http.get(f"/exchanges/{project}/chat/{huge}").status_code == 404
    chat = f"/exchanges/{project}/chat"
    assert post_form(http, f"{chat}/direct", {"user_id": str(huge)}, page=chat).status_code == 400
