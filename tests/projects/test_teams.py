"""Mixed teams: generated so that every team holds pupils of every partner class, balanced,
then moved and renamed by hand; only the project's teachers manage them, a pupil sees their own."""

from __future__ import annotations

import random
import re
from collections import Counter
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.modules.projects.models import Team, TeamMembership
from app.modules.projects.queries import team_of_student
from app.modules.projects.teams import (
    MAX_TEAM_SIZE,
    MIN_TEAM_SIZE,
    TeamMode,
    mixed_limit,
    plan_teams,
    size_first_count,
)
from tests.auth.conftest import count, text_of
from tests.conftest import post_form
from tests.matching.test_profile_pages import class_in, client_for
from tests.projects.conftest import build_exchange, plain_text


def groups_of(sizes):
    """Pupil ids 0… grouped by school, in the given sizes."""
    groups, next_id = {}, 0
    for school, size in enumerate(sizes):
        groups[school] = list(range(next_id, next_id + size))
        next_id += size
    return groups


def school_counts(plan, groups):
    school_of = {s: school for school, members in groups.items() for s in members}
    return [Counter(school_of[s] for s in team) for team in plan.teams]


def max_distance(sizes, asked):
    return max(abs(size - asked) for size in sizes)


def best_possible_distance(total, asked):
    """Brute force over every number of teams: the least worst-team distance from the size asked."""
    return min(max_distance({total // n, -(-total // n)}, asked) for n in range(1, total + 1))


sizes_strategy = st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=5)
size_strategy = st.integers(min_value=MIN_TEAM_SIZE, max_value=MAX_TEAM_SIZE)
mode_strategy = st.sampled_from(list(TeamMode))


@given(sizes=sizes_strategy, asked=size_strategy, mode=mode_strategy, seed=st.integers(0, 2**32))
def test_every_plan_is_complete_and_balanced(sizes, asked, mode, seed):
    groups = groups_of(sizes)
    plan = plan_teams(groups, asked, mode, random.Random(seed))  # noqa: S311 (reproducible)
    total = sum(sizes)

    placed = [s for team in plan.teams for s in team]
    assert sorted(placed) == list(range(total))  # everyone exactly once
    if total == 0:
        assert plan.teams == ()
        return
    assert all(plan.teams)  # no empty team
    assert plan.largest_size - plan.smallest_size <= 1
    for school in groups:
        per_team = [counts[school] for counts in school_counts(plan, groups)]
        assert max(per_team) - min(per_team) <= 1
    assert plan.mixed_teams == sum(1 for counts in school_counts(plan, groups) if len(counts) >= 2)
    assert plan.school_count == sum(1 for n in sizes if n)


@given(sizes=sizes_strategy, asked=size_strategy)
def test_size_first_comes_as_close_to_the_size_asked_as_any_number_of_teams(sizes, asked):
    total = sum(sizes)
    plan = plan_teams(groups_of(sizes), asked, TeamMode.SIZE_FIRST)
    if total == 0:
        return
    best = best_possible_distance(total, asked)
    assert max_distance(map(len, plan.teams), asked) == best
    if total >= MIN_TEAM_SIZE:
        assert plan.smallest_size >= MIN_TEAM_SIZE  # nobody alone in a team
    if best <= 1:  # some number of teams keeps every team within ±1 of the size asked: this one does
        assert all(asked - 1 <= len(team) <= asked + 1 for team in plan.teams)
    # The smallest school goes one pupil per team as far as it goes.
    present = sorted(n for n in sizes if n)
    if len(present) >= 2:
        assert plan.smallest_school_teams == min(present[0], len(plan.teams))


@given(sizes=sizes_strategy, asked=size_strategy)
def test_mixed_mixes_every_team_with_as_many_teams_as_possible(sizes, asked):
    groups = groups_of(sizes)
    plan = plan_teams(groups, asked, TeamMode.MIXED)
    total = sum(sizes)
    present = [n for n in sizes if n]
    if len(present) < 2:  # nothing to mix with: the size decides alone
        assert len(plan.teams) == size_first_count(total, asked)
        return
    assert all(len(counts) >= 2 for counts in school_counts(plan, groups))
    assert plan.mixed_teams == len(plan.teams)
    largest = max(present)
    limit = min(total - largest, total // 2)
    assert mixed_limit(sizes) == limit
    assert len(plan.teams) == min(size_first_count(total, asked), limit)


@pytest.mark.parametrize("sizes", [(1, 1), (3, 1), (2, 2), (5, 2), (3, 3), (2, 2, 2), (4, 1, 1), (1, 1, 1), (4, 0)])
def test_one_team_more_than_the_mixed_limit_cannot_all_be_mixed(sizes):
    """Exhaustively, for small classes: no way to put the pupils into limit + 1 teams that are
    all mixed (and limit teams can be, as plan_teams shows above)."""
    limit = mixed_limit(sizes)
    labels = [school for school, n in enumerate(sizes) for _ in range(n)]
    teams = limit + 1
    if not labels or teams > len(labels):
        return

    def all_mixed(assignment):
        members = [set() for _ in range(teams)]
        for label, team in zip(labels, assignment, strict=True):
            members[team].add(label)
        return all(len(m) >= 2 for m in members)

    assert not any(all_mixed(a) for a in product(range(teams), repeat=len(labels)))


@pytest.mark.parametrize("asked", [2, 3, 4, 5, 6, 8])
def test_classes_of_22_and_4(asked):
    groups = {"big": list(range(22)), "small": list(range(100, 104))}
    small = set(groups["small"])

    sized = plan_teams(groups, asked, TeamMode.SIZE_FIRST)
    assert all(asked - 1 <= len(team) <= asked + 1 for team in sized.teams)
    assert sum(1 for team in sized.teams if small & set(team)) == min(4, len(sized.teams))
    assert all(len(small & set(team)) <= 1 for team in sized.teams) or len(sized.teams) < 4
    assert sized.unmixed_teams == max(0, len(sized.teams) - 4)

    mixed = plan_teams(groups, asked, TeamMode.MIXED)
    assert all(small & set(team) and set(team) - small for team in mixed.teams)
    assert len(mixed.teams) == min(4, len(sized.teams))


def test_the_case_from_the_issue_22_and_4_at_four_per_team():
    groups = {"big": list(range(22)), "small": list(range(100, 104))}
    sized = plan_teams(groups, 4, TeamMode.SIZE_FIRST)
    assert sorted(map(len, sized.teams)) == [3, 3, 4, 4, 4, 4, 4]  # 26 pupils, not four teams of 7
    assert (sized.smallest_school_teams, sized.unmixed_teams) == (4, 3)
    mixed = plan_teams(groups, 4, TeamMode.MIXED)
    assert sorted(map(len, mixed.teams)) == [6, 6, 7, 7]


def test_three_schools_and_an_empty_one():
    groups = {1: list(range(10)), 2: [100, 101, 102], 3: [200, 201], 4: []}
    mixed = plan_teams(groups, 3, TeamMode.MIXED)
    assert len(mixed.teams) == 5  # 15 pupils at 3 per team; 5 pupils outside the largest school
    assert mixed.mixed_teams == 5 and mixed.school_count == 3
    sized = plan_teams(groups, 2, TeamMode.SIZE_FIRST)
    assert len(sized.teams) == 7 and sized.smallest_school_teams == 2
    assert plan_teams({1: [], 2: []}, 4).teams == ()
    alone = plan_teams({1: list(range(9)), 2: []}, 4, TeamMode.MIXED)
    assert len(alone.teams) == 2 and alone.mixed_teams == 0


def test_the_same_seed_gives_the_same_teams():
    groups = {1: list(range(12)), 2: list(range(100, 105))}
    first = plan_teams(groups, 4, TeamMode.SIZE_FIRST, random.Random(7))  # noqa: S311
    assert first == plan_teams(groups, 4, TeamMode.SIZE_FIRST, random.Random(7))  # noqa: S311
    assert plan_teams(groups, 4, TeamMode.SIZE_FIRST).teams[0] == (0, 4, 8, 100, 104)  # no rng: order kept


def generate(client, exchange, size="2", mode="mixed"):
    data = {"team_size": size, "mode": mode}
    return post_form(client, f"{exchange.path}/teams/generate", data, page=f"{exchange.path}/teams")


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
    assert "formed 2 teams." in text_of(client.get(exchange.path))

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


def flash_text(response) -> str:
    match = re.search(r'<div class="flashes" role="status">(.*?)</div>', text_of(response), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def team_schools(exchange):
    porto_ids = {s.id for s in exchange.porto_pupils}
    teams = db.session.query(Team).filter_by(project_id=exchange.project.id).order_by(Team.position).all()
    return [
        (
            sum(m.student_id in porto_ids for m in t.memberships),
            sum(m.student_id not in porto_ids for m in t.memberships),
        )
        for t in teams
    ]


@pytest.mark.parametrize(
    ("mode", "shape", "summary"),
    [
        (
            "size_first",
            4,
            "4 teams of 3 pupils. The smaller school has one pupil in each of 2 teams. "
            "2 teams have pupils of one school only.",
        ),
        (
            "mixed",
            2,
            "2 teams of 6 pupils. Every team has pupils of at least two schools. "
            "The teams are larger than asked because the smaller school has only 2 pupils.",
        ),
    ],
)
def test_the_chosen_mode_is_honoured_and_summed_up(app, make, mode, shape, summary):
    exchange = build_exchange(make, porto_pupils=10, helsinki_pupils=2)
    client = client_for(app, exchange.porto.teacher)
    response = generate(client, exchange, "3", mode)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert flash_text(page) == summary
    # Counts only: no pupil is named in the summary.
    assert not any(s.display_name in flash_text(page) for s in exchange.porto_pupils + exchange.helsinki_pupils)
    shares = team_schools(exchange)
    assert len(shares) == shape
    if mode == "mixed":
        assert all(porto and helsinki for porto, helsinki in shares)
    else:
        assert sorted(helsinki for _porto, helsinki in shares) == [0, 0, 1, 1]
        assert {porto + helsinki for porto, helsinki in shares} == {3}


def test_an_unknown_mode_is_refused(app, exchange):
    response = generate(client_for(app, exchange.porto.teacher), exchange, "3", "biggest")
    assert response.status_code == 400
    assert "Not a valid choice." in text_of(response)
    assert count(Team) == 0


def test_the_form_offers_the_last_size_and_mode_again(app, exchange):
    client = client_for(app, exchange.porto.teacher)
    page = text_of(client.get(f"{exchange.path}/teams"))
    assert re.search(r'<input checked[^>]*value="mixed"', page) and 'value="4"' in page
    generate(client, exchange, "3", "size_first")
    page = text_of(client.get(f"{exchange.path}/teams"))
    assert re.search(r'<input checked[^>]*value="size_first"', page) and 'value="3"' in page


@pytest.mark.parametrize(
    ("groups", "asked", "mode", "summary"),
    [
        (
            {1: range(10), 2: range(100, 103), 3: range(200, 202)},
            2,
            TeamMode.SIZE_FIRST,
            "7 teams of 2–3 pupils. The smallest school has one pupil in each of 2 teams. "
            "2 teams have pupils of one school only.",
        ),
        (
            {1: range(22), 2: range(100, 104)},
            4,
            TeamMode.SIZE_FIRST,
            "7 teams of 3–4 pupils. The smaller school has one pupil in each of 4 teams. "
            "3 teams have pupils of one school only.",
        ),
        (
            {1: range(9), 2: []},
            4,
            TeamMode.MIXED,
            "2 teams of 4–5 pupils. Only one school has pupils yet, so no team can be mixed.",
        ),
        (
            {1: range(3), 2: [100]},
            4,
            TeamMode.SIZE_FIRST,
            "1 team of 4 pupils. The smaller school has pupils in every team. "
            "Every team has pupils of at least two schools.",
        ),
    ],
)
def test_the_summary_counts_what_was_done(app, groups, asked, mode, summary):
    from app.modules.projects.team_controllers import team_summary

    plan = plan_teams({school: list(ids) for school, ids in groups.items()}, asked, mode)
    with app.test_request_context():
        assert team_summary(plan) == summary
