"""Mixed teams: generated so that every team holds pupils of every partner class, balanced,
then moved and renamed by hand; only the project's teachers manage them, a pupil sees their own."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.modules.projects.models import Team, TeamMembership
from app.modules.projects.queries import team_of_student
from app.modules.projects.teams import MAX_TEAM_SIZE, MIN_TEAM_SIZE, split_into_teams, team_count
from tests.auth.conftest import count, text_of
from tests.conftest import post_form
from tests.matching.test_profile_pages import class_in, client_for
from tests.projects.conftest import build_exchange, plain_text


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=30), min_size=2, max_size=5),
    team_size=st.integers(min_value=MIN_TEAM_SIZE, max_value=MAX_TEAM_SIZE),
)
def test_generated_teams_are_mixed_and_balanced(sizes, team_size):
    students = {}
    next_id = 0
    for class_id, size in enumerate(sizes):
        students[class_id] = list(range(next_id, next_id + size))
        next_id += size
    class_of = {s: c for c, members in students.items() for s in members}

    teams = split_into_teams(students, team_size)

    placed = [s for team in teams for s in team]
    assert sorted(placed) == list(range(next_id))  # everyone exactly once
    if next_id == 0:
        assert teams == []
        return
    assert len(teams) == team_count(sizes, team_size) >= 1
    assert max(map(len, teams)) - min(map(len, teams)) <= 1
    for class_id, members in students.items():
        per_team = [sum(1 for s in team if class_of[s] == class_id) for team in teams]
        assert max(per_team) - min(per_team) <= 1
        if members and all(sizes):  # enough pupils: every class in every team
            assert min(per_team) >= 1


def test_every_class_in_every_team_even_when_one_class_is_small():
    teams = split_into_teams({1: list(range(10)), 2: [100, 101]}, team_size=3)
    assert len(teams) == 2  # four teams were wished, but class 2 has only two pupils
    assert all({s >= 100 for s in team} == {False, True} for team in teams)


def generate(client, exchange, size="2"):
    return post_form(client, f"{exchange.path}/teams/generate", {"team_size": size}, page=f"{exchange.path}/teams")


def test_a_teacher_generates_mixed_teams(app, make):
    exchange = build_exchange(make, porto_pupils=4, helsinki_pupils=3)
    client = client_for(app, exchange.helsinki.teacher)
    response = generate(client, exchange, "3")
    assert response.status_code == 302
    teams = db.session.query(Team).filter_by(project_id=exchange.project.id).order_by(Team.position).all()
    assert [t.name for t in teams] == ["Team 1", "Team 2"]
    porto_ids = {s.id for s in exchange.porto_pupils}
    for team in teams:
        members = {m.student_id for m in team.memberships}
        assert members & porto_ids and members - porto_ids
    page = plain_text(client.get(f"{exchange.path}/teams"))
    assert "Team 1" in page and "Helsinki · Kokki 2B" in page
    assert "formed 2 mixed teams." in text_of(client.get(exchange.path))

    # Forming again replaces the teams, it does not add to them.
    assert generate(client, exchange, "2").status_code == 302
    assert count(Team) == 3 and count(TeamMembership) == 7


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("1", "Number must be between 2 and 12."),
        ("", "This field is required."),
        ("lots", "Not a valid integer value."),
    ],
)
def test_a_bad_team_size_is_refused(app, exchange, size, message):
    client = client_for(app, exchange.porto.teacher)
    response = generate(client, exchange, size)
    assert response.status_code == 400
    assert message in text_of(response)
    assert count(Team) == 0


def test_no_pupils_no_teams(app, make):
    exchange = build_exchange(make, porto_pupils=0, helsinki_pupils=0)
    response = generate(client_for(app, exchange.porto.teacher), exchange)
    assert response.status_code == 400
    assert "The partner classes have no pupils yet" in text_of(response)
    assert count(Team) == 0


def test_moving_and_renaming_by_hand(app, exchange):
    client = client_for(app, exchange.porto.teacher)
    generate(client, exchange, "3")
    team_1, team_2 = db.session.query(Team).order_by(Team.position).all()
    pupil = next(m.student for m in team_1.memberships)

    response = post_form(
        client, f"{exchange.path}/teams/move", {"student_id": pupil.id, "team_id": team_2.id}, page=exchange.path
    )
    assert response.status_code == 302, plain_text(response)[-1500:]
    db.session.expire_all()
    assert team_of_student(exchange.project, pupil.id).id == team_2.id
    assert count(TeamMembership, TeamMembership.student_id == pupil.id) == 1

    response = post_form(
        client, f"{exchange.path}/teams/{team_2.id}/rename", {"name": " Los  Cocineros "}, page=exchange.path
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Team, team_2.id).name == "Los Cocineros"
    page = text_of(client.get(exchange.path))
    assert f"moved {pupil.display_name} to Team 2." in page and "renamed the team Team 2 to Los Cocineros." in page


def test_bad_moves_and_names_change_nothing(app, make, exchange):
    client = client_for(app, exchange.porto.teacher)
    generate(client, exchange, "3")
    team_1, team_2 = db.session.query(Team).order_by(Team.position).all()
    other = build_exchange(make, 2, 2)
    generate(client_for(app, other.porto.teacher), other, "2")
    foreign_team = db.session.query(Team).filter_by(project_id=other.project.id).first()
    stranger = make.student()
    pupil = exchange.porto_pupils[0]
    before = team_of_student(exchange.project, pupil.id).id

    for data in [
        {"student_id": stranger.id, "team_id": team_2.id},
        {"student_id": pupil.id, "team_id": foreign_team.id},
        {"student_id": "x", "team_id": team_2.id},
    ]:
        response = post_form(client, f"{exchange.path}/teams/move", data, page=exchange.path)
        assert response.status_code == 400, data
        assert "Please correct the marked fields." in text_of(response)
        assert "Not a valid choice." in text_of(response) or "could not coerce" in text_of(response)
    for name, message in [("", "This field is required."), ("x" * 81, "Field cannot be longer than 80 characters.")]:
        response = post_form(client, f"{exchange.path}/teams/{team_1.id}/rename", {"name": name}, page=exchange.path)
        assert response.status_code == 400
        assert message in text_of(response)
    assert (
        post_form(
            client, f"{exchange.path}/teams/{foreign_team.id}/rename", {"name": "Mine"}, page=exchange.path
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert team_of_student(exchange.project, pupil.id).id == before
    assert db.session.get(Team, team_1.id).name == "Team 1"
    assert db.session.get(Team, foreign_team.id).name == "Team 1"


def test_pupils_see_only_their_own_team_and_cannot_manage(app, exchange):
    generate(client_for(app, exchange.porto.teacher), exchange, "3")
    pupil = exchange.helsinki_pupils[0]
    mine = team_of_student(exchange.project, pupil.id)
    client = client_for(app, pupil)
    page = plain_text(client.get(f"{exchange.path}/teams"))
    assert mine.name in page
    other = "Team 2" if mine.name == "Team 1" else "Team 1"
    assert other not in page
    assert "Form new teams" not in page and "Move a pupil" not in page
    assert generate(client, exchange).status_code == 403
    response = post_form(client, f"{exchange.path}/teams/{mine.id}/rename", {"name": "Ours"}, page=exchange.path)
    assert response.status_code == 403
    assert "Only the teachers of this exchange can do this." in text_of(response)
    assert count(Team) == 2


def test_a_pupil_who_left_the_class_disappears_from_the_teams(app, make, exchange):
    from app.auth.models import ClassMembership

    client = client_for(app, exchange.porto.teacher)
    generate(client, exchange, "3")
    gone = exchange.porto_pupils[0]
    db.session.query(ClassMembership).filter_by(student_id=gone.id).delete()
    db.session.flush()
    assert gone.display_name not in plain_text(client.get(f"{exchange.path}/teams"))


def test_visitors_and_strangers_do_not_see_teams(app, make, exchange):
    assert client_for(app, make.coordinator(exchange.porto.school)).get(f"{exchange.path}/teams").status_code == 403
    assert client_for(app, class_in(make, "IT").teacher).get(f"{exchange.path}/teams").status_code == 403


def test_teams_are_counted_per_class():
    teams = split_into_teams({1: [1, 2, 3, 4, 5], 2: [6, 7, 8, 9, 10, 11, 12]}, team_size=4)
    assert Counter(len(t) for t in teams) == Counter({4: 3})
