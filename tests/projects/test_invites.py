"""Invitation links: a teacher-admin makes one; a partner teacher brings a class in, a co-teacher
joins, a guest mentor or parent makes an account from the link; spent or revoked links stop."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from app.auth.models import Role, User
from app.auth.queries import classes_of_teacher
from app.core.db import utcnow
from app.extensions import db
from app.modules.projects import invites
from app.modules.projects.invites import MAX_USES, accept_invite, create_invite
from app.modules.projects.models import InviteKind, ProjectClass, ProjectInvite, ProjectMember, ProjectRole
from app.modules.projects.queries import project_role
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import PASSWORD, FreshContextClient, post_form
from tests.matching.test_profile_pages import class_in, client_for


def _make_link(client, exchange, kind: str, **fields) -> str:
    response = post_form(
        client,
        f"{exchange.path}/invites",
        {"kind": kind, "label": fields.get("label", ""), "valid_days": "14", "max_uses": fields.get("max_uses", "1")},
        page=f"{exchange.path}/people",
    )
    assert response.status_code == 200, text_of(response)[:500]
    link = re.search(r'id="invite-link" type="text" readonly value="([^"]+)"', text_of(response))
    assert link, "the new link is shown on the page"
    return unescape(link.group(1)).removeprefix("http://localhost")


def _anonymous(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


def test_a_partner_teacher_brings_a_third_class_in_with_a_link(app, make, exchange):
    admin = client_for(app, exchange.porto.teacher)
    link = _make_link(admin, exchange, "partner_class", label="Nuremberg bakers")
    assert "Nuremberg bakers" in text_of(admin.get(f"{exchange.path}/people"))

    nuremberg = class_in(make, "DE", name="Bäckerei 1")
    partner = client_for(app, nuremberg.teacher)
    page = text_of(partner.get(link))
    assert "Bäckerei 1" in page and "Cozinha 11A" in page

    response = post_form(partner, link, {"class_id": str(nuremberg.id)}, page=link)
    assert response.status_code == 302
    assert count(ProjectClass, ProjectClass.project_id == exchange.project.id) == 3
    assert project_role(exchange.project, nuremberg.teacher) == ProjectRole.TEACHER_ADMIN

    # The link was for one use: the next person gets a clear page, not an error trace.
    other = client_for(app, class_in(make, "ES").teacher)
    response = other.get(link)
    assert response.status_code == 404
    assert "no longer valid" in text_of(response)


def test_a_teacher_can_only_bring_in_a_class_of_their_own(app, make, exchange):
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.PARTNER_CLASS, "", 14, 1)
    db.session.flush()
    stranger_class = class_in(make, "IT")
    nuremberg = class_in(make, "DE")
    client = client_for(app, nuremberg.teacher)
    link = f"/join/{new.token}"
    response = post_form(client, link, {"class_id": str(stranger_class.id)}, page=link)
    assert response.status_code == 400
    assert "Choose one of your classes" in field_error(response, "class_id")
    assert count(ProjectClass, ProjectClass.project_id == exchange.project.id) == 2
    db.session.refresh(new.invite)
    assert new.invite.uses == 0  # a refused try does not spend the link


def test_a_guest_mentor_makes_an_account_from_the_link_and_lands_in_the_exchange(app, make, exchange):
    admin = client_for(app, exchange.helsinki.teacher)
    link = _make_link(admin, exchange, "guest_mentor", label="Mentor at Hotel Kämp")

    browser = _anonymous(app)
    page = text_of(browser.get(link))
    assert "Guest mentor" in page or "guest mentor" in page
    fields = {"display_name": "Mikko Mentor", "email": "Mikko@Hotel.example", "password": PASSWORD, "confirm": PASSWORD}
    response = post_form(browser, link, fields, page=link)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(exchange.path)

    mentor = db.session.query(User).filter_by(email="mikko@hotel.example").one()
    assert mentor.role == Role.GUEST
    assert project_role(exchange.project, mentor) == ProjectRole.GUEST_MENTOR
    assert browser.get(exchange.path).status_code == 200  # logged in by the same step
    assert exchange.project.title in text_of(browser.get("/dashboard"))  # and finds it again there
    # The mentor reads the exchange but is no teacher of it.
    assert browser.get(f"{exchange.path}/edit").status_code == 403


def test_an_account_form_with_a_taken_email_or_weak_password_keeps_the_link_unused(app, make, exchange):
    taken = make.teacher(email="ana@school.example")
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.VISITOR, "parents", 14, 30)
    db.session.flush()
    link = f"/join/{new.token}"
    browser = _anonymous(app)

    weak = {"display_name": "Parent", "email": "p@example.org", "password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa"}
    response = post_form(browser, link, weak, page=link)
    assert response.status_code == 400
    assert "too easy" in field_error(response, "password")

    fields = {"display_name": "Parent", "email": taken.email, "password": PASSWORD, "confirm": PASSWORD}
    response = post_form(browser, link, fields, page=link)
    assert response.status_code == 409
    assert "Log in with it" in text_of(response)

    db.session.refresh(new.invite)
    assert new.invite.uses == 0
    assert count(ProjectMember, ProjectMember.project_id == exchange.project.id) == 0


def test_a_logged_in_co_teacher_joins_and_a_pupil_cannot_use_a_link(app, make, exchange):
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.TEACHER, "", 14, 5)
    db.session.flush()
    link = f"/join/{new.token}"
    colleague = make.teacher(exchange.porto.school)
    client = client_for(app, colleague)
    assert post_form(client, link, {}, page=link).status_code == 302
    assert project_role(exchange.project, colleague) == ProjectRole.TEACHER
    pupil_home = text_of(client_for(app, exchange.porto_pupils[0]).get("/dashboard"))
    assert exchange.project.title in pupil_home

    again = post_form(client, link, {}, page=link)
    assert again.status_code == 409
    assert "already belong" in text_of(again)

    pupil = client_for(app, make.student())
    response = post_form(pupil, link, {}, page=link)
    assert response.status_code == 403
    assert count(ProjectMember, ProjectMember.project_id == exchange.project.id) == 1


def test_revoked_expired_and_closed_links_stop_working(app, make, exchange):
    revoked = create_invite(exchange.project, exchange.porto.teacher, InviteKind.VISITOR, "", 14, 5)
    expired = create_invite(exchange.project, exchange.porto.teacher, InviteKind.VISITOR, "", 14, 5)
    db.session.flush()
    expired.invite.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()

    admin = client_for(app, exchange.porto.teacher)
    response = post_form(
        admin, f"{exchange.path}/invites/{revoked.invite.id}/revoke", {}, page=f"{exchange.path}/people"
    )
    assert response.status_code == 302

    browser = _anonymous(app)
    assert browser.get(f"/join/{revoked.token}").status_code == 404
    assert browser.get(f"/join/{expired.token}").status_code == 404
    assert browser.get("/join/not-a-real-token").status_code == 404


def test_only_the_teacher_admins_make_links_and_limits_are_explicit(app, make, exchange):
    pupil = client_for(app, exchange.porto_pupils[0])
    response = post_form(
        pupil,
        f"{exchange.path}/invites",
        {"kind": "visitor", "valid_days": "14", "max_uses": "1"},
        page=f"{exchange.path}/people",
    )
    assert response.status_code == 403
    assert "Make a link" not in text_of(pupil.get(f"{exchange.path}/people"))

    admin = client_for(app, exchange.porto.teacher)
    response = post_form(
        admin,
        f"{exchange.path}/invites",
        {"kind": "visitor", "valid_days": "14", "max_uses": str(MAX_USES + 1)},
        page=f"{exchange.path}/people",
    )
    assert response.status_code == 400
    assert field_error(response, "max_uses")
    assert count(ProjectInvite, ProjectInvite.project_id == exchange.project.id) == 0


def test_a_teacher_admin_removes_an_outside_member(app, make, exchange):
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.GUEST_MENTOR, "", 14, 1)
    mentor = make.user(Role.GUEST)
    db.session.flush()
    accept_invite(new.invite, mentor)
    db.session.flush()
    member = db.session.query(ProjectMember).filter_by(user_id=mentor.id).one()

    admin = client_for(app, exchange.porto.teacher)
    response = post_form(admin, f"{exchange.path}/members/{member.id}/remove", {}, page=f"{exchange.path}/people")
    assert response.status_code == 302
    assert project_role(exchange.project, mentor) is None


def test_a_teacher_starts_an_exchange_with_a_known_partner(app, make):
    porto = class_in(make, "PT", name="Cozinha 12B")
    foreign = class_in(make, "IT")
    teacher = client_for(app, porto.teacher)

    refused = post_form(teacher, "/exchanges/new", {"class_id": str(foreign.id), "title": ""}, page="/exchanges/new")
    assert refused.status_code == 400
    assert field_error(refused, "class_id")

    response = post_form(
        teacher, "/exchanges/new", {"class_id": str(porto.id), "title": "Bread and code"}, page="/exchanges/new"
    )
    assert response.status_code == 302
    project = db.session.query(ProjectClass).filter_by(class_id=porto.id).one().project
    assert project.title == "Bread and code"
    assert response.headers["Location"].endswith(f"/exchanges/{project.id}/people")
    assert "Waiting for a partner class" in text_of(teacher.get(f"/exchanges/{project.id}"))

    pupil = client_for(app, make.student(porto))
    assert pupil.get("/exchanges/new").status_code == 403


# Two requests at once (a double click, two tabs): the second one's check can run before the
# first one's row is committed. These tests make the check miss a row that is already there,
# which is what the second request then meets; they show the insert's unique key answered
# with the same clear page as the check, not the timing of two real transactions.


def test_joining_twice_at_once_gives_the_already_member_page(app, make, exchange, monkeypatch):
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.TEACHER, "", 14, 5)
    colleague = make.teacher(exchange.porto.school)
    db.session.add(ProjectMember(project_id=exchange.project.id, user_id=colleague.id, role=ProjectRole.TEACHER))
    db.session.flush()
    monkeypatch.setattr(invites, "_already_member", lambda project, user: False)

    link = f"/join/{new.token}"
    response = post_form(client_for(app, colleague), link, {}, page=link)
    assert response.status_code == 409
    assert "You already belong to this exchange." in text_of(response)
    db.session.refresh(new.invite)
    assert new.invite.uses == 0
    assert count(ProjectMember, ProjectMember.project_id == exchange.project.id) == 1


def test_making_the_same_guest_account_twice_at_once_says_log_in(app, make, exchange, monkeypatch):
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.VISITOR, "parents", 14, 30)
    taken = make.teacher(email="parent@example.org")
    db.session.flush()
    monkeypatch.setattr(invites, "_account_exists", lambda email: False)

    link = f"/join/{new.token}"
    fields = {"display_name": "Parent", "email": taken.email, "password": PASSWORD, "confirm": PASSWORD}
    response = post_form(_anonymous(app), link, fields, page=link)
    assert response.status_code == 409
    assert "There is already an account with this e-mail." in text_of(response)
    db.session.refresh(new.invite)
    assert new.invite.uses == 0


def test_bringing_the_same_class_in_twice_at_once_says_it_is_in(app, make, exchange, monkeypatch):
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.PARTNER_CLASS, "", 14, 2)
    nuremberg = class_in(make, "DE", name="Bäckerei 1")
    db.session.add(ProjectClass(project_id=exchange.project.id, class_id=nuremberg.id))
    db.session.flush()
    # The check (and the form's choices) still offer the class, as before the other request's commit.
    monkeypatch.setattr(invites, "classes_that_may_join", lambda invite, user: classes_of_teacher(user))

    link = f"/join/{new.token}"
    response = post_form(client_for(app, nuremberg.teacher), link, {"class_id": str(nuremberg.id)}, page=link)
    assert response.status_code == 409
    assert "This class is already in this exchange." in text_of(response)
    db.session.refresh(new.invite)
    assert new.invite.uses == 0
    assert count(ProjectClass, ProjectClass.project_id == exchange.project.id) == 3


def test_a_guest_account_from_an_invite_refuses_weak_passwords(app, make, exchange):
    new = create_invite(exchange.project, exchange.porto.teacher, InviteKind.VISITOR, "parents", 14, 30)
    db.session.flush()
    link = f"/join/{new.token}"
    browser = _anonymous(app)

    for password, message in (
        ("12345678", "This password is one of the most used ones, so it is easy to guess."),
        ("crossclass", "Do not use the name CrossClass in your password"),
        ("rosa.lima kite lamp", "Your password must not contain your name, username or e-mail address"),
    ):
        fields = {"display_name": "Rosa Lima", "email": "rosa.lima@example.org", "password": password}
        response = post_form(browser, link, {**fields, "confirm": password}, page=link)
        assert response.status_code == 400, password
        assert message in field_error(response, "password")
    assert count(User, User.email == "rosa.lima@example.org") == 0
    db.session.refresh(new.invite)
    assert new.invite.uses == 0
