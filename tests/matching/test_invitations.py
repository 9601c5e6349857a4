"""Invitations between classes: only a class's own teacher invites for it and answers for it;
the partner is notified in the app (and live), an acceptance starts an exchange project."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.modules.matching.models import ClassProfile, Invitation, InvitationStatus
from app.modules.notifications.models import Notification
from app.modules.projects.models import Project, ProjectClass
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import log_in, post_form
from tests.matching.test_profile_pages import add_profile, class_in, client_for


@pytest.fixture
def pair(make):
    mine = class_in(make, "PT", name="Cozinha 11A")
    add_profile(mine)
    theirs = class_in(make, "ES", name="Cocina 1")
    add_profile(theirs)
    return mine, theirs


def invite(client, mine, theirs, message="Olá! We cook with local produce."):
    path = f"/partners/classes/{mine.id}/invite/{theirs.id}"
    return post_form(client, path, {"message": message}, page=path)


def answer(client, invitation_id: int, action: str):
    return post_form(client, f"/partners/invitations/{invitation_id}/{action}", {}, page="/partners")


@pytest.fixture
def emitted(monkeypatch):
    """Socket.IO events sent after commit: (event, data, room)."""
    from app.realtime import emit

    sent = []
    monkeypatch.setattr(emit.socketio, "emit", lambda event, data, to=None: sent.append((event, data, to)))
    return sent


def test_invite_notify_accept_and_both_see_the_exchange(app, client, make, pair, emitted):
    mine, theirs = pair
    log_in(client, mine.teacher)
    invite_page = text_of(client.get(f"/partners/classes/{mine.id}/invite/{theirs.id}"))
    assert "Invite Cocina 1" in invite_page and "Score " in invite_page

    response = invite(client, mine, theirs)

    assert response.status_code == 302
    invitation = db.session.query(Invitation).one()
    assert (invitation.from_class_id, invitation.to_class_id, invitation.status) == (
        mine.id,
        theirs.id,
        InvitationStatus.PENDING,
    )
    assert invitation.message == "Olá! We cook with local produce." and 0 < invitation.score <= 1
    notification = db.session.query(Notification).filter_by(user_id=theirs.teacher_id).one()
    assert notification.kind == "invitation_received" and notification.read_at is None
    assert ("notification", {"id": notification.id, "kind": "invitation_received"}, f"user:{theirs.teacher_id}") in (
        emitted
    )

    # The partner teacher sees the unread count, the notification, and the invitation.
    partner = client_for(app, theirs.teacher)
    dashboard = text_of(partner.get("/dashboard"))
    assert 'data-unread-count data-unread-label="unread">1<' in dashboard
    assert "Invitations waiting for your answer" in dashboard
    page = text_of(partner.get("/notifications"))
    assert f"{mine.teacher.display_name} invites your class Cocina 1 to an exchange with Cozinha 11A." in page
    opened = post_form(partner, f"/notifications/{notification.id}/open", {}, page="/notifications")
    assert opened.headers["Location"].endswith(f"/partners/invitations/{invitation.id}")
    db.session.expire_all()
    assert db.session.get(Notification, notification.id).read_at is not None
    detail = text_of(partner.get(f"/partners/invitations/{invitation.id}"))
    assert "Olá! We cook with local produce." in detail and "Accept and start the exchange" in detail

    response = answer(partner, invitation.id, "accept")

    db.session.expire_all()
    invitation = db.session.get(Invitation, invitation.id)
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.responded_by_id == theirs.teacher_id
    project = db.session.get(Project, invitation.project_id)
    assert project.title == "Cozinha 11A × Cocina 1"
    assert {link.class_id for link in project.classes} == {mine.id, theirs.id}
    assert response.headers["Location"].endswith(f"/exchanges/{project.id}")
    accepted = db.session.query(Notification).filter_by(user_id=mine.teacher_id, kind="invitation_accepted").one()
    assert accepted.link == f"/exchanges/{project.id}"

    # Both teachers see the new exchange, on its page and on their dashboards.
    for viewer in (client, partner):
        assert "Cozinha 11A × Cocina 1" in text_of(viewer.get(f"/exchanges/{project.id}"))
        assert "Cozinha 11A × Cocina 1" in text_of(viewer.get("/dashboard"))
    assert "Cocina 1 accepted the invitation of Cozinha 11A" in text_of(client.get("/notifications"))


def test_a_declined_invitation_notifies_the_inviter_and_starts_nothing(app, client, make, pair):
    mine, theirs = pair
    log_in(client, mine.teacher)
    invite(client, mine, theirs)
    invitation = db.session.query(Invitation).one()

    answer(client_for(app, theirs.teacher), invitation.id, "decline")

    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == InvitationStatus.DECLINED
    assert count(Project) == 0
    assert count(Notification, Notification.user_id == mine.teacher_id, Notification.kind == "invitation_declined") == 1
    # Declined, the two classes may try again later.
    assert invite(client, mine, theirs).status_code == 302


def test_a_duplicate_pending_invitation_is_refused_in_either_direction(app, client, make, pair):
    mine, theirs = pair
    log_in(client, mine.teacher)
    assert invite(client, mine, theirs).status_code == 302

    again = invite(client, mine, theirs)
    assert again.status_code == 409
    assert "An invitation between these two classes is already waiting for an answer." in text_of(again)

    back = client_for(app, theirs.teacher)
    assert invite(back, theirs, mine).status_code == 409
    assert count(Invitation) == 1
    assert count(Notification) == 1


def test_the_message_has_a_length_limit(client, make, pair):
    mine, theirs = pair
    log_in(client, mine.teacher)
    response = invite(client, mine, theirs, message="x" * 1001)
    assert response.status_code == 400
    assert "Field cannot be longer than 1000 characters." in field_error(response, "message")
    assert count(Invitation) == 0


def test_a_class_that_breaks_a_hard_constraint_cannot_be_invited(client, make, pair):
    mine, _theirs = pair
    compatriot = class_in(make, "PT", name="Restaurante 12B")
    add_profile(compatriot)
    log_in(client, mine.teacher)
    response = invite(client, mine, compatriot)
    assert response.status_code == 400
    assert "Both classes are in the same country." in text_of(response)
    assert count(Invitation) == 0


@pytest.mark.parametrize("who", ["colleague", "own_coordinator", "other_coordinator", "student", "partner_teacher"])
def test_only_the_class_own_teacher_can_invite_for_it(app, make, pair, who):
    mine, theirs = pair
    people = {
        "colleague": lambda: make.teacher(mine.school),
        "own_coordinator": lambda: make.coordinator(mine.school),
        "other_coordinator": lambda: make.coordinator(theirs.school),
        "student": lambda: make.student(mine),
        "partner_teacher": lambda: theirs.teacher,
    }
    user = people[who]()
    client = client_for(app, user)
    path = f"/partners/classes/{mine.id}/invite/{theirs.id}"
    assert client.get(path).status_code == 403
    assert post_form(client, path, {"message": "hi"}, page="/dashboard").status_code == 403
    assert count(Invitation) == 0


@pytest.mark.parametrize("who", ["inviter", "colleague", "own_coordinator", "other_coordinator", "student"])
def test_only_the_invited_class_own_teacher_can_accept(app, client, make, pair, who):
    mine, theirs = pair
    log_in(client, mine.teacher)
    invite(client, mine, theirs)
    invitation = db.session.query(Invitation).one()
    people = {
        "inviter": lambda: mine.teacher,
        "colleague": lambda: make.teacher(theirs.school),
        "own_coordinator": lambda: make.coordinator(theirs.school),
        "other_coordinator": lambda: make.coordinator(make.school(country="IT", timezone="Europe/Rome")),
        "student": lambda: make.student(theirs),
    }
    user = people[who]()
    other = client if who == "inviter" else client_for(app, user)
    page = "/dashboard"
    response = post_form(other, f"/partners/invitations/{invitation.id}/accept", {}, page=page)
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == InvitationStatus.PENDING
    assert count(Project) == 0 and count(ProjectClass) == 0


def test_an_answered_invitation_cannot_be_answered_again(app, client, make, pair):
    mine, theirs = pair
    log_in(client, mine.teacher)
    invite(client, mine, theirs)
    invitation = db.session.query(Invitation).one()
    partner = client_for(app, theirs.teacher)
    answer(partner, invitation.id, "accept")
    assert answer(partner, invitation.id, "decline").status_code == 409
    assert count(Project) == 1


def test_the_inviter_can_withdraw_a_pending_invitation(client, make, pair):
    mine, theirs = pair
    log_in(client, mine.teacher)
    invite(client, mine, theirs)
    invitation = db.session.query(Invitation).one()
    assert answer(client, invitation.id, "withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == InvitationStatus.WITHDRAWN


def test_an_exchange_is_seen_only_by_its_people(app, client, make, pair):
    mine, theirs = pair
    log_in(client, mine.teacher)
    invite(client, mine, theirs)
    invitation = db.session.query(Invitation).one()
    answer(client_for(app, theirs.teacher), invitation.id, "accept")
    db.session.expire_all()
    project_id = db.session.get(Invitation, invitation.id).project_id
    stranger = client_for(app, make.teacher(make.school(country="IT", timezone="Europe/Rome")))
    assert stranger.get(f"/exchanges/{project_id}").status_code == 403
    assert client_for(app, make.coordinator(mine.school)).get(f"/exchanges/{project_id}").status_code == 200


def test_an_accepted_invitation_starts_from_what_both_profiles_say(app, make):
    from datetime import date

    from app.auth.models import ClassLanguage
    from tests.projects.conftest import plain_text

    mine = class_in(make, "PT", name="Cozinha 11A")
    theirs = class_in(make, "ES", name="Cocina 1")
    mine.languages[0].cefr_level = "B2"
    mine.languages.append(ClassLanguage(language="pt", cefr_level="C2"))
    theirs.languages.append(ClassLanguage(language="es", cefr_level="C2"))
    add_profile(mine, themes=["green_skills", "inclusion"]).free_tags = ["baking"]
    add_profile(
        theirs,
        themes=["inclusion", "digital_skills"],
        period_start=date(2027, 3, 1),
        period_end=date(2027, 6, 30),
    ).free_tags = ["HACCP", "baking"]
    db.session.flush()
    invite(client_for(app, mine.teacher), mine, theirs)
    invitation = db.session.query(Invitation).one()

    partner = client_for(app, theirs.teacher)
    response = answer(partner, invitation.id, "accept")

    db.session.expire_all()
    project = db.session.get(Project, db.session.get(Invitation, invitation.id).project_id)
    assert (project.period_start, project.period_end) == (date(2027, 3, 1), date(2027, 5, 28))
    assert project.languages == ["en"]
    assert project.themes == ["inclusion", "baking", "green_skills", "digital_skills", "HACCP"]
    # Both classes give Tue 09-12 and Thu 13-16 in their own time; Valencia is an hour ahead of
    # Porto, so they share Tue 09-11 and Thu 13-15 Porto time (the inviting class's school).
    assert project.slot_zone == "Europe/Lisbon"
    assert project.weekly_slots == [
        {"weekday": 1, "start": 540, "end": 660},
        {"weekday": 3, "start": 780, "end": 900},
    ]
    page = plain_text(partner.get(response.headers["Location"]))
    assert "You accepted: the exchange has started." in page and "no day in common" not in page
    assert "Mar 1, 2027 – May 28, 2027" in page
    assert "English (Cozinha 11A B2, Cocina 1 B1)" in page
    assert "Inclusion, baking, Green skills, Digital skills, HACCP" in page
    assert "In Porto: Tuesday 09:00–11:00, Thursday 13:00–15:00" in page
    assert "In Valencia: Tuesday 10:00–12:00, Thursday 14:00–16:00" in page


def test_periods_without_a_common_day_leave_the_period_empty_and_say_so(app, make, pair):
    from datetime import date

    from tests.projects.conftest import plain_text

    mine, theirs = pair
    invite(client_for(app, mine.teacher), mine, theirs)
    invitation = db.session.query(Invitation).one()
    # The partner's plans changed after the invitation: its period now starts after ours ends.
    profile = db.session.query(ClassProfile).filter_by(class_id=theirs.id).one()
    profile.period_start, profile.period_end = date(2027, 9, 1), date(2027, 12, 17)
    db.session.flush()

    partner = client_for(app, theirs.teacher)
    response = answer(partner, invitation.id, "accept")

    db.session.expire_all()
    project = db.session.get(Project, db.session.get(Invitation, invitation.id).project_id)
    assert project.period_start is None and project.period_end is None
    assert project.languages == ["en"] and project.themes == ["green_skills"]
    assert project.weekly_slots  # the weekly times do not depend on the dates
    page = plain_text(partner.get(response.headers["Location"]))
    assert "The two classes' exchange periods have no day in common, so the exchange has no period yet." in page
    assert "Period Not set yet." in page


@pytest.mark.parametrize(
    ("action", "by_inviter", "news_kind"),
    [("accept", False, "invitation_accepted"), ("decline", False, "invitation_declined"), ("withdraw", True, None)],
)
def test_a_settled_invitation_is_no_longer_new_in_the_notifications(
    app, client, make, pair, action, by_inviter, news_kind
):
    mine, theirs = pair
    log_in(client, mine.teacher)
    invite(client, mine, theirs)
    invitation = db.session.query(Invitation).one()
    partner = client_for(app, theirs.teacher)
    before = partner.get("/notifications").get_data(as_text=True)
    assert '<span class="visually-hidden">New: </span>' in before
    assert 'data-unread-count data-unread-label="unread">1<' in before

    # Answered from the invitation itself, without opening the notification first.
    assert answer(client if by_inviter else partner, invitation.id, action).status_code == 302

    db.session.expire_all()
    received = db.session.query(Notification).filter_by(user_id=theirs.teacher_id, kind="invitation_received").one()
    assert received.read_at is not None
    after = partner.get("/notifications").get_data(as_text=True)
    assert "New: " not in after and 'class="item unread"' not in after
    assert "Mark all as read" not in after
    assert 'data-unread-count data-unread-label="unread" hidden>0<' in after
    # The inviter's own news about the answer is new to them.
    if news_kind:
        news = db.session.query(Notification).filter_by(user_id=mine.teacher_id).one()
        assert news.kind == news_kind and news.read_at is None
