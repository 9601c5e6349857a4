"""Direct channels between two pupils of one team, only while a teacher allows it; teachers read them."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.modules.chat import queries
from app.modules.chat.models import Channel, ChannelKind, ChannelMember, ModerationAction
from app.modules.projects.models import Team, TeamMembership
from tests.chat.conftest import join, send
from tests.conftest import post_form


def team_of(exchange, *pupils, allow=True):
    team = Team(project_id=exchange.project.id, name="Team 1", position=1, allow_direct_messages=allow)
    team.memberships = [TeamMembership(project_id=exchange.project.id, student_id=p.id) for p in pupils]
    exchange.project.teams.append(team)
    db.session.flush()
    return team


def open_direct(http, exchange, other):
    chat = f"/exchanges/{exchange.project.id}/chat"
    return post_form(http, f"{chat}/direct", {"user_id": str(other.id)}, page=chat)


def direct_channel_id(response) -> int:
    return int(re.search(r"/chat/(\d+)$", response.headers["Location"]).group(1))


def test_two_teammates_open_one_direct_channel(exchange, browsers):
    team_of(exchange, exchange.ana, exchange.ben)
    ana_http = browsers.http(exchange.ana)
    opened = open_direct(ana_http, exchange, exchange.ben)
    assert opened.status_code == 302
    channel = db.session.get(Channel, direct_channel_id(opened))
    low, high = sorted((exchange.ana.id, exchange.ben.id))
    assert channel.kind == ChannelKind.DIRECT and channel.slug == f"direct:{low}:{high}"
    members = db.session.scalars(select(ChannelMember.user_id).where(ChannelMember.channel_id == channel.id))
    assert sorted(members) == [low, high]
    # Ben opening it too gets the same channel.
    assert direct_channel_id(open_direct(browsers.http(exchange.ben), exchange, exchange.ana)) == channel.id

    page = ana_http.get(f"/exchanges/{exchange.project.id}/chat/{channel.id}").get_data(as_text=True)
    assert "Teachers of the exchange can read this conversation." in page
    # Named after the other pupil, by the name Ana may see (a partner pupil's username).
    assert f'<h2 id="chat-title">{exchange.ben.username}</h2>' in page
    assert "data-chat-composer" in page

    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    assert join(ben, channel.id)["ok"]
    assert send(ana, channel.id, "just us (and teachers)")["ok"]
    assert [e["message"]["body_source"] for e in ben.events("chat_event")] == ["just us (and teachers)"]


def test_others_cannot_read_and_teachers_read_but_do_not_write(exchange, browsers, make):
    carla = make.student(exchange.class_pt, display_name="Carla")
    team_of(exchange, exchange.ana, exchange.ben, carla)
    channel_id = direct_channel_id(open_direct(browsers.http(exchange.ana), exchange, exchange.ben))
    send(browsers.connect_as(exchange.ana), channel_id, "hello Ben")

    carla_socket = browsers.connect_as(carla)
    assert join(carla_socket, channel_id)["error"]["code"] == "forbidden"
    assert browsers.http(carla).get(f"/exchanges/{exchange.project.id}/chat/{channel_id}").status_code == 403
    assert channel_id not in [c.id for c in queries.channels_for(exchange.project, carla)]

    teacher = browsers.connect_as(exchange.partner_teacher)
    history = join(teacher, channel_id)
    assert history["ok"] and history["messages"][0]["body_source"] == "hello Ben"
    # The partner teacher sees both pupils' usernames (their own pupil's name, Ben, they may see).
    assert history["channel"]["name"] == f"{exchange.ana.username} & Ben"
    assert send(teacher, channel_id, "teacher here")["error"]["code"] == "channel_read_only"
    # Teachers are not members: a pupils' conversation is never "unread" for them.
    readable = queries.channels_for(exchange.project, exchange.partner_teacher)
    assert channel_id in [c.id for c in readable]
    assert queries.unread_counts(exchange.partner_teacher, readable) == {}


def test_direct_channels_need_the_same_team_and_the_teachers_consent(exchange, browsers, make):
    carla = make.student(exchange.class_pt, display_name="Carla")
    team_of(exchange, exchange.ana, exchange.ben, allow=False)
    http = browsers.http(exchange.ana)
    assert open_direct(http, exchange, exchange.ben).status_code == 403
    page = http.get(f"/exchanges/{exchange.project.id}/chat").get_data(as_text=True)
    assert "Write privately to a teammate" not in page

    exchange.project.teams[0].allow_direct_messages = True
    db.session.flush()
    assert "Write privately to a teammate" in http.get(f"/exchanges/{exchange.project.id}/chat").get_data(as_text=True)
    assert open_direct(http, exchange, carla).status_code == 400  # not in the team
    assert open_direct(http, exchange, exchange.ana).status_code == 400  # oneself
    teacher_http = browsers.http(exchange.teacher)
    assert open_direct(teacher_http, exchange, exchange.ana).status_code == 403  # teachers do not start them
    assert db.session.scalar(select(Channel).where(Channel.kind == ChannelKind.DIRECT)) is None


def test_switching_off_makes_direct_channels_read_only_and_is_logged(exchange, browsers):
    team = team_of(exchange, exchange.ana, exchange.ben, allow=False)
    teacher_http = browsers.http(exchange.teacher)
    teams_page = f"/exchanges/{exchange.project.id}/teams"
    toggle = f"{teams_page}/{team.id}/direct-messages"
    assert "Allow direct messages" in teacher_http.get(teams_page).get_data(as_text=True)
    assert post_form(teacher_http, toggle, {"allow": "on"}, page=teams_page).status_code == 302
    db.session.refresh(team)
    assert team.allow_direct_messages is True

    channel_id = direct_channel_id(open_direct(browsers.http(exchange.ana), exchange, exchange.ben))
    ana = browsers.connect_as(exchange.ana)
    assert send(ana, channel_id, "before")["ok"]

    assert post_form(teacher_http, toggle, {"allow": "off"}, page=teams_page).status_code == 302
    db.session.refresh(team)
    assert team.allow_direct_messages is False
    refused = send(ana, channel_id, "after")
    assert refused["ok"] is False and refused["error"]["code"] == "channel_read_only"
    still = join(ana, channel_id)
    assert still["ok"] and [m["body_source"] for m in still["messages"]] == ["before"]
    page = browsers.http(exchange.ana).get(f"/exchanges/{exchange.project.id}/chat/{channel_id}").get_data(as_text=True)
    assert "data-chat-composer" not in page and "kept for reading" in page

    log = db.session.scalars(
        select(ModerationAction).where(ModerationAction.project_id == exchange.project.id).order_by(ModerationAction.id)
    ).all()
    assert [(entry.action, entry.actor_id, entry.details["team_id"]) for entry in log] == [
        ("direct_messages_allowed", exchange.teacher.id, team.id),
        ("direct_messages_stopped", exchange.teacher.id, team.id),
    ]
    # Pupils cannot switch it.
    pupil_http = browsers.http(exchange.ana)
    assert post_form(pupil_http, toggle, {"allow": "on"}, page=teams_page).status_code == 403
    db.session.refresh(team)
    assert team.allow_direct_messages is False


def test_a_pupil_moved_to_another_team_can_no_longer_write(exchange, browsers, make):
    team = team_of(exchange, exchange.ana, exchange.ben)
    channel_id = direct_channel_id(open_direct(browsers.http(exchange.ana), exchange, exchange.ben))
    other = Team(project_id=exchange.project.id, name="Team 2", position=2, allow_direct_messages=True)
    exchange.project.teams.append(other)
    db.session.flush()
    membership = next(m for m in team.memberships if m.student_id == exchange.ben.id)
    membership.team = other
    db.session.flush()
    assert send(browsers.connect_as(exchange.ana), channel_id, "still there?")["error"]["code"] == "channel_read_only"


def test_switching_off_tells_the_open_direct_pages_at_once(exchange, browsers, make):
    carla, dora = make.student(exchange.class_pt, display_name="Carla"), make.student(exchange.class_de)
    team = team_of(exchange, exchange.ana, exchange.ben)
    team_of(exchange, carla, dora)
    ours = direct_channel_id(open_direct(browsers.http(exchange.ana), exchange, exchange.ben))
    theirs = direct_channel_id(open_direct(browsers.http(carla), exchange, dora))
    ana, ben, carla_socket = (browsers.connect_as(p) for p in (exchange.ana, exchange.ben, carla))
    assert join(ana, ours)["ok"] and join(ben, ours)["ok"] and join(carla_socket, theirs)["ok"]

    teams_page = f"/exchanges/{exchange.project.id}/teams"
    toggle = f"{teams_page}/{team.id}/direct-messages"
    assert post_form(browsers.http(exchange.teacher), toggle, {"allow": "off"}, page=teams_page).status_code == 302

    for sock in (ana, ben):
        assert sock.events("chat_writable") == [{"channel_id": ours, "writable": False}]
    assert carla_socket.events("chat_writable") == []  # another team's conversation goes on
