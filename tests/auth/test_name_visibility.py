"""Pupils' names stay at their school (app/auth/names.py, docs/data-protection.md).

A Portuguese class and a German class share an exchange. Zofia is a Portuguese pupil with
a display name no page would print by chance: wherever she is named, the partner school's
pupil and teacher must see her username, and her own teacher and coordinator her display
name, until her classes let partners see first names.
"""

from __future__ import annotations

import json
from datetime import date, time
from types import SimpleNamespace

import pytest
from flask import current_app

from app.auth import names
from app.auth.models import ClassMembership
from app.core.db import utcnow
from app.extensions import db
from app.modules.chat import operations as chat_operations
from app.modules.chat.models import Channel
from app.modules.projects import operations as project_operations
from app.modules.projects.models import ProjectMember, ProjectRole
from app.modules.projects.session_operations import schedule_sessions
from tests.chat.conftest import join, send
from tests.chat.test_send_cost import recorded_statements
from tests.conftest import post_form
from tests.realtime import conftest as realtime_fixtures

browsers = realtime_fixtures.browsers  # the socket clients' fixture, shared with tests/realtime

ZOFIA = "Zofiadisplay"
BRUNO = "Brunodisplay"


@pytest.fixture
def world(make):
    teacher_pt = make.teacher(make.school(country="PT"), display_name="Teacher Pinto")
    teacher_de = make.teacher(make.school(country="DE", city="Berlin", timezone="Europe/Berlin"))
    class_pt, class_de = make.school_class(teacher_pt), make.school_class(teacher_de)
    project = project_operations.create_project(teacher_pt.id, [class_pt, class_de])
    chat_operations.ensure_channels(project)
    db.session.flush()
    channel = db.session.query(Channel).filter_by(project_id=project.id, slug="project").one()
    mentor = make.user(display_name="Mentor Mia")
    db.session.add(ProjectMember(project_id=project.id, user_id=mentor.id, role=ProjectRole.GUEST_MENTOR))
    db.session.flush()
    return SimpleNamespace(
        project=project,
        channel=channel,
        class_pt=class_pt,
        class_de=class_de,
        own_teacher=teacher_pt,
        own_coordinator=make.coordinator(teacher_pt.school),
        partner_teacher=teacher_de,
        zofia=make.student(class_pt, display_name=ZOFIA),
        partner_pupil=make.student(class_de, display_name=BRUNO),
        mentor=mentor,
    )


def page(browsers, user, url: str) -> str:
    response = browsers.http(user).get(url)
    assert response.status_code == 200, (user.username, url, response.status_code)
    return response.get_data(as_text=True)


def received_text(sock) -> str:
    """Everything the socket was sent since the last call, as one string to search."""
    return json.dumps(sock.get_received(), ensure_ascii=False)


def opt_in(browsers, world, school_class, allowed: bool = True):
    """The class's teacher ticks (or unticks) the box on the class form."""
    url = f"/classes/{school_class.id}/edit"
    fields = {
        "name": school_class.name,
        "isced_code": school_class.isced_code,
        "eqf_level": str(school_class.eqf_level),
        "size": school_class.size,
        "age_min": school_class.age_min,
        "age_max": school_class.age_max,
        "language_1": "en",
        "level_1": "B1",
        "language_2": "",
        "language_3": "",
    }
    if allowed:
        fields["partners_see_first_names"] = "y"
    teacher = db.session.get(type(world.own_teacher), school_class.teacher_id)
    response = post_form(browsers.http(teacher), url, fields, page=url)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    assert school_class.partners_see_first_names is allowed


# ---- the rule ----------------------------------------------------------------------------


