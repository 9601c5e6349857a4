"""Team channels: one per team, read by its pupils and the teachers; kept as history when teams change."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.modules.chat import operations, queries
from app.modules.chat.models import Channel, ChannelKind
from app.modules.projects import operations as project_operations
from app.modules.projects.models import Team, TeamMembership
from tests.chat.conftest import join, send


def team_channels(project):
    return list(
        db.session.scalars(
            select(Channel)
            .where(Channel.project_id == project.id, Channel.kind == ChannelKind.TEAM)
            .order_by(Channel.id)
        )
    )


def form_teams(exchange, *groups):
    project = exchange.project
    project.teams.clear()
    db.session.flush()
    for number, members in enumerate(groups, start=1):
        team = Team(project_id=project.id, name=f"Team {number}", position=number)
        team.memberships = [TeamMembership(project_id=project.id, student_id=s.id) for s in members]
        project.teams.append(team)
    db.session.flush()
    operations.ensure_channels(project)
    db.session.flush()
    return {c.team_id: c for c in team_channels(project)}


def test_each_team_gets_a_channel_named_after_it(exchange, make):
    carla = make.student(exchange.class_pt, display_name="Carla")
    channels = form_teams(exchange, [exchange.ana, exchange.ben], [carla])
    teams = exchange.project.teams
    assert {c.slug for c in channels.values()} == {f"team:{t.id}" for t in teams}
    assert [channels[t.id].name for t in teams] == ["Team 1", "Team 2"]
    operations.ensure_channels(exchange.project)  # a second visit makes nothing new
    assert len(team_channels(exchange.project)) == 2


def test_team_pupils_and_teachers_read_others_do_not(exchange, make, browsers):
    carla = make.student(exchange.class_pt, display_name="Carla")
    channels = form_teams(exchange, [exchange.ana, exchange.ben], [carla])
    team_one = channels[exchange.project.teams[0].id]
    project = exchange.project
    assert [c.id for c in queries.channels_for(project, carla) if c.kind == ChannelKind.TEAM] == [
        channels[project.teams[1].id].id
    ]
    assert team_one in queries.channels_for(project, exchange.ana)
    assert team_one in queries.channels_for(project, exchange.partner_teacher)

    ana, carla_socket = browsers.connect_as(exchange.ana), browsers.connect_as(carla)
    assert join(ana, team_one.id)["ok"]
    refused = join(carla_socket, team_one.id)
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert send(carla_socket, team_one.id, "let me in")["error"]["code"] == "forbidden"
    assert send(ana, team_one.id, "only for my team")["ok"]
    assert browsers.http(carla).get(f"/exchanges/{project.id}/chat/{team_one.id}").status_code == 403


def test_a_moved_pupil_reads_the_new_team_and_no_longer_the_old(exchange, make, browsers):
    carla = make.student(exchange.class_pt, display_name="Carla")
    channels = form_teams(exchange, [exchange.ana, exchange.ben], [carla])
    one, two = exchange.project.teams
    project_operations.move_student(exchange.project, exchange.teacher, exchange.ana.id, two)
    db.session.flush()
    ana = browsers.connect_as(exchange.ana)
    assert join(ana, channels[one.id].id)["error"]["code"] == "forbidden"
    assert join(ana, channels[two.id].id)["ok"]


def test_renaming_a_team_renames_its_channel(exchange):
    channels = form_teams(exchange, [exchange.ana, exchange.ben])
    team = exchange.project.teams[0]
    project_operations.rename_team(exchange.project, exchange.teacher, team, "Os Cozinheiros")
    db.session.flush()
    assert channels[team.id].name == "Os Cozinheiros"
    assert queries.channel_view(channels[team.id])["name"] == "Os Cozinheiros"


def test_new_teams_keep_the_old_channels_as_history_for_teachers_only(exchange, make, browsers):
    carla = make.student(exchange.class_de, display_name="Carla")
    dora = make.student(exchange.class_pt, display_name="Dora")
    old = form_teams(exchange, [exchange.ana, exchange.ben], [carla, dora])
    old_channel = old[exchange.project.teams[0].id]
    ana = browsers.connect_as(exchange.ana)
    assert send(ana, old_channel.id, "our old plans")["ok"]

    project_operations.generate_teams(exchange.project, exchange.teacher, 2)
    operations.ensure_channels(exchange.project)
    db.session.flush()
    db.session.refresh(old_channel)

    # The old channel is history: no team, a slug that no new team can take.
    assert old_channel.team_id is None and old_channel.slug == f"team-archive:{old_channel.id}"
    current = [c for c in team_channels(exchange.project) if c.team_id is not None]
    assert sorted(c.team_id for c in current) == sorted(t.id for t in exchange.project.teams)
    # Even where SQLite gave a new team an old id, the new channel is a new one, empty.
    assert all(c.id != old_channel.id and c.last_seq == 0 for c in current)

    assert old_channel not in queries.channels_for(exchange.project, exchange.ana)
    assert join(ana, old_channel.id)["error"]["code"] == "forbidden"
    teacher = browsers.connect_as(exchange.teacher)
    history = join(teacher, old_channel.id)
    assert history["ok"] and [m["body_source"] for m in history["messages"]] == ["our old plans"]
    assert "earlier team" in history["channel"]["name"]
    refused = send(teacher, old_channel.id, "still there?")
    assert refused["ok"] is False and refused["error"]["code"] == "channel_read_only"
    page = browsers.http(exchange.teacher).get(f"/exchanges/{exchange.project.id}/chat/{old_channel.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "data-chat-composer" not in html and "kept for reading" in html


def test_the_chat_page_lists_the_team_channel(exchange, browsers):
    channels = form_teams(exchange, [exchange.ana])
    team_channel = next(iter(channels.values()))
    html = browsers.http(exchange.ana).get(f"/exchanges/{exchange.project.id}/chat").get_data(as_text=True)
    assert f'data-channel-link="{team_channel.id}"' in html and "Team 1" in html
