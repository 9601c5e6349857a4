"""Pending teachers wait; coordinators and admins validate, reject, disable and promote them."""

import pytest

from app.auth.models import AccountStatus, Role, School, User, UserSession
from app.extensions import db
from tests.auth.conftest import count, text_of
from tests.conftest import log_in, post_form


def review(client, teacher, action):
    return post_form(client, f"/school/teachers/{teacher.id}/{action}", {}, page="/school/teachers")


@pytest.mark.parametrize("path", ["/classes", "/classes/new", "/school/teachers", "/join"])
def test_a_pending_teacher_is_sent_back_to_the_dashboard(client, make, path):
    pending = make.teacher(status=AccountStatus.PENDING)
    log_in(client, pending)

    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")


def test_a_pending_teacher_can_see_the_dashboard_and_edit_the_profile(client, make):
    pending = make.teacher(status=AccountStatus.PENDING, display_name="Rui Costa")
    log_in(client, pending)

    assert "Your registration is waiting for validation" in text_of(client.get("/dashboard"))
    response = post_form(
        client,
        "/account/profile",
        {"display_name": "Rui M. Costa", "locale": "de", "timezone": "Europe/Lisbon"},
        page="/account/profile",
    )

    assert response.status_code == 302
    db.session.refresh(pending)
    assert (pending.display_name, pending.locale, pending.timezone) == ("Rui M. Costa", "de", "Europe/Lisbon")


def test_a_pending_teacher_cannot_create_a_class_by_posting_directly(client, make):
    pending = make.teacher(status=AccountStatus.PENDING)
    log_in(client, pending)
    token_page = "/account/profile"

    response = post_form(client, "/classes/new", {"name": "Sneaky"}, page=token_page)

    assert response.status_code == 302
    assert count(User, User.id == pending.id, User.status == AccountStatus.PENDING) == 1


def test_a_coordinator_validates_a_teacher_of_their_school(client, make):
    school = make.school()
    coordinator = make.coordinator(school)
    pending = make.teacher(school, status=AccountStatus.PENDING, display_name="Rui Costa")
    log_in(client, coordinator)
    assert "Rui Costa" in text_of(client.get("/school/teachers"))

    response = review(client, pending, "validate")

    assert response.status_code == 302
    assert "Rui Costa can now use CrossClass." in text_of(client.get("/school/teachers"))
    db.session.refresh(pending)
    assert pending.status == AccountStatus.ACTIVE
    assert pending.validated_by_id == coordinator.id
    assert pending.validated_at is not None


def test_a_validated_teacher_reaches_the_pages_that_were_closed(client, make):
    school = make.school()
    pending = make.teacher(school, status=AccountStatus.PENDING)
    log_in(client, pending)
    assert client.get("/classes").status_code == 302
    pending.status = AccountStatus.ACTIVE
    db.session.flush()

    assert client.get("/classes").status_code == 200


def test_a_coordinator_of_another_school_cannot_review_and_changes_nothing(client, make):
    pending = make.teacher(make.school(), status=AccountStatus.PENDING)
    active = make.teacher(pending.school)
    outsider = make.coordinator(make.school(country="FI", city="Helsinki", timezone="Europe/Helsinki"))
    log_in(client, outsider)

    assert pending.display_name not in text_of(client.get("/school/teachers"))
    for teacher, action in [(pending, "validate"), (pending, "reject"), (active, "disable"), (active, "coordinator")]:
        assert review(client, teacher, action).status_code == 403

    db.session.expire_all()
    assert pending.status == AccountStatus.PENDING
    assert (active.status, active.role) == (AccountStatus.ACTIVE, Role.TEACHER)


def test_teachers_and_students_cannot_open_the_review_pages(client, make):
    teacher = make.teacher()
    pending = make.teacher(teacher.school, status=AccountStatus.PENDING)
    log_in(client, teacher)

    assert client.get("/school/teachers").status_code == 403
    assert review(client, pending, "validate").status_code == 403
    assert count(User, User.id == pending.id, User.status == AccountStatus.PENDING) == 1


def test_a_coordinator_rejects_a_pending_registration(client, make):
    school = make.school()
    coordinator = make.coordinator(school)
    pending = make.teacher(school, status=AccountStatus.PENDING)
    log_in(client, coordinator)

    assert review(client, pending, "reject").status_code == 302
    assert count(User, User.id == pending.id) == 0


