"""Reactions: a fixed set of emoji, one of each per person and message, in the channel's seq order."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from app.extensions import db
from app.modules.chat import operations
from app.modules.chat.models import ChannelEvent, EventKind, Reaction
from app.modules.projects.models import ProjectMember, ProjectRole, ProjectStatus
from tests.chat.conftest import join, send


def react(sock, channel_id, message_id, emoji, on=None):
    payload = {"channel_id": channel_id, "message_id": message_id, "emoji": emoji}
    if on is not None:
        payload["on"] = on
    return sock.emit("chat_react", payload, callback=True)


def test_a_reaction_takes_a_seq_reaches_the_room_and_is_replayed(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id), join(ben, exchange.channel.id)
    message = send(ana, exchange.channel.id, "Bom dia!")
    ana.events("chat_event"), ben.events("chat_event")

    ack = react(ben, exchange.channel.id, message["id"], "👍")
    assert ack["ok"] and ack["seq"] == 2
    assert ack["reactions"] == [{"emoji": "👍", "user_ids": [exchange.ben.id]}]
    (event,) = ana.events("chat_event")
    assert event["kind"] == "reaction" and event["seq"] == 2
    assert event["message"]["reactions"] == [{"emoji": "👍", "user_ids": [exchange.ben.id]}]

    assert react(ana, exchange.channel.id, message["id"], "👍")["ok"]
    assert react(ana, exchange.channel.id, message["id"], "🎉")["ok"]
    row = db.session.scalar(select(ChannelEvent).where(ChannelEvent.seq == 4, ChannelEvent.kind == EventKind.REACTION))
    assert row.payload == {"emoji": "🎉", "on": True, "user_id": exchange.ana.id}

    # Someone who was away sees the reactions as they are now, in the emoji order of the set.
    replay = join(browsers.connect_as(exchange.teacher), exchange.channel.id, 1)
    assert [e["kind"] for e in replay["events"]] == ["reaction", "reaction", "reaction"]
    assert replay["events"][-1]["message"]["reactions"] == [
        {"emoji": "👍", "user_ids": [exchange.ben.id, exchange.ana.id]},
        {"emoji": "🎉", "user_ids": [exchange.ana.id]},
    ]
    fresh = join(browsers.connect_as(exchange.teacher), exchange.channel.id)
    assert fresh["messages"][0]["reactions"][0]["user_ids"] == [exchange.ben.id, exchange.ana.id]


def test_toggling_and_setting_a_reaction(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    message = send(ana, exchange.channel.id, "Olá")
    assert react(ana, exchange.channel.id, message["id"], "❤️")["reactions"][0]["emoji"] == "❤️"
    off = react(ana, exchange.channel.id, message["id"], "❤️")
    assert off["ok"] and off["reactions"] == [] and off["seq"] == 3
    # An explicit state is idempotent: a retry changes nothing and takes no seq.
    assert react(ana, exchange.channel.id, message["id"], "❤️", on=False)["seq"] is None
    assert react(ana, exchange.channel.id, message["id"], "❤️", on=True)["seq"] == 4
    assert react(ana, exchange.channel.id, message["id"], "❤️", on=True)["seq"] is None
    assert db.session.scalar(select(db.func.count()).select_from(Reaction)) == 1
    db.session.refresh(exchange.channel)
    assert exchange.channel.last_seq == 4


def test_only_the_offered_emoji_are_accepted(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    message = send(ana, exchange.channel.id, "Olá")
    for emoji in ["💩", "👍👍", "", None, 5, "<b>"]:
        ack = react(ana, exchange.channel.id, message["id"], emoji)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_reaction", emoji
    bad_on = react(ana, exchange.channel.id, message["id"], "👍", on="yes")
    assert bad_on["error"]["code"] == "invalid_input"
    db.session.refresh(exchange.channel)
    assert exchange.channel.last_seq == 1


def test_reactions_are_refused_where_writing_is(exchange, browsers, make):
    ana, teacher = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.teacher)
    message = send(ana, exchange.channel.id, "Olá")
    other_message = send(teacher, exchange.teachers_channel.id, "teachers only")

    assert react(ana, exchange.teachers_channel.id, other_message["id"], "👍")["error"]["code"] == "forbidden"
    visitor = make.user()
    db.session.add(ProjectMember(project_id=exchange.project.id, user_id=visitor.id, role=ProjectRole.VISITOR))
    db.session.flush()
    assert react(browsers.connect_as(visitor), exchange.channel.id, message["id"], "👍")["error"]["code"] == "forbidden"

    assert teacher.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": True}, callback=True)["ok"]
    assert react(ana, exchange.channel.id, message["id"], "👍")["error"]["code"] == "channel_locked"
    assert react(teacher, exchange.channel.id, message["id"], "👍")["ok"]  # teachers still may

    assert ana.emit("chat_delete", {"channel_id": exchange.channel.id, "message_id": message["id"]}, callback=True)
    exchange.project.status = ProjectStatus.CLOSED
    db.session.flush()
    assert react(teacher, exchange.teachers_channel.id, other_message["id"], "👍")["error"]["code"] == "project_closed"


def test_removed_messages_take_no_reactions_and_show_none(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    message = send(ana, exchange.channel.id, "oops")
    assert react(ben, exchange.channel.id, message["id"], "😂")["ok"]
    assert ana.emit("chat_delete", {"channel_id": exchange.channel.id, "message_id": message["id"]}, callback=True)[
        "ok"
    ]
    assert react(ben, exchange.channel.id, message["id"], "😮")["error"]["code"] == "message_removed"
    assert join(ben, exchange.channel.id)["messages"][0]["reactions"] == []


def _changed_by_another_tab_meanwhile(monkeypatch, change):
    """Runs `change` right after the request's first look at the reaction: as if the same change
    from another tab had committed between that look and this request's seq lock. One
    connection stands for two here, so it shows what the request does with a row its first
    look missed, not the locking between two real transactions."""
    reaction_of = operations._reaction_of
    looks = []

    def look_then_change(*args):
        found = reaction_of(*args)
        if not looks:
            change()
        looks.append(found)
        return found

    monkeypatch.setattr(operations, "_reaction_of", look_then_change)


def test_the_same_reaction_from_two_tabs_at_once_is_one_change(exchange, browsers, monkeypatch):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    join(ana, exchange.channel.id)
    message = send(ana, exchange.channel.id, "Bom dia!")
    ana.events("chat_event")
    row = {"message_id": message["id"], "user_id": exchange.ben.id, "emoji": "👍"}
    _changed_by_another_tab_meanwhile(monkeypatch, lambda: db.session.execute(insert(Reaction).values(**row)))

    ack = react(ben, exchange.channel.id, message["id"], "👍", on=True)
    assert ack["ok"] and ack["seq"] is None  # nothing changed here: the other tab's change stands
    assert ack["reactions"] == [{"emoji": "👍", "user_ids": [exchange.ben.id]}]
    assert ana.events("chat_event") == []
    monkeypatch.undo()
    # The seq taken for nothing was given back: the next change follows on without a gap.
    assert react(ben, exchange.channel.id, message["id"], "🎉")["seq"] == 2


def test_taking_off_a_reaction_another_tab_just_took_off_is_no_change(exchange, browsers, monkeypatch):
    ben = browsers.connect_as(exchange.ben)
    message = send(browsers.connect_as(exchange.ana), exchange.channel.id, "Olá")
    assert react(ben, exchange.channel.id, message["id"], "❤️")["seq"] == 2
    gone = delete(Reaction).where(Reaction.message_id == message["id"], Reaction.user_id == exchange.ben.id)
    _changed_by_another_tab_meanwhile(monkeypatch, lambda: db.session.execute(gone))

    ack = react(ben, exchange.channel.id, message["id"], "❤️", on=False)
    assert ack["ok"] and ack["seq"] is None and ack["reactions"] == []
