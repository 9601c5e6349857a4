"""Muting a pupil in an exchange's chat: who may, for how long, what it blocks, and live notice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.db import utcnow
from app.extensions import db
from app.modules.chat.models import ModerationAction, Mute
from app.modules.chat.moderation import MUTE_MAX_MINUTES, REASON_LIMIT
from app.modules.projects.models import ProjectStatus
from tests.chat.conftest import join, send
from tests.conftest import post_form


def mute(sock, exchange, user, minutes=60, reason="", channel=None):
    payload = {"channel_id": (channel or exchange.channel).id, "user_id": user.id, "minutes": minutes, "reason": reason}
    return sock.emit("chat_mute", payload, callback=True)


def test_muted_pupil_reads_but_cannot_write_edit_or_react_and_learns_it_live(exchange, browsers):
    ben, teacher = browsers.connect_as(exchange.ben), browsers.connect_as(exchange.teacher)
    join(ben, exchange.channel.id)
    earlier = send(ben, exchange.channel.id, "before")
    ben.get_received()

    muted = mute(teacher, exchange, exchange.ben, 60, "Calm down, please.")
    assert muted["ok"]
    (notice,) = ben.events("chat_muted")
    assert notice["project_id"] == exchange.project.id and notice["until"] == muted["until"]

    refused = send(ben, exchange.channel.id, "hello?")
    assert refused["ok"] is False and refused["error"]["code"] == "muted"
    # In the pupil's own zone (Berlin school): CET or CEST, not the teacher's Lisbon time.
    assert refused["error"]["message"].startswith("A teacher has muted you until ")
    assert "CE" in refused["error"]["message"]
    target = {"channel_id": exchange.channel.id, "message_id": earlier["id"]}
    assert ben.emit("chat_edit", {**target, "body": "x"}, callback=True)["error"]["code"] == "muted"
    # Every channel of the exchange, not only the one where it happened.
    status = ben.emit("chat_mute_status", {"channel_id": exchange.channel.id}, callback=True)
    assert status["muted_until"] == muted["until"] and "muted you" in status["notice"]
    assert join(ben, exchange.channel.id)["ok"]  # reading goes on
    assert send(browsers.connect_as(exchange.ana), exchange.channel.id, "others still talk")["ok"]
    assert send(teacher, exchange.channel.id, "teachers too")["ok"]

    row = db.session.scalar(select(Mute).where(Mute.user_id == exchange.ben.id))
    assert row.reason == "Calm down, please." and row.muted_by_id == exchange.teacher.id
    assert timedelta(minutes=59) < row.until - utcnow() <= timedelta(minutes=60)

    http = browsers.http(exchange.teacher)
    page = f"/exchanges/{exchange.project.id}/moderation"
    lifted = post_form(http, f"{page}/mutes/{row.id}/lift", {}, page=page)
    assert lifted.status_code == 302
    assert [e["project_id"] for e in ben.events("chat_unmuted")] == [exchange.project.id]
    assert send(ben, exchange.channel.id, "thank you")["ok"]
    actions = db.session.scalars(
        select(ModerationAction.action).where(ModerationAction.project_id == exchange.project.id)
    )
    assert sorted(actions) == ["mute", "unmute"]


def test_reactions_are_refused_while_muted(exchange, browsers):
    ana, teacher = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.teacher)
    sent = send(ana, exchange.channel.id, "react to me")
    ben = browsers.connect_as(exchange.ben)
    assert mute(teacher, exchange, exchange.ben)["ok"]
    from app.modules.chat.queries import REACTION_EMOJI

    reacted = ben.emit(
        "chat_react",
        {"channel_id": exchange.channel.id, "message_id": sent["id"], "emoji": REACTION_EMOJI[0]},
        callback=True,
    )
    assert reacted["ok"] is False and reacted["error"]["code"] == "muted"


def test_a_mute_ends_by_itself(exchange, browsers):
    ben, teacher = browsers.connect_as(exchange.ben), browsers.connect_as(exchange.teacher)
    assert mute(teacher, exchange, exchange.ben, 15)["ok"]
    assert send(ben, exchange.channel.id, "now?")["error"]["code"] == "muted"
    row = db.session.scalar(select(Mute).where(Mute.user_id == exchange.ben.id))
    row.until = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert send(ben, exchange.channel.id, "now!")["ok"]
    assert ben.emit("chat_mute_status", {"channel_id": exchange.channel.id}, callback=True)["muted_until"] is None


def test_lengths_are_the_offered_ones_with_a_hard_maximum(exchange, browsers):
    teacher = browsers.connect_as(exchange.teacher)
    for bad in (0, 14, 90, MUTE_MAX_MINUTES + 1, 10**9, -15, "60", True, None, 60.0):
        answer = mute(teacher, exchange, exchange.ben, bad)
        assert answer["ok"] is False and answer["error"]["code"] == "invalid_input", bad
    longest = mute(teacher, exchange, exchange.ben, MUTE_MAX_MINUTES)
    assert longest["ok"]
    row = db.session.scalar(select(Mute).where(Mute.user_id == exchange.ben.id, Mute.lifted_at.is_(None)))
    assert row.until - utcnow() <= timedelta(days=30)
    too_long = mute(teacher, exchange, exchange.ben, 60, "x" * (REASON_LIMIT + 1))
    assert too_long["error"]["code"] == "text_too_long" and str(REASON_LIMIT) in too_long["error"]["message"]
    assert mute(teacher, exchange, exchange.ben, 60, "x" * REASON_LIMIT)["ok"]
    # A new mute replaces the one in force: one mute at a time.
    active = db.session.scalars(select(Mute).where(Mute.user_id == exchange.ben.id, Mute.lifted_at.is_(None)))
    assert len(list(active)) == 1


def test_only_the_exchanges_teachers_mute_and_only_pupils(exchange, browsers, make):
    ana, teacher = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.teacher)
    assert mute(ana, exchange, exchange.ben)["error"]["code"] == "forbidden"
    assert mute(teacher, exchange, exchange.partner_teacher)["error"]["code"] == "not_mutable"
    assert mute(teacher, exchange, exchange.teacher)["error"]["code"] == "not_mutable"
    outsider = make.student(make.school_class())
    assert mute(teacher, exchange, outsider)["error"]["code"] == "not_mutable"
    other_teacher = browsers.connect_as(make.teacher())
    assert mute(other_teacher, exchange, exchange.ben)["error"]["code"] == "forbidden"
    coordinator = browsers.connect_as(make.coordinator(school=exchange.teacher.school))
    assert mute(coordinator, exchange, exchange.ana)["error"]["code"] == "forbidden"
    assert db.session.scalar(select(db.func.count()).select_from(Mute)) == 0


def test_no_mutes_in_a_closed_exchange(exchange, browsers):
    teacher = browsers.connect_as(exchange.teacher)
    exchange.project.status = ProjectStatus.CLOSED
    db.session.flush()
    assert mute(teacher, exchange, exchange.ben)["error"]["code"] == "project_closed"


def test_mute_form_on_the_moderation_page(exchange, browsers):
    http = browsers.http(exchange.partner_teacher)
    page = f"/exchanges/{exchange.project.id}/moderation"
    html = http.get(page).get_data(as_text=True)
    # The partner (German) teacher: their own pupil by name, the Portuguese one by username.
    assert "Mute a pupil" in html and exchange.ana.username in html and "Ben" in html
    bad = post_form(http, f"{page}/mutes", {"user_id": exchange.ana.id, "minutes": 90, "reason": ""}, page=page)
    assert bad.status_code == 400 and "Not a valid choice" in bad.get_data(as_text=True)
    teacher_target = post_form(
        http, f"{page}/mutes", {"user_id": exchange.teacher.id, "minutes": 60, "reason": ""}, page=page
    )
    assert teacher_target.status_code == 400
    ok = post_form(http, f"{page}/mutes", {"user_id": exchange.ana.id, "minutes": 1440, "reason": "Spam"}, page=page)
    assert ok.status_code == 302
    html = http.get(page).get_data(as_text=True)
    assert "Muted now" in html and "Spam" in html and "Lift" in html
    no_csrf = http.post(f"{page}/mutes", data={"user_id": exchange.ana.id, "minutes": 60})
    assert no_csrf.status_code == 400
    pupil = browsers.http(exchange.ana)
    assert pupil.get(page).status_code == 403
    overview = f"/exchanges/{exchange.project.id}"
    assert (
        post_form(pupil, f"{page}/mutes", {"user_id": exchange.ben.id, "minutes": 60}, page=overview).status_code == 403
    )
