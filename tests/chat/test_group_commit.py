"""Group commit: several sends to one channel written in one transaction (chat/group_commit.py).

In-process socket tests run one event at a time, so batches are built here directly through
operations.write_messages and the line of waiting sends; tests/chat/test_scale_out.py sends
real bursts to two server processes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import AppError
from app.extensions import db
from app.modules.chat import group_commit, operations
from app.modules.chat.models import Channel, ChannelEvent, Message
from app.modules.chat.queries import channel_for_user
from tests.chat.conftest import join, new_client_id, send


def outgoing(user, channel, body: str, client_id: str | None = None) -> operations.OutgoingMessage:
    prepared = operations.prepare_message(user, channel_for_user(channel.id, user), client_id or new_client_id(), body)
    assert isinstance(prepared, operations.OutgoingMessage)
    return prepared


def saved(user, channel, body: str, client_id: str) -> operations.SentMessage:
    """A message written and committed on its own, before the batch under test."""
    (result,) = operations.write_messages([outgoing(user, channel, body, client_id)])
    db.session.commit()
    return result


def stored_seqs(channel) -> list[int]:
    return list(db.session.scalars(select(Message.seq).where(Message.channel_id == channel.id).order_by(Message.seq)))


def next_seq(channel) -> int:
    return db.session.scalar(select(Channel.next_seq).where(Channel.id == channel.id))


def received(sock, name: str) -> list:
    return [item["args"][0] for item in sock.get_received() if item["name"] == name]


def test_a_batch_takes_consecutive_seqs_and_reaches_readers_as_one_event_after_the_commit(exchange, browsers):
    ana, ben = exchange.ana, exchange.ben
    reader = browsers.connect_as(ben)
    assert join(reader, exchange.channel.id)["ok"]
    reader.get_received()
    start = next_seq(exchange.channel)
    batch = [outgoing(ana, exchange.channel, "one"), outgoing(ben, exchange.channel, "**two**")]
    batch.append(outgoing(ana, exchange.channel, "three"))

    results = operations.write_messages(batch)

    assert [(r.seq, r.duplicate, r.view["body_source"]) for r in results] == [
        (start, False, "one"),
        (start + 1, False, "**two**"),
        (start + 2, False, "three"),
    ]
    assert received(reader, "chat_event_batch") == [] and received(reader, "chat_event") == []  # not before the commit
    db.session.commit()
    (live,) = received(reader, "chat_event_batch")
    assert live["channel_id"] == exchange.channel.id
    assert [(e["seq"], e["kind"], e["message"]["id"]) for e in live["events"]] == [
        (r.seq, "message", r.id) for r in results
    ]
    assert live["events"][1]["message"]["body_html"] == "<p><strong>two</strong></p>"
    assert next_seq(exchange.channel) == start + 3
    events = db.session.scalars(select(ChannelEvent.seq).where(ChannelEvent.channel_id == exchange.channel.id))
    assert sorted(events)[-3:] == [start, start + 1, start + 2]


def test_a_retry_in_the_same_batch_or_a_later_one_is_answered_with_the_first_and_leaves_no_gap(exchange):
    ana, channel = exchange.ana, exchange.channel
    start = next_seq(channel)
    client_id = new_client_id()
    first, again, other = operations.write_messages(
        [
            outgoing(ana, channel, "hello", client_id),
            outgoing(ana, channel, "hello", client_id),
            outgoing(ana, channel, "after it"),
        ]
    )
    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    assert (again.id, again.seq) == (first.id, first.seq) == (first.id, start)
    assert other.seq == start + 1
    db.session.commit()

    # A later batch: the retry again, between two new messages.
    before, retry, after = operations.write_messages(
        [outgoing(ana, channel, "next"), outgoing(ana, channel, "hello", client_id), outgoing(ana, channel, "last")]
    )
    db.session.commit()
    assert (retry.id, retry.seq, retry.duplicate) == (first.id, start, True)
    assert (before.seq, after.seq) == (start + 2, start + 3)
    assert stored_seqs(channel)[-4:] == [start, start + 1, start + 2, start + 3]
    assert next_seq(channel) == start + 4, "the seq taken for the retry went back"


def test_someone_elses_client_id_fails_alone(exchange):
    channel = exchange.channel
    taken = new_client_id()
    bens = saved(exchange.ben, channel, "mine", taken)
    start = next_seq(channel)

    stolen, fine = operations.write_messages(
        [outgoing(exchange.ana, channel, "not mine", taken), outgoing(exchange.ana, channel, "fine")]
    )
    db.session.commit()
    assert isinstance(stolen, AppError) and stolen.code == "client_id_taken"
    assert (fine.seq, fine.duplicate) == (start, False)
    assert db.session.get(Message, bens.id).body_source == "mine"
    assert next_seq(channel) == start + 1


def test_a_lock_set_after_the_checks_refuses_the_pupils_of_the_batch_but_not_the_teacher(exchange):
    channel = exchange.channel
    saved_id = new_client_id()
    before_the_lock = saved(exchange.ana, channel, "before the lock", saved_id)
    start = next_seq(channel)
    batch = [
        outgoing(exchange.ana, channel, "too late"),
        outgoing(exchange.teacher, channel, "Please stop for now."),
        outgoing(exchange.ana, channel, "before the lock", saved_id),  # a retry of a saved one
    ]
    db.session.get(Channel, channel.id).is_locked = True  # a teacher locked it meanwhile
    db.session.flush()

    refused, teachers, retry = operations.write_messages(batch)
    db.session.commit()

    assert isinstance(refused, AppError) and refused.code == "channel_locked"
    assert (teachers.seq, teachers.duplicate) == (start, False)
    assert (retry.id, retry.duplicate) == (before_the_lock.id, True)
    assert stored_seqs(channel)[-2:] == [before_the_lock.seq, start] and next_seq(channel) == start + 1


def _waiting_line(app, channel_id: int, messages) -> tuple[group_commit.SendLines, list]:
    """Sends queued for a channel as concurrent socket events would queue them."""
    lines = group_commit._lines()
    waiting = [group_commit._Waiting(message) for message in messages]
    waiting[0].leads = True
    lines.by_channel[channel_id] = group_commit.deque(waiting)
    return lines, waiting


def test_the_line_hands_the_lead_on_when_more_wait_than_one_batch_takes(app, exchange):
    app.config["CHAT_SEND_BATCH_LIMIT"] = 2
    try:
        messages = [outgoing(exchange.ana, exchange.channel, f"queued {n}") for n in range(3)]
        start = next_seq(exchange.channel)
        lines, waiting = _waiting_line(app, exchange.channel.id, messages)

        group_commit._lead(lines, exchange.channel.id)
        assert [w.result.seq for w in waiting[:2]] == [start, start + 1]
        assert all(w.woken.is_set() for w in waiting[:2])
        assert waiting[2].result is None and waiting[2].leads and waiting[2].woken.is_set()

        group_commit._lead(lines, exchange.channel.id)  # what the woken third send does
        assert waiting[2].result.seq == start + 2
        assert exchange.channel.id not in lines.by_channel, "an empty line is gone"
    finally:
        app.config["CHAT_SEND_BATCH_LIMIT"] = 64


def test_a_batch_that_fails_tells_every_sender_that_nothing_was_saved(app, exchange):
    messages = [outgoing(exchange.ana, exchange.channel, f"doomed {n}") for n in range(3)]
    db.session.commit()  # the exchange itself, as in production: the failed batch rolls back only itself
    before = stored_seqs(exchange.channel)
    # The channel goes away under the batch (its project erased): the seq UPDATE finds no row.
    doomed = [operations.OutgoingMessage(**{**vars(m), "channel_id": 2**31 - 1}) for m in messages]
    lines, waiting = _waiting_line(app, 2**31 - 1, doomed)

    group_commit._lead(lines, 2**31 - 1)

    for each in waiting:
        assert isinstance(each.result, group_commit.BatchFailed) and each.woken.is_set()
        assert each.result.code == "server_error" and "Nothing was saved" in each.result.message
    assert 2**31 - 1 not in lines.by_channel
    assert stored_seqs(exchange.channel) == before


def test_a_send_alone_is_written_at_once_through_the_line(exchange, browsers):
    """chat_send goes through group_commit.send: a lone send leads its own batch of one."""
    ana = browsers.connect_as(exchange.ana)
    assert join(ana, exchange.channel.id)["ok"]
    ana.get_received()
    ack = send(ana, exchange.channel.id, "alone")
    assert ack["ok"] and ack["duplicate"] is False
    (event,) = received(ana, "chat_event")
    assert event["seq"] == ack["seq"] and received(ana, "chat_event_batch") == []
    assert group_commit._lines().by_channel == {}


@pytest.mark.parametrize("limit", ["0", "1001", "many"])
def test_the_batch_limit_setting_is_checked_at_start(limit, tmp_path):
    from config import ConfigError, load_config

    with pytest.raises(ConfigError, match="CHAT_SEND_BATCH_LIMIT"):
        load_config({"CHAT_SEND_BATCH_LIMIT": limit, "SECRET_KEY": "x" * 40}, instance_dir=tmp_path)
