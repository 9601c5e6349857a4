"""Whoever loses a channel over HTTP stops receiving it on the sockets they already have open.

Every event checks access again, but a socket that joined a room keeps getting what is
broadcast there until it speaks; so the change ends their sockets right after the commit
(as for a pupil taken out of a class, tests/chat/test_removed_student.py).
"""

from __future__ import annotations

from app.extensions import db
from app.modules.projects.models import ProjectMember, ProjectRole
from tests.chat.conftest import join, send
from tests.chat.test_removed_student import chat_events_queued
from tests.chat.test_team_channels import form_teams
from tests.conftest import post_form


def test_a_pupil_moved_to_another_team_stops_receiving_the_old_team_channel(exchange, make, browsers):
    carla = make.student(exchange.class_pt, display_name="Carla")
    channels = form_teams(exchange, [exchange.ana, exchange.ben], [carla])
    one, two = exchange.project.teams
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    assert join(ana, channels[one.id].id)["ok"] and join(ben, channels[one.id].id)["ok"]

    teams_page = f"/exchanges/{exchange.project.id}/teams"
    moved = post_form(
        browsers.http(exchange.teacher),
        f"{teams_page}/move",
        {"student_id": exchange.ana.id, "team_id": two.id},
        page=teams_page,
    )
    assert moved.status_code == 302

    assert not ana.is_connected()
    assert ben.is_connected()  # still in that team: untouched
    assert send(ben, channels[one.id].id, "only for team 1 now")["ok"]
    assert chat_events_queued(ana) == []


def test_a_removed_co_teacher_stops_receiving_the_teachers_channel(exchange, make, browsers):
    helper = make.teacher(make.school(country="IT", city="Bologna"))
    member = ProjectMember(project_id=exchange.project.id, user_id=helper.id, role=ProjectRole.TEACHER)
    db.session.add(member)
    db.session.flush()
    helper_socket = browsers.connect_as(helper)
    assert join(helper_socket, exchange.teachers_channel.id)["ok"]
    teacher = browsers.connect_as(exchange.teacher)

    people = f"/exchanges/{exchange.project.id}/people"
    removed = post_form(
        browsers.http(exchange.teacher), f"/exchanges/{exchange.project.id}/members/{member.id}/remove", {}, page=people
    )
    assert removed.status_code == 302

    assert not helper_socket.is_connected()
    assert teacher.is_connected()
    assert send(teacher, exchange.teachers_channel.id, "about a pupil")["ok"]
    assert chat_events_queued(helper_socket) == []


def test_new_teams_take_the_pupils_out_of_their_old_team_channels(exchange, make, browsers):
    carla = make.student(exchange.class_pt, display_name="Carla")
    channels = form_teams(exchange, [exchange.ana, exchange.ben], [carla])
    old = channels[exchange.project.teams[0].id]
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    assert join(ana, old.id)["ok"] and join(ben, old.id)["ok"]
    message = send(ana, old.id, "our old plans")
    teacher = browsers.connect_as(exchange.teacher)
    assert join(teacher, old.id)["ok"]
    chat_events_queued(ana), ana.events("chat_event"), ben.events("chat_event"), teacher.events("chat_event")

    teams_page = f"/exchanges/{exchange.project.id}/teams"
    generated = post_form(
        browsers.http(exchange.teacher), f"{teams_page}/generate", {"team_size": "2"}, page=teams_page
    )
    assert generated.status_code == 302

    hidden = teacher.emit("chat_hide", {"channel_id": old.id, "message_id": message["id"]}, callback=True)
    assert hidden["ok"]
    assert [e["kind"] for e in teacher.events("chat_event")] == ["hide"]  # teachers still read the history
    # The pupils keep their connection, but the old team's room no longer reaches them.
    assert ana.is_connected() and ben.is_connected()
    assert ana.events("chat_event") == [] and ben.events("chat_event") == []
    assert send(ana, exchange.channel.id, "still here")["ok"]
