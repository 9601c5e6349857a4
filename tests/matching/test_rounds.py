"""Matching rounds: a coordinator opens one, teachers opt classes in, the opener computes the
best pairing, teachers confirm or decline, and classes left over learn why in plain words."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.core.db import utcnow
from app.extensions import db
from app.modules.matching.models import MatchingRound, ProposalAnswer, RoundEntry, RoundProposal, RoundStatus
from app.modules.notifications.models import Notification
from app.modules.projects.models import Project
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import post_form
from tests.matching.test_profile_pages import add_profile, class_in, client_for


def open_round(client, title="Spring 2027", until=None):
    until = until or (utcnow().date() + timedelta(days=14))
    return post_form(
        client, "/partners/rounds/new", {"title": title, "opt_in_until": until.isoformat()}, page="/partners/rounds/new"
    )


def opt_in(client, round_id, school_class):
    return post_form(
        client, f"/partners/rounds/{round_id}/opt-in", {"class_id": str(school_class.id)}, page="/dashboard"
    )


@pytest.fixture
def round_setup(app, make):
    coordinator = make.coordinator(make.school(country="DE", city="Nuremberg", timezone="Europe/Berlin"))
    opener = client_for(app, coordinator)
    assert open_round(opener).status_code == 302
    matching_round = db.session.query(MatchingRound).one()
    porto = class_in(make, "PT", name="Cozinha 11A")
    add_profile(porto, isced="1013")
    valencia = class_in(make, "ES", name="Cocina 1")
    add_profile(valencia, isced="1013")
    lisbon = class_in(make, "PT", name="Pastelaria 10C")  # only Portuguese and Spanish classes: one is left
    add_profile(lisbon, isced="1013")
    for school_class in (porto, valencia, lisbon):
        assert opt_in(client_for(app, school_class.teacher), matching_round.id, school_class).status_code == 302
    return {
        "round": matching_round,
        "opener": opener,
        "coordinator": coordinator,
        "porto": porto,
        "valencia": valencia,
        "lisbon": lisbon,
    }


def compute(client, round_id):
    return post_form(client, f"/partners/rounds/{round_id}/compute", {}, page="/dashboard")


def answer(client, proposal, school_class, action):
    path = f"/partners/proposals/{proposal.id}/{school_class.id}/{action}"
    return post_form(client, path, {}, page="/dashboard")


def test_a_coordinator_or_an_admin_opens_a_round(app, make):
    coordinator = client_for(app, make.coordinator())
    response = open_round(coordinator, title="  Spring 2027  ")
    assert response.status_code == 302, text_of(response)[-3000:]
    matching_round = db.session.query(MatchingRound).one()
    assert response.headers["Location"].endswith(f"/partners/rounds/{matching_round.id}")
    assert (matching_round.title, matching_round.status) == ("Spring 2027", RoundStatus.OPEN)
    assert "Spring 2027" in text_of(coordinator.get("/partners/rounds"))
    assert open_round(client_for(app, make.admin()), title="Autumn").status_code == 302
    assert count(MatchingRound) == 2


@pytest.mark.parametrize("role", ["teacher", "student"])
def test_teachers_and_students_cannot_open_a_round(app, make, role):
    user = make.teacher() if role == "teacher" else make.student()
    client = client_for(app, user)
    assert client.get("/partners/rounds/new").status_code == 403
    response = post_form(
        client, "/partners/rounds/new", {"title": "x", "opt_in_until": "2030-01-01"}, page="/dashboard"
    )
    assert response.status_code == 403
    assert count(MatchingRound) == 0


def test_a_round_needs_a_title_and_a_future_date(app, make):
    client = client_for(app, make.coordinator())
    response = open_round(client, title="Late", until=date(2020, 1, 1))
    assert response.status_code == 400
    assert field_error(response, "opt_in_until") == "The date cannot be in the past."
    assert count(MatchingRound) == 0


def test_opting_in_needs_a_profile_and_the_class_own_teacher(app, make, round_setup):
    matching_round = round_setup["round"]
    bare = class_in(make, "IT")
    teacher = client_for(app, bare.teacher)
    response = opt_in(teacher, matching_round.id, bare)
    assert response.status_code == 400
    assert "Fill in the class's partner profile before opting it in." in field_error(response, "class_id")

    colleague = client_for(app, make.teacher(round_setup["porto"].school))
    assert opt_in(colleague, matching_round.id, round_setup["porto"]).status_code == 400  # not among their classes
    assert count(RoundEntry) == 3
    # Twice is refused too.
    again = opt_in(client_for(app, round_setup["porto"].teacher), matching_round.id, round_setup["porto"])
    assert again.status_code == 400 and count(RoundEntry) == 3


def test_opting_in_after_the_deadline_is_refused(app, make, round_setup):
    matching_round = round_setup["round"]
    matching_round.opt_in_until = utcnow().date() - timedelta(days=1)
    db.session.flush()
    late = class_in(make, "IT")
    add_profile(late)
    response = opt_in(client_for(app, late.teacher), matching_round.id, late)
    assert response.status_code == 400
    assert "This round no longer takes classes." in text_of(response)


def test_compute_confirm_and_an_exchange_starts(app, make, round_setup):
    matching_round, porto, valencia, lisbon = (round_setup[k] for k in ("round", "porto", "valencia", "lisbon"))
    response = compute(round_setup["opener"], matching_round.id)
    assert response.status_code == 302

    db.session.expire_all()
    matching_round = db.session.get(MatchingRound, matching_round.id)
    assert matching_round.status == RoundStatus.PROPOSED and matching_round.computed_at is not None
    proposal = db.session.query(RoundProposal).one()
    paired = {proposal.class_a_id, proposal.class_b_id}
    assert valencia.id in paired and len(paired & {porto.id, lisbon.id}) == 1
    assert matching_round.total_score == pytest.approx(proposal.score)
    left = porto if porto.id not in paired else lisbon
    partner = lisbon if left is porto else porto
    entry = db.session.query(RoundEntry).filter_by(class_id=left.id).one()
    assert entry.unmatched_reason == "partners_taken"
    assert count(Notification, Notification.kind == "round_proposal") == 2
    assert count(Notification, Notification.kind == "round_unmatched", Notification.user_id == left.teacher_id) == 1

    # Everyone sees the class left over and why; each teacher sees their proposal with reasons.
    partner_teacher = client_for(app, partner.teacher)
    page = text_of(partner_teacher.get(f"/partners/rounds/{matching_round.id}"))
    assert "Classes without a partner" in page and left.name in page
    assert "Every class that fits was paired with another class that fitted it better." in page
    assert "Cocina 1" in page and re.search(r"Score \d+ of 100", page)
    assert "Same vocational field" in page

    assert answer(partner_teacher, proposal, partner, "confirm").status_code == 302
    assert count(Project) == 0
    response = answer(client_for(app, valencia.teacher), proposal, valencia, "confirm")
    db.session.expire_all()
    proposal = db.session.get(RoundProposal, proposal.id)
    assert proposal.answer_a == proposal.answer_b == ProposalAnswer.CONFIRMED
    project = db.session.get(Project, proposal.project_id)
    assert {link.class_id for link in project.classes} == {partner.id, valencia.id}
    assert response.headers["Location"].endswith(f"/exchanges/{project.id}")
    assert db.session.get(MatchingRound, matching_round.id).status == RoundStatus.CLOSED
    assert count(Notification, Notification.kind == "proposal_confirmed") == 2


def test_a_declined_proposal_starts_nothing_and_tells_the_partner(app, make, round_setup):
    compute(round_setup["opener"], round_setup["round"].id)
    proposal = db.session.query(RoundProposal).one()
    valencia = round_setup["valencia"]
    partner_id = proposal.class_a_id if proposal.class_b_id == valencia.id else proposal.class_b_id

    assert answer(client_for(app, valencia.teacher), proposal, valencia, "decline").status_code == 302

    db.session.expire_all()
    proposal = db.session.get(RoundProposal, proposal.id)
    assert ProposalAnswer.DECLINED in (proposal.answer_a, proposal.answer_b) and proposal.project_id is None
    partner = next(c for c in (round_setup["porto"], round_setup["lisbon"]) if c.id == partner_id)
    assert count(Notification, Notification.kind == "proposal_declined", Notification.user_id == partner.teacher_id)
    # Declined is final: the partner's confirmation no longer makes a project.
    assert answer(client_for(app, partner.teacher), proposal, partner, "confirm").status_code == 409
    assert count(Project) == 0


def test_only_the_opener_or_an_admin_computes_and_only_the_class_teacher_answers(app, make, round_setup):
    matching_round = round_setup["round"]
    other_coordinator = client_for(app, make.coordinator(make.school(country="IT", timezone="Europe/Rome")))
    assert compute(other_coordinator, matching_round.id).status_code == 403
    assert compute(client_for(app, round_setup["valencia"].teacher), matching_round.id).status_code == 403
    assert count(RoundProposal) == 0

    assert compute(client_for(app, make.admin()), matching_round.id).status_code == 302
    assert compute(round_setup["opener"], matching_round.id).status_code == 409  # already computed
    proposal = db.session.query(RoundProposal).one()
    valencia = round_setup["valencia"]
    for intruder in (
        make.teacher(valencia.school),
        make.coordinator(valencia.school),
        round_setup["coordinator"],
        make.student(valencia),
    ):
        assert answer(client_for(app, intruder), proposal, valencia, "confirm").status_code == 403
    db.session.expire_all()
    proposal = db.session.get(RoundProposal, proposal.id)
    assert proposal.answer_a == proposal.answer_b == ProposalAnswer.PENDING


def test_a_class_alone_in_a_round_is_told_why(app, make):
    opener = client_for(app, make.coordinator())
    open_round(opener)
    matching_round = db.session.query(MatchingRound).one()
    porto, lisbon = class_in(make, "PT"), class_in(make, "PT")
    for school_class in (porto, lisbon):
        add_profile(school_class)
        opt_in(client_for(app, school_class.teacher), matching_round.id, school_class)

    compute(opener, matching_round.id)

    db.session.expire_all()
    assert {e.unmatched_reason for e in db.session.query(RoundEntry)} == {"same_country"}
    assert db.session.get(MatchingRound, matching_round.id).status == RoundStatus.CLOSED
    page = text_of(opener.get(f"/partners/rounds/{matching_round.id}"))
    assert (
        "No class in the round could be paired with it. The most common obstacle: Both classes are in the same" in page
    )


def test_students_cannot_see_rounds(app, make, round_setup):
    student = client_for(app, make.student(round_setup["porto"]))
    assert student.get("/partners/rounds").status_code == 403
    assert student.get(f"/partners/rounds/{round_setup['round'].id}").status_code == 403