def test_who_sees_a_pupils_display_name(world, make):
    zofia = world.zofia
    guest = make.user(display_name="Guest")
    fellow = make.student(world.class_pt, display_name="Fellow")
    pending = make.teacher(world.own_teacher.school, status="pending")
    admin = make.admin()
    sees = {
        "herself": zofia,
        "own teacher": world.own_teacher,
        "own coordinator": world.own_coordinator,
        "another teacher of her school": make.teacher(world.own_teacher.school),
    }
    does_not = {
        "partner teacher": world.partner_teacher,
        "partner pupil": world.partner_pupil,
        "classmate": fellow,
        "guest mentor": world.mentor,
        "guest": guest,
        "admin": admin,
        "teacher not yet validated": pending,
        "nobody logged in": None,
    }
    for who, viewer in sees.items():
        assert names.name_for(viewer, zofia) == ZOFIA, who
    for who, viewer in does_not.items():
        assert names.name_for(viewer, zofia) == zofia.username, who
    # Teachers and guests are not pupils: everyone sees their display name.
    for viewer in (world.partner_pupil, None, guest):
        assert names.name_for(viewer, world.own_teacher) == "Teacher Pinto"
        assert names.name_for(viewer, world.mentor) == "Mentor Mia"


def test_the_opt_in_counts_when_every_class_of_the_pupil_gave_it(world, make):
    zofia = world.zofia
    world.class_pt.partners_see_first_names = True
    db.session.flush()
    assert names.name_for(world.partner_teacher, zofia) == ZOFIA
    assert names.public_names([zofia]) == {zofia.id: ZOFIA}
    # Zofia also learns in a class whose teacher did not tick the box: that class's "no" wins.
    second = make.school_class(make.teacher(world.own_teacher.school))
    db.session.add(ClassMembership(class_id=second.id, student_id=zofia.id, joined_at=utcnow()))
    db.session.flush()
    assert names.name_for(world.partner_teacher, zofia) == zofia.username
    second.partners_see_first_names = True
    db.session.flush()
    assert names.name_for(world.partner_pupil, zofia) == ZOFIA


def test_a_resolver_names_many_people_in_one_query(world, make):
    pupils = [make.student(world.class_pt, display_name=f"P{n}") for n in range(20)]
    with recorded_statements() as statements:
        shown = names.NameResolver(world.partner_teacher).names(pupils + [world.own_teacher])
    assert shown == {**{p.id: p.username for p in pupils}, world.own_teacher.id: "Teacher Pinto"}
    assert len(statements) == 1


# ---- chat: what sockets receive ----------------------------------------------------------


def zofia_chats(browsers, world):
    """Zofia joins, types, writes, is answered and quoted, edits and reacts; the partner
    pupil answers her. Returns her first message's ack."""
    zofia, bruno = browsers.connect_as(world.zofia), browsers.connect_as(world.partner_pupil)
    assert join(zofia, world.channel.id)["ok"] and join(bruno, world.channel.id)["ok"]
    assert zofia.emit("chat_typing", {"channel_id": world.channel.id}, callback=True)["ok"]
    first = send(zofia, world.channel.id, "pancakes for everyone")
    assert first["ok"]
    assert send(bruno, world.channel.id, "yes please", reply_to=first["id"])["ok"]
    assert send(zofia, world.channel.id, "quoting myself", reply_to=first["id"])["ok"]
    target = {"channel_id": world.channel.id, "message_id": first["id"]}
    assert zofia.emit("chat_edit", {**target, "body": "pancakes for everyone!"}, callback=True)["ok"]
    assert zofia.emit("chat_react", {**target, "emoji": "👍"}, callback=True)["ok"]
    return first


def everything_asked(sock, channel_id) -> str:
    """The answers a page gets when it asks: join, replay, history, presence."""
    answers = [
        join(sock, channel_id),
        join(sock, channel_id, last_seq=0),
        sock.emit("chat_events", {"channel_id": channel_id, "after_seq": 0}, callback=True),
        sock.emit("chat_history", {"channel_id": channel_id, "before_seq": 10**6}, callback=True),
        sock.emit("chat_presence", {"channel_id": channel_id}, callback=True),
    ]
    assert all(answer["ok"] for answer in answers), answers
    return json.dumps(answers, ensure_ascii=False)


