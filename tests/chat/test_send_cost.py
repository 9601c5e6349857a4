"""What one chat_send costs the database: an upper bound on its SQL statements.

The send path is the hot path of chat (every message of a busy channel goes through it), and
a lazy load or an extra check slipped in later would slow every send without failing any
other test.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from app.extensions import db
from tests.chat.conftest import join, new_client_id, send

# The session with its user, the access check with the mute check (one query), the seq, the
# message and its event, and the savepoint around those three; here also the savepoint that
# stands for the test's transaction (SAVEPOINT ... RELEASE). It was 21 before the send path
# was trimmed: the access check took 8 queries, and the views loaded reactions and schools.
# (A socket's later sends keep their session and access checks: test_kept_checks.py.)
SEND_STATEMENT_LIMIT = 9


@contextlib.contextmanager
def recorded_statements():
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_pupils_send_stays_within_its_statement_budget(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    assert join(ana, exchange.channel.id)["ok"]
    assert send(ana, exchange.channel.id, "warm-up")["ok"]
    with recorded_statements() as statements:
        ack = send(ana, exchange.channel.id, "**Olá** a todos", new_client_id())
    assert ack["ok"] and ack["duplicate"] is False
    assert len(statements) <= SEND_STATEMENT_LIMIT, "\n".join(statements)


def test_the_one_query_access_check_agrees_with_channel_role(exchange, make):
    """channel_for_user decides in one query what channel_role decides on the loaded project."""
    from app.auth.models import ClassMembership
    from app.core.errors import NotFound, PermissionDenied
    from app.modules.chat import operations, queries
    from app.modules.chat.models import Channel
    from app.modules.projects.models import ProjectMember, ProjectRole
    from app.modules.projects.operations import create_project
    from tests.chat.test_team_channels import form_teams

    project = exchange.project
    carla = make.student(exchange.class_pt, display_name="Carla")
    dora = make.student(exchange.class_de, display_name="Dora")
    left = make.student(exchange.class_pt, display_name="Left")
    elsewhere = make.student(make.school_class(), display_name="Elsewhere")
    teams = form_teams(exchange, [exchange.ana, exchange.ben, left], [carla, dora])
    team_one = project.teams[0]
    team_one.allow_direct_messages = True
    db.session.flush()
    direct = operations.open_direct_channel(exchange.ana, project, exchange.ben.id)
    db.session.execute(db.delete(ClassMembership).where(ClassMembership.student_id == left.id))
    # People of another exchange: their classes must not count in this one.
    other_exchange_teacher = make.teacher()
    other_exchange_coordinator = make.coordinator()
    create_project(
        other_exchange_teacher.id,
        [make.school_class(other_exchange_teacher), make.school_class(make.teacher(other_exchange_coordinator.school))],
    )
    members = {}
    for role in (ProjectRole.TEACHER, ProjectRole.GUEST_MENTOR, ProjectRole.VISITOR):
        members[role] = make.teacher()
        db.session.add(ProjectMember(project_id=project.id, user_id=members[role].id, role=role))
    people = [
        exchange.teacher,
        exchange.partner_teacher,
        exchange.ana,
        exchange.ben,
        carla,
        dora,
        left,
        elsewhere,
        *members.values(),
        make.coordinator(exchange.class_pt.school),
        make.coordinator(),
        make.admin(),
        make.teacher(),
        other_exchange_teacher,
        other_exchange_coordinator,
    ]
    db.session.flush()
    channels = list(db.session.scalars(db.select(Channel).where(Channel.project_id == project.id)))
    assert {c.id for c in channels} >= {exchange.channel.id, exchange.teachers_channel.id, direct.id}
    assert len(teams) == 2
    seen = set()
    for person in people:
        for channel in channels:
            expected = queries.channel_role(channel, project, person)
            try:
                access = queries.channel_for_user(channel.id, person)
                got = (access.role, access.may_post)
            except PermissionDenied:
                got = None
            wanted = None if expected is None else (expected, queries._may_post(channel, expected))
            assert got == wanted, (person.display_name, channel.slug)
            seen.add(got is not None)
    assert seen == {True, False}
    for nonsense in (None, True, "1", 0, -3, 10**6):
        try:
            queries.channel_for_user(nonsense, exchange.ana)
        except NotFound:
            continue
        raise AssertionError(f"channel {nonsense!r} was found")


def test_a_retry_after_the_channel_was_locked_still_gets_its_message_back(exchange, browsers):
    """No lookup before the insert: a refusal looks for the client_id, so a saved message is
    answered as a duplicate (its ack was lost), not refused."""
    from app.modules.chat.models import Channel

    ana = browsers.connect_as(exchange.ana)
    client_id = new_client_id()
    first = send(ana, exchange.channel.id, "before the lock", client_id)
    assert first["ok"]
    db.session.get(Channel, exchange.channel.id).is_locked = True
    db.session.flush()
    again = send(ana, exchange.channel.id, "before the lock", client_id)
    assert again["ok"] and again["duplicate"] is True and (again["id"], again["seq"]) == (first["id"], first["seq"])
    assert again["message"] == first["message"]
    refused = send(ana, exchange.channel.id, "after the lock")
    assert refused["ok"] is False and refused["error"]["code"] == "channel_locked"


def test_a_reply_costs_one_statement_more_and_none_under_the_channels_lock(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    original = send(ben, exchange.channel.id, "Who cooks on Friday?")
    assert send(ana, exchange.channel.id, "warm-up")["ok"]
    with recorded_statements() as statements:
        ack = send(ana, exchange.channel.id, "We do!", reply_to=original["id"])
    assert ack["ok"] and ack["message"]["reply_to"]["author_name"] == exchange.ben.username
    assert len(statements) <= SEND_STATEMENT_LIMIT + 1, "\n".join(statements)
    after_seq = next(n for n, s in enumerate(statements) if s.startswith("UPDATE channel"))
    assert [s.split()[0] for s in statements[after_seq:]] == [
        "UPDATE",
        "SAVEPOINT",
        "INSERT",
        "INSERT",
        "RELEASE",
        "RELEASE",
    ]


def test_a_sends_ack_and_live_event_show_the_message_as_replay_and_history_do(exchange, browsers):
    """The send path builds its view from the values it wrote, without loading the row:
    that view must be the one every other path builds from the row."""
    from sqlalchemy import text

    from app.modules.chat import operations, queries
    from app.modules.chat.models import Channel

    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    assert join(ana, exchange.channel.id)["ok"] and join(ben, exchange.channel.id)["ok"]
    original = send(ben, exchange.channel.id, "Who cooks on **Friday**? " + "x" * 100)
    ben.get_received()
    acks = [
        send(ana, exchange.channel.id, "We do! <script>alert(1)</script> https://example.eu", reply_to=original["id"]),
        send(ana, exchange.channel.id, "Plain"),
    ]
    live = [e["args"][0] for e in ben.get_received() if e["name"] == "chat_event"]
    replay = ben.emit("chat_events", {"channel_id": exchange.channel.id, "after_seq": original["seq"]}, callback=True)
    history = ben.emit("chat_history", {"channel_id": exchange.channel.id, "before_seq": 10**6}, callback=True)
    for ack in acks:
        assert ack["ok"] and ack["duplicate"] is False
        [event] = [e for e in live if e["seq"] == ack["seq"]]
        [replayed] = [e for e in replay["events"] if e["seq"] == ack["seq"]]
        [shown] = [m for m in history["messages"] if m["id"] == ack["id"]]
        assert (
            event
            == replayed
            == {"channel_id": exchange.channel.id, "seq": ack["seq"], "kind": "message"} | {"message": ack["message"]}
        )
        assert shown == ack["message"]
        assert ack["message"]["reply_to"] == (
            None
            if ack is acks[1]
            else {
                "id": original["id"],
                "author_id": exchange.ben.id,
                "author_name": exchange.ben.username,
                "excerpt": shown["reply_to"]["excerpt"],
            }
        )
    assert acks[0]["message"]["reply_to"]["excerpt"].endswith("…")
    # The event row is stored as the ORM stores one without a payload (a lock's, here).
    access = queries.channel_for_user(exchange.channel.id, exchange.teacher)
    operations.set_channel_lock(exchange.teacher, access, True)
    db.session.flush()
    payloads = db.session.execute(
        text("SELECT kind, payload FROM channel_event WHERE channel_id = :c AND kind IN ('message', 'lock')"),
        {"c": exchange.channel.id},
    ).all()
    assert {kind for kind, _ in payloads} == {"message", "lock"}
    assert len({payload for _, payload in payloads}) == 1
    assert db.session.get(Channel, exchange.channel.id).is_locked


def test_send_message_still_returns_the_row(exchange):
    """Callers other than chat_send (search, tests) get the Message row, new or duplicate."""
    from app.modules.chat import operations, queries
    from app.modules.chat.models import Message

    access = queries.channel_for_user(exchange.channel.id, exchange.ana)
    client_id = new_client_id()
    message, duplicate = operations.send_message(exchange.ana, access, client_id, "Olá")
    assert isinstance(message, Message) and duplicate is False and message.body_html == "<p>Olá</p>"
    again, duplicate = operations.send_message(exchange.ana, access, client_id, "Olá")
    assert again is message and duplicate is True
