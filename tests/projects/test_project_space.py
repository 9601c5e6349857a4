"""The project space: who sees it in which role, editing by the teacher-admins, the activity
feed, and closing, after which every write is refused with a clear message."""

from __future__ import annotations

from datetime import date

import pytest

from app.auth.models import ClassMembership, Role
from app.extensions import db
from app.modules.projects.models import LiveSession, Project, ProjectActivity, ProjectRole, ProjectStatus, Team
from app.modules.projects.operations import add_member
from app.modules.projects.queries import may_see_project, project_role, projects_of_user
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import post_form
from tests.matching.test_profile_pages import class_in, client_for
from tests.projects.conftest import plain_text


def test_roles_come_from_the_classes_and_the_member_rows(make, exchange):
    project = exchange.project
    outsider = make.teacher(make.school(country="IT", timezone="Europe/Rome"))
    mentor = make.user(Role.GUEST)
    parent = make.user(Role.GUEST)
    add_member(project, mentor, ProjectRole.GUEST_MENTOR)
    add_member(project, parent, ProjectRole.VISITOR)

    assert project_role(project, exchange.porto.teacher) == ProjectRole.TEACHER_ADMIN
    assert project_role(project, exchange.helsinki.teacher) == ProjectRole.TEACHER_ADMIN
    assert project_role(project, exchange.porto_pupils[0]) == ProjectRole.STUDENT
    assert project_role(project, exchange.helsinki_pupils[0]) == ProjectRole.STUDENT
    assert project_role(project, mentor) == ProjectRole.GUEST_MENTOR
    assert project_role(project, parent) == ProjectRole.VISITOR
    assert project_role(project, make.coordinator(exchange.porto.school)) == ProjectRole.VISITOR
    assert project_role(project, make.admin()) == ProjectRole.VISITOR
    assert project_role(project, outsider) is None
    assert project_role(project, make.teacher(exchange.porto.school)) is None  # a colleague is not in it
    assert project_role(project, make.student()) is None
    assert not may_see_project(project, outsider) and may_see_project(project, mentor)
    assert project in projects_of_user(mentor)


def test_a_pupil_removed_from_the_class_loses_the_project_at_once(app, make, exchange):
    pupil = exchange.porto_pupils[0]
    client = client_for(app, pupil)
    assert client.get(exchange.path).status_code == 200

    db.session.query(ClassMembership).filter_by(student_id=pupil.id).delete()
    db.session.flush()

    assert client.get(exchange.path).status_code == 403
    assert client.get(f"{exchange.path}/sessions").status_code == 403


def test_the_home_page_shows_the_space_feed_and_next_sessions(app, make, exchange):
    client = client_for(app, exchange.helsinki.teacher)
    page = text_of(client.get(exchange.path))
    assert "Cozinha 11A × Kokki 2B" in page
    assert "Your role: Teacher (admin)" in page
    assert f"{exchange.porto.teacher.display_name} started the exchange." in page
    # Teachers see the pupils of the partner classes, a partner school's by username.
    assert ", ".join(p.username for p in exchange.porto_pupils[:3]) in page
    assert "Ana 0" not in page
    own_page = text_of(client_for(app, exchange.porto.teacher).get(exchange.path))
    assert "Ana 0, Ana 1, Ana 2" in own_page
    assert "No live session planned." in page
    assert "Edit the exchange" in page
    # The chat link appears once the chat module provides its page.
    assert ("/chat" in page) == ("chat.channel" in app.view_functions)


def test_a_pupil_sees_the_space_read_only(app, exchange):
    client = client_for(app, exchange.porto_pupils[0])
    page = text_of(client.get(exchange.path))
    assert "Your role: Pupil" in page
    assert "Edit the exchange" not in page and "Schedule a session" not in page
    assert "Ana 1" not in page  # classmates' names are for the teachers' overview
    assert client.get(f"{exchange.path}/edit").status_code == 403
    assert post_form(client, f"{exchange.path}/close", {}, page=exchange.path).status_code == 403
    assert db.session.get(Project, exchange.project.id).status == ProjectStatus.ACTIVE


@pytest.mark.parametrize("path", ["", "/edit", "/teams", "/sessions", "/sessions/new"])
def test_another_school_teacher_gets_403_everywhere(app, make, exchange, path):
    stranger = class_in(make, "IT").teacher
    client = client_for(app, stranger)
    assert client.get(exchange.path + path).status_code == 403


def test_writes_by_another_school_teacher_are_refused(app, make, exchange):
    client = client_for(app, class_in(make, "IT").teacher)
    path = exchange.path
    assert post_form(client, f"{path}/edit", {"title": "Mine now"}, page="/dashboard").status_code == 403
    assert post_form(client, f"{path}/close", {}, page="/dashboard").status_code == 403
    assert post_form(client, f"{path}/teams/generate", {"team_size": "3"}, page="/dashboard").status_code == 403
    assert count(Team) == 0
    assert db.session.get(Project, exchange.project.id).title == "Cozinha 11A × Kokki 2B"