@pytest.mark.parametrize("partner", ["partner_teacher", "partner_pupil", "mentor"])
def test_no_socket_of_a_partner_ever_receives_the_display_name(world, browsers, partner):
    watcher = browsers.connect_as(getattr(world, partner))
    assert join(watcher, world.channel.id)["ok"]
    watcher.get_received()
    zofia_chats(browsers, world)
    live = received_text(watcher)
    # Live: the join announcement, typing, messages (one and batched), replies, edits, reactions.
    for kind in ("chat_online", "chat_typing", "chat_event"):
        assert f'"name": "{kind}"' in live, kind
    asked = everything_asked(watcher, world.channel.id)
    for text in (live, asked):
        assert ZOFIA not in text
        assert world.zofia.username in text
    assert '"author_name": "Zofia' not in asked


def test_the_own_teacher_gets_the_display_name_where_the_answer_is_theirs_alone(world, browsers):
    teacher = browsers.connect_as(world.own_teacher)
    assert join(teacher, world.channel.id)["ok"]
    teacher.get_received()
    zofia_chats(browsers, world)
    # What goes to the whole room carries the public name (the page puts in the roster's)...
    live = received_text(teacher)
    assert ZOFIA not in live and world.zofia.username in live
    # ...the presence answer is for this teacher alone, and names her.
    presence = teacher.emit("chat_presence", {"channel_id": world.channel.id}, callback=True)
    assert {"user_id": world.zofia.id, "name": ZOFIA} in presence["online"]
    assert {"user_id": world.partner_pupil.id, "name": world.partner_pupil.username} in presence["online"]


def test_the_class_opt_in_lets_every_socket_see_the_first_name_at_once(world, browsers):
    zofia = browsers.connect_as(world.zofia)
    watcher = browsers.connect_as(world.partner_teacher)
    assert join(watcher, world.channel.id)["ok"] and join(zofia, world.channel.id)["ok"]
    # Zofia's socket keeps its access check (app/realtime/auth_cache.py) from here on.
    assert send(zofia, world.channel.id, "before")["message"]["author_name"] == world.zofia.username
    assert send(zofia, world.channel.id, "kept")["message"]["author_name"] == world.zofia.username
    watcher.get_received()
    opt_in(browsers, world, world.class_pt)
    assert send(zofia, world.channel.id, "after")["message"]["author_name"] == ZOFIA
    assert ZOFIA in received_text(watcher)
    assert ZOFIA in everything_asked(watcher, world.channel.id)
    opt_in(browsers, world, world.class_pt, allowed=False)
    assert send(zofia, world.channel.id, "withdrawn")["message"]["author_name"] == world.zofia.username
    watcher.get_received()
    assert ZOFIA not in everything_asked(watcher, world.channel.id)


# ---- pages -------------------------------------------------------------------------------


def fill_the_exchange(browsers, world):
    """Chat, teams with a move in the feed, a live session, a report, a mute: every place
    where a pupil's name can appear."""
    first = zofia_chats(browsers, world)
    project = world.project
    project_operations.generate_teams(project, world.own_teacher, 2)
    project_operations.move_student(project, world.own_teacher, world.zofia.id, project.teams[0])
    with current_app.test_request_context():  # its notifications link to the session page
        (session,) = schedule_sessions(
            project,
            world.own_teacher,
            title="Cooking together",
            day=date(2030, 5, 6),
            at=time(10, 0),
            zone="Europe/Lisbon",
            duration_minutes=60,
            meeting_url="https://meet.example.eu/x",
        )
    project_operations.mark_attendance(project, world.own_teacher, session, [world.zofia.id])
    db.session.flush()
    bruno = browsers.connect_as(world.partner_pupil)
    reported = {"channel_id": world.channel.id, "message_id": first["id"], "reason": "spam", "details": ""}
    assert bruno.emit("chat_report", reported, callback=True)["ok"]
    partner = browsers.connect_as(world.partner_teacher)
    muted = {"channel_id": world.channel.id, "user_id": world.zofia.id, "minutes": 15, "reason": "calm"}
    assert partner.emit("chat_mute", muted, callback=True)["ok"]
    return session