def test_an_active_teacher_cannot_be_rejected(client, make):
    school = make.school()
    coordinator = make.coordinator(school)
    teacher = make.teacher(school)
    log_in(client, coordinator)

    response = review(client, teacher, "reject")

    assert response.status_code == 409
    assert "Only pending registrations can be rejected." in text_of(response)
    assert count(User, User.id == teacher.id) == 1


def test_an_admin_validates_a_teacher_and_their_new_school(client, make, app):
    new_school = make.school(name="Brand New School", is_verified=False)
    pending = make.teacher(new_school, status=AccountStatus.PENDING)
    admin = make.admin()
    log_in(client, admin)
    assert pending.display_name in text_of(client.get("/school/teachers"))

    assert review(client, pending, "validate").status_code == 302

    db.session.expire_all()
    assert pending.status == AccountStatus.ACTIVE
    assert new_school.is_verified
    # The school is now offered to the next teacher who registers.
    assert "Brand New School" in text_of(app.test_client().get("/register"))


def test_a_rejected_new_school_is_not_left_behind(client, make):
    new_school = make.school(name="Fly-by-night School", is_verified=False)
    pending = make.teacher(new_school, status=AccountStatus.PENDING)
    teacher_id, school_id = pending.id, new_school.id
    log_in(client, make.admin())

    assert review(client, pending, "reject").status_code == 302

    assert count(User, User.id == teacher_id) == 0
    assert count(School, School.id == school_id) == 0


def test_disabling_a_teacher_ends_their_sessions_and_login(make, app):
    school = make.school()
    coordinator = make.coordinator(school)
    teacher = make.teacher(school)
    coordinator_client, teacher_client = app.test_client(), app.test_client()
    log_in(teacher_client, teacher)
    log_in(coordinator_client, coordinator)
    assert teacher_client.get("/classes").status_code == 200

    assert review(coordinator_client, teacher, "disable").status_code == 302

    assert count(UserSession, UserSession.user_id == teacher.id, UserSession.ended_at.is_(None)) == 0
    assert teacher_client.get("/classes").headers["Location"].startswith("/login")
    refused = post_form(teacher_client, "/login", {"login": teacher.username, "password": "correct-horse-42"})
    assert refused.status_code == 400
    assert "The username or password is not correct." in text_of(refused)

    assert review(coordinator_client, teacher, "enable").status_code == 302
    log_in(teacher_client, teacher)


def test_a_coordinator_cannot_disable_their_own_account(client, make):
    coordinator = make.coordinator()
    log_in(client, coordinator)

    response = review(client, coordinator, "disable")

    assert response.status_code == 400
    assert "You cannot change your own account's status." in text_of(response)
    assert count(User, User.id == coordinator.id, User.status == AccountStatus.ACTIVE) == 1


def test_a_coordinator_makes_a_colleague_coordinator(make, app):
    school = make.school()
    coordinator = make.coordinator(school)
    teacher = make.teacher(school, display_name="Lena Fischer")
    coordinator_client, teacher_client = app.test_client(), app.test_client()
    log_in(coordinator_client, coordinator)
    log_in(teacher_client, teacher)
    assert teacher_client.get("/school/teachers").status_code == 403

    assert review(coordinator_client, teacher, "coordinator").status_code == 302

    db.session.refresh(teacher)
    assert teacher.role == Role.COORDINATOR
    assert teacher_client.get("/school/teachers").status_code == 200


def test_a_pending_teacher_cannot_be_made_coordinator(client, make):
    school = make.school()
    coordinator = make.coordinator(school)
    pending = make.teacher(school, status=AccountStatus.PENDING)
    log_in(client, coordinator)

    response = review(client, pending, "coordinator")

    assert response.status_code == 400
    assert "Validate the teacher first." in text_of(response)
    assert count(User, User.id == pending.id, User.role == Role.TEACHER) == 1


def test_an_unknown_action_or_teacher_is_not_found(client, make):
    coordinator = make.coordinator()
    teacher = make.teacher(coordinator.school)
    log_in(client, coordinator)

    assert review(client, teacher, "promote-to-admin").status_code == 404
    assert post_form(client, "/school/teachers/999999/validate", {}, page="/school/teachers").status_code == 404


@pytest.mark.parametrize("action", ["enable", "disable"])
def test_a_pending_registration_is_validated_or_rejected_not_switched_on_or_off(client, make, action):
    school = make.school()
    coordinator = make.coordinator(school)
    pending = make.teacher(school, status=AccountStatus.PENDING)
    log_in(client, coordinator)

    response = review(client, pending, action)

    assert response.status_code == 400
    assert "Validate or reject this registration first." in text_of(response)
    assert count(User, User.id == pending.id, User.status == AccountStatus.PENDING) == 1