def test_a_teacher_admin_edits_the_space(app, exchange):
    client = client_for(app, exchange.porto.teacher)
    form = {
        "title": "  Food  waste   menus ",
        "aims": "Cook a zero-waste menu together.",
        "languages": ["en", "pt"],
        "period_start": "2027-02-01",
        "period_end": "2027-05-28",
    }
    response = post_form(client, f"{exchange.path}/edit", form, page=f"{exchange.path}/edit")
    assert response.status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, exchange.project.id)
    assert project.title == "Food waste menus"
    assert project.languages == ["en", "pt"]
    assert (project.period_start, project.period_end) == (date(2027, 2, 1), date(2027, 5, 28))
    page = plain_text(client.get(exchange.path))
    assert "Cook a zero-waste menu together." in page
    assert "English (Cozinha 11A B1, Kokki 2B B1); Portuguese" in page  # the levels the classes gave
    assert "Feb 1, 2027 – May 28, 2027" in page
    assert "updated the description of the exchange" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "Field cannot be longer than 200 characters."),
        ({"aims": "x" * 4001}, "aims", "Field cannot be longer than 4000 characters."),
        ({"languages": ["xx"]}, "languages", "'xx' is not a valid choice for this field."),
        (
            {"period_start": "2027-05-01", "period_end": "2027-04-01"},
            "period_end",
            "The end cannot be before the start.",
        ),
        ({"period_start": "1 May"}, "period_start", "Not a valid date value."),
    ],
)
def test_bad_project_input_is_refused_with_a_clear_message(app, exchange, changes, field, message):
    client = client_for(app, exchange.porto.teacher)
    form = {"title": "Food waste menus", "aims": "", "period_start": "", "period_end": "", **changes}
    response = post_form(client, f"{exchange.path}/edit", form, page=f"{exchange.path}/edit")
    assert response.status_code == 400
    body = text_of(response)
    assert message in (field_error(response, field) or body)
    db.session.expire_all()
    assert db.session.get(Project, exchange.project.id).title == "Cozinha 11A × Kokki 2B"
    assert count(ProjectActivity, ProjectActivity.kind == "project_updated") == 0


def test_closing_makes_the_project_read_only(app, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    assert post_form(teacher, f"{exchange.path}/close", {}, page=exchange.path).status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, exchange.project.id)
    assert project.status == ProjectStatus.CLOSED and project.closed_at is not None
    page = text_of(teacher.get(exchange.path))
    assert "This exchange is closed" in page and "closed the exchange." in page
    assert "Edit the exchange" not in page

    closed = "This exchange is closed: nothing in it can be changed any more."
    partner = client_for(app, exchange.helsinki.teacher)
    for client, path, data in [
        (teacher, "/edit", {"title": "Again"}),
        (teacher, "/close", {}),
        (partner, "/teams/generate", {"team_size": "2"}),
        (partner, "/teams/move", {"student_id": exchange.porto_pupils[0].id, "team_id": "1"}),
        (teacher, "/sessions/new", {"title": "Late", "start_date": "2027-03-01", "start_time": "10:00"}),
    ]:
        response = post_form(client, exchange.path + path, data, page=exchange.path)
        assert response.status_code == 409, path
        assert closed in text_of(response)
    assert teacher.get(f"{exchange.path}/edit").status_code == 409
    assert count(Team) == 0 and count(LiveSession) == 0
    assert db.session.get(Project, exchange.project.id).title == "Cozinha 11A × Kokki 2B"
    # Reading stays possible.
    assert teacher.get(f"{exchange.path}/sessions").status_code == 200
    assert teacher.get(f"{exchange.path}/teams").status_code == 200


def test_the_list_marks_closed_exchanges(app, exchange):
    client = client_for(app, exchange.porto.teacher)
    post_form(client, f"{exchange.path}/close", {}, page=exchange.path)
    assert "Cozinha 11A × Kokki 2B (closed)" in plain_text(client.get("/exchanges"))


def test_a_co_teacher_runs_teams_and_sessions_but_does_not_administer(app, make, exchange):
    colleague = make.teacher(exchange.porto.school)
    add_member(exchange.project, colleague, ProjectRole.TEACHER)
    client = client_for(app, colleague)
    assert "Your role: Teacher" in text_of(client.get(exchange.path))
    generated = post_form(client, f"{exchange.path}/teams/generate", {"team_size": "3"}, page=exchange.path)
    assert generated.status_code == 302
    assert client.get(f"{exchange.path}/sessions/new").status_code == 200
    response = client.get(f"{exchange.path}/edit")
    assert response.status_code == 403
    assert "Only the teachers of the partner classes can do this." in text_of(response)
    assert post_form(client, f"{exchange.path}/close", {}, page=exchange.path).status_code == 403


def test_a_guest_mentor_sees_all_teams_read_only(app, make, exchange):
    post_form(
        client_for(app, exchange.porto.teacher),
        f"{exchange.path}/teams/generate",
        {"team_size": "3"},
        page=exchange.path,
    )
    mentor = make.user(Role.GUEST)
    add_member(exchange.project, mentor, ProjectRole.GUEST_MENTOR)
    client = client_for(app, mentor)
    page = plain_text(client.get(f"{exchange.path}/teams"))
    assert "Team 1" in page and "Team 2" in page and "Move a pupil" not in page
    assert (
        post_form(client, f"{exchange.path}/teams/generate", {"team_size": "2"}, page=exchange.path).status_code == 403
    )


def test_outside_members_cannot_take_class_roles(make, exchange):
    from app.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        add_member(exchange.project, make.user(Role.GUEST), ProjectRole.STUDENT)
    with pytest.raises(InvalidInput):
        add_member(exchange.project, exchange.helsinki.teacher, ProjectRole.VISITOR)