def pages_naming_pupils(world, session) -> dict[str, str]:
    p = world.project.id
    return {
        "chat": f"/exchanges/{p}/chat/{world.channel.id}",
        "search": f"/exchanges/{p}/chat/search?q=pancakes",
        "project home (pupils, activity feed)": f"/exchanges/{p}",
        "teams": f"/exchanges/{p}/teams",
        "people": f"/exchanges/{p}/people",
        "session (attendance)": f"/exchanges/{p}/sessions/{session.id}",
        "session .ics": f"/exchanges/{p}/sessions/{session.id}.ics",
        "report queue": f"/exchanges/{p}/moderation",
        "moderation log": f"/exchanges/{p}/moderation/log",
        "notifications": "/notifications",
    }


def test_partner_pages_show_the_username_and_own_pages_the_display_name(world, browsers):
    session = fill_the_exchange(browsers, world)
    urls = pages_naming_pupils(world, session)
    teacher_pages = {"report queue", "session (attendance)"}
    pupil_pages = set(urls) - teacher_pages - {"moderation log"}
    for name, url in urls.items():
        if name in pupil_pages:
            assert ZOFIA not in page(browsers, world.partner_pupil, url), name
        assert ZOFIA not in page(browsers, world.partner_teacher, url), name
    # Where the partner teacher reads her name, it is her username.
    for name in ("search", "project home (pupils, activity feed)", "teams", "report queue", "moderation log"):
        assert world.zofia.username in page(browsers, world.partner_teacher, urls[name]), name
    for name in ("search", "teams"):
        assert world.zofia.username in page(browsers, world.partner_pupil, urls[name]), name
    home = page(browsers, world.partner_teacher, urls["project home (pupils, activity feed)"])
    assert f"moved {world.zofia.username} to" in home
    log = page(browsers, world.partner_teacher, urls["moderation log"])
    assert f"muted {world.zofia.username}" in log
    # Her own teacher reads her display name in each of these places.
    for name in (
        "search",
        "project home (pupils, activity feed)",
        "teams",
        "session (attendance)",
        "report queue",
        "moderation log",
    ):
        assert ZOFIA in page(browsers, world.own_teacher, urls[name]), name
    assert f"moved {ZOFIA} to" in page(browsers, world.own_teacher, urls["project home (pupils, activity feed)"])
    assert f"muted {ZOFIA}" in page(browsers, world.own_coordinator, urls["moderation log"])
    # The partner's own pupil is named to them: the rule is the same from the other side.
    assert BRUNO in page(browsers, world.partner_teacher, urls["teams"])
    assert BRUNO not in page(browsers, world.own_teacher, urls["teams"])


def test_the_chat_page_gives_its_script_only_the_names_its_reader_may_see(world, browsers):
    url = f"/exchanges/{world.project.id}/chat/{world.channel.id}"

    def roster(user) -> dict:
        html = page(browsers, user, url)
        start = html.index("data-names='") + len("data-names='")
        return json.loads(html[start : html.index("'", start)])

    assert roster(world.own_teacher) == {str(world.zofia.id): ZOFIA}
    assert roster(world.own_coordinator) == {str(world.zofia.id): ZOFIA}
    assert roster(world.partner_teacher) == {str(world.partner_pupil.id): BRUNO}
    assert roster(world.zofia) == {str(world.zofia.id): ZOFIA}
    assert roster(world.partner_pupil) == {str(world.partner_pupil.id): BRUNO}
    assert roster(world.mentor) == {}


def test_the_class_form_offers_the_opt_in_and_says_it_needs_agreement(world, browsers):
    html = page(browsers, world.own_teacher, f"/classes/{world.class_pt.id}/edit")
    assert "Partner classes may see my pupils' first names" in html
    assert "agreement of the pupils and their parents" in html
    opt_in(browsers, world, world.class_pt)
    teams_url = f"/exchanges/{world.project.id}/teams"
    project_operations.generate_teams(world.project, world.own_teacher, 2)
    db.session.flush()
    assert ZOFIA in page(browsers, world.partner_teacher, teams_url)
    assert ZOFIA in page(browsers, world.partner_pupil, teams_url)
