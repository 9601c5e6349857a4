"""Class codes expire and can be turned off; joining and registering are limited per address;
a pupil who joins with a code waits for the teacher's approval (tests/chat/test_waiting_pupil.py
checks that a waiting pupil reaches nothing of the class's exchanges)."""

from datetime import timedelta

import pytest

from app.auth.models import ClassJoinRequest, ClassMembership, LoginThrottle, Role, School, User
from app.core.db import utcnow
from app.extensions import db
from app.modules.notifications.models import Notification
from tests.auth.conftest import count, field_error, text_of
from tests.auth.test_registration import registration
from tests.conftest import csrf_token, log_in, post_form

PASSWORD = "my-own-secret-9"
SCHOOL_ADDRESS = "198.51.100.20"
OTHER_ADDRESS = "203.0.113.77"


def join(client, code, name="Ana", address=SCHOOL_ADDRESS):
    data = {"code": code, "display_name": name, "password": PASSWORD, "confirm": PASSWORD}
    data["csrf_token"] = csrf_token(client, "/join")
    return client.post("/join", data=data, environ_base={"REMOTE_ADDR": address})


def register(client, email, address=SCHOOL_ADDRESS, **fields):
    data = registration(email=email, **fields)
    data["csrf_token"] = csrf_token(client, "/register")
    return client.post("/register", data=data, environ_base={"REMOTE_ADDR": address})


def code_action(client, school_class, action, **fields):
    data = {"action": action, "validity_days": "7", "approval": "approve", **fields}
    return post_form(client, f"/classes/{school_class.id}/join-code", data, page="/classes")


def waiting_action(client, school_class, student, action):
    path = f"/classes/{school_class.id}/waiting/{student.id}/{action}"
    return post_form(client, path, {}, page="/classes")


def pupil_named(name) -> User:
    db.session.expire_all()
    return db.session.query(User).filter_by(display_name=name, role=Role.STUDENT).one()


# ---- limits per address ------------------------------------------------------------------


def test_registrations_are_limited_per_address_and_the_typed_input_stays(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATIONS_PER_ADDRESS_PER_HOUR", 3)
    school = make.school(name="Escola Agrária")

    statuses = [register(client, f"t{n}@example.eu", school_id=str(school.id)).status_code for n in range(3)]
    refused = register(client, "fourth@example.eu", school_id=str(school.id))

    assert statuses == [302, 302, 302]
    assert refused.status_code == 429
    page = text_of(refused)
    assert "Too many registrations from your network. Please wait 60 minutes and try again." in page
    assert 'value="fourth@example.eu"' in page and 'value="Marta Sousa"' in page
    assert 'value="chalk-and-board-7"' not in page  # passwords are never sent back
    assert count(User, User.email == "fourth@example.eu") == 0
    # Another address is not held up by this one.
    assert register(client, "elsewhere@example.eu", address=OTHER_ADDRESS, school_id=str(school.id)).status_code == 302
    assert count(User, User.email == "elsewhere@example.eu") == 1


def test_a_taken_address_counts_like_a_new_registration_and_new_schools_stop_too(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATIONS_PER_ADDRESS_PER_HOUR", 2)
    taken = make.teacher().email
    new_school = {"school_id": "new", "school_name": "Flood School", "country": "PT", "city": "Porto"}

    assert register(client, taken, school_id=str(make.school().id)).status_code == 302
    assert register(client, "first@example.eu", **new_school).status_code == 302
    refused = register(client, "second@example.eu", **{**new_school, "school_name": "Flood School 2"})

    assert refused.status_code == 429
    assert count(School, School.name.like("Flood School%")) == 1


def test_the_registration_window_ends_after_an_hour(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATIONS_PER_ADDRESS_PER_HOUR", 1)
    school = make.school()
    assert register(client, "a@example.eu", school_id=str(school.id)).status_code == 302
    assert register(client, "b@example.eu", school_id=str(school.id)).status_code == 429

    row = db.session.query(LoginThrottle).filter_by(scope="register", key=SCHOOL_ADDRESS).one()
    row.last_failure_at = utcnow() - timedelta(hours=1, seconds=1)
    db.session.flush()

    assert register(client, "b@example.eu", school_id=str(school.id)).status_code == 302


def test_the_default_limits_let_two_classes_join_from_one_school_in_an_hour(app):
    assert app.config["CODE_JOINS_PER_ADDRESS_PER_HOUR"] >= 60
    assert app.config["WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR"] < app.config["CODE_JOINS_PER_ADDRESS_PER_HOUR"] / 2
    assert app.config["REGISTRATIONS_PER_ADDRESS_PER_HOUR"] == 10


def test_joins_are_limited_per_address(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "CODE_JOINS_PER_ADDRESS_PER_HOUR", 3)
    make.school_class(join_code="MANYJOIN")

    statuses = [join(app.test_client(), "MANYJOIN", name=f"Pupil {n}").status_code for n in range(3)]
    refused = join(client, "MANYJOIN", name="Late Pupil")

    assert statuses == [302, 302, 302]
    assert refused.status_code == 429
    page = text_of(refused)
    assert (
        "Too many pupils joined from your network in the last hour. Please wait 60 minutes and try again, "
        "or ask your teacher for a login card." in page
    )
    assert 'value="Late Pupil"' in page and 'value="MANYJOIN"' in page and PASSWORD not in page
    assert count(User, User.display_name == "Late Pupil") == 0
    assert join(client, "MANYJOIN", name="From home", address=OTHER_ADDRESS).status_code == 302


def test_wrong_codes_are_limited_far_more_and_then_even_a_right_code_waits(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "WRONG_CLASS_CODES_PER_ADDRESS_PER_HOUR", 4)
    make.school_class(join_code="RIGHT234")

    wrong = [join(client, f"GUESS{n:03d}") for n in range(4)]
    assert [r.status_code for r in wrong] == [400] * 4
    assert "This class code is not valid. Ask your teacher for the current code." in field_error(wrong[0], "code")

    blocked = join(client, "RIGHT234")
    assert blocked.status_code == 429
    assert (
        "Too many wrong class codes from your network. Please wait 60 minutes, then check the code with your teacher."
        in field_error(blocked, "code")
    )
    assert count(User, User.role == Role.STUDENT) == 0
    # Right codes do not count as misses, and another address is not held up.
    assert join(client, "RIGHT234", address=OTHER_ADDRESS).status_code == 302
    row = db.session.query(LoginThrottle).filter_by(scope="join-miss", key=OTHER_ADDRESS).one_or_none()
    assert row is None or row.failures == 0


# ---- expiry, off and renewal -------------------------------------------------------------


def test_an_expired_code_is_refused_with_a_clear_message(client, make):
    make.school_class(join_code="EXPIRED2", join_code_expires_at=utcnow() - timedelta(minutes=1))

    response = join(client, "EXPIRED2")

    assert response.status_code == 400
    assert "This class code has expired. Ask your teacher for a new one." in field_error(response, "code")
    assert count(User, User.role == Role.STUDENT) == 0
    assert count(LoginThrottle, LoginThrottle.scope == "join-miss", LoginThrottle.failures > 0) == 0


def test_a_new_class_code_works_for_a_week(client, make):
    school_class = make.school_class()
    left = school_class.join_code_expires_at - utcnow()
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)


def test_the_teacher_sees_the_code_state_and_turns_it_off_and_on(app, client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="ONOFF234")
    log_in(client, teacher)
    page = text_of(client.get(f"/classes/{school_class.id}"))
    assert "ONOFF234" in page and "The code works until" in page
    assert "Pupils who join with it wait for your approval." in page

    assert code_action(client, school_class, "disable").status_code == 302
    assert "The class code is turned off: nobody can join with it." in text_of(
        client.get(f"/classes/{school_class.id}")
    )
    refused = join(app.test_client(), "ONOFF234")
    assert refused.status_code == 400
    assert "Your teacher has turned this class code off. Ask your teacher for the current code." in field_error(
        refused, "code"
    )

    assert code_action(client, school_class, "enable").status_code == 302
    assert join(app.test_client(), "ONOFF234").status_code == 302


def test_an_expired_code_turned_on_or_saved_gets_the_chosen_period(client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="LATECODE", join_code_expires_at=utcnow() - timedelta(days=2))
    log_in(client, teacher)
    assert "expired on" in text_of(client.get(f"/classes/{school_class.id}"))

    assert code_action(client, school_class, "enable", validity_days="1").status_code == 302
    db.session.refresh(school_class)
    assert timedelta(hours=23) < school_class.join_code_expires_at - utcnow() <= timedelta(days=1)

    assert code_action(client, school_class, "save", validity_days="30").status_code == 302
    db.session.refresh(school_class)
    assert timedelta(days=29) < school_class.join_code_expires_at - utcnow() <= timedelta(days=30)
    assert school_class.join_code == "LATECODE"


def test_a_validity_not_offered_is_refused(client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher)
    log_in(client, teacher)
    before = school_class.join_code_expires_at

    assert code_action(client, school_class, "save", validity_days="3650").status_code == 400
    db.session.refresh(school_class)
    assert school_class.join_code_expires_at == before


def test_a_renewed_code_works_and_the_old_one_no_longer_does(app, client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="OLDCODE9", join_code_active=False)
    log_in(client, teacher)

    assert code_action(client, school_class, "renew").status_code == 302
    db.session.refresh(school_class)
    assert school_class.join_code != "OLDCODE9" and school_class.join_code_active

    old = join(app.test_client(), "OLDCODE9", name="Old")
    assert old.status_code == 400
    assert "This class code is not valid." in field_error(old, "code")
    assert join(app.test_client(), school_class.join_code, name="New").status_code == 302
    assert pupil_named("New").join_request.class_id == school_class.id


def test_another_teacher_cannot_change_the_code(client, make):
    school_class = make.school_class(join_code="MINE2345")
    log_in(client, make.teacher())

    assert code_action(client, school_class, "renew").status_code == 403
    db.session.refresh(school_class)
    assert school_class.join_code == "MINE2345"


# ---- approval ----------------------------------------------------------------------------


def test_a_code_joined_pupil_waits_and_the_teacher_approves(app, client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, name="Cozinha 11A", join_code="WAITME23")

    assert join(client, "WAITME23", name="Rui").status_code == 302
    rui = pupil_named("Rui")
    assert rui.memberships == [] and rui.join_request.class_id == school_class.id
    waiting = text_of(client.get("/dashboard"))
    assert "Waiting for your teacher's approval" in waiting
    assert f"Your username is {rui.username}." in waiting
    assert "My exchanges" not in waiting

    # The teacher is told, and sees the pupil waiting on the class page, with a count.
    notification = db.session.query(Notification).filter_by(user_id=teacher.id, kind="pupil_waiting").one()
    assert notification.link == f"/classes/{school_class.id}#waiting-pupils"
    teacher_client = app.test_client()
    log_in(teacher_client, teacher)
    assert "Rui joined Cozinha 11A with the class code and waits for your approval." in text_of(
        teacher_client.get("/notifications")
    )
    assert "1 pupil waits for your approval" in text_of(teacher_client.get("/classes"))
    page = text_of(teacher_client.get(f"/classes/{school_class.id}"))
    assert 'Waiting for your approval <span class="badge">1</span>' in page
    assert 'Students <span class="muted">(0)</span>' in page

    assert waiting_action(teacher_client, school_class, rui, "approve").status_code == 302
    rui = pupil_named("Rui")
    assert rui.join_request is None
    assert [(m.class_id, m.joined_with_code) for m in rui.memberships] == [(school_class.id, True)]
    assert "Cozinha 11A" in text_of(client.get("/dashboard"))
    assert "Waiting for your approval" not in text_of(teacher_client.get(f"/classes/{school_class.id}"))


def test_refusing_a_waiting_pupil_deletes_the_account_and_logs_it_out(app, client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="NOTYOU23")
    join(client, "NOTYOU23", name="Stranger")
    stranger = pupil_named("Stranger")
    teacher_client = app.test_client()
    log_in(teacher_client, teacher)

    assert waiting_action(teacher_client, school_class, stranger, "refuse").status_code == 302

    assert count(User, User.display_name == "Stranger") == 0
    assert count(ClassJoinRequest) == 0
    assert client.get("/dashboard").status_code == 302  # the session went with the account


def test_a_code_without_approval_lets_pupils_in_at_once_and_warns_the_teacher(app, client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="OPENDOOR")
    log_in(client, teacher)
    assert "No approval needed" not in text_of(client.get(f"/classes/{school_class.id}"))

    assert code_action(client, school_class, "save", approval="open").status_code == 302
    page = text_of(client.get(f"/classes/{school_class.id}"))
    assert "No approval needed: anyone who has this code can join your class and see its exchanges at once." in page

    pupil = app.test_client()
    assert join(pupil, "OPENDOOR", name="Quick").status_code == 302
    quick = pupil_named("Quick")
    assert quick.join_request is None and [m.class_id for m in quick.memberships] == [school_class.id]
    assert "Waiting for your teacher's approval" not in text_of(pupil.get("/dashboard"))


@pytest.mark.parametrize("action", ["approve", "refuse"])
def test_a_partner_or_other_teacher_cannot_approve_or_refuse(app, client, make, action):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="GUARDED2")
    join(client, "GUARDED2", name="Eve")
    eve = pupil_named("Eve")
    other_class = make.school_class()  # an outsider with a class of their own
    outsider = app.test_client()
    log_in(outsider, db.session.get(User, other_class.teacher_id))

    assert waiting_action(outsider, school_class, eve, action).status_code == 403
    # Nor through their own class's address.
    assert waiting_action(outsider, other_class, eve, action).status_code == 404
    eve = pupil_named("Eve")
    assert eve.join_request is not None and eve.memberships == []


def test_approving_needs_a_csrf_token(app, client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="CSRFCODE")
    join(client, "CSRFCODE", name="Ivo")
    ivo = pupil_named("Ivo")
    teacher_client = app.test_client()
    log_in(teacher_client, teacher)

    response = teacher_client.post(f"/classes/{school_class.id}/waiting/{ivo.id}/approve")

    assert response.status_code == 400
    assert pupil_named("Ivo").memberships == []


def test_waiting_pupils_count_towards_a_full_class(client, make):
    school_class = make.school_class(join_code="ALMOSTFU")
    for _number in range(59):
        make.student(school_class)
    assert join(client, "ALMOSTFU", name="Last").status_code == 302

    response = join(client.application.test_client(), "ALMOSTFU", name="One too many")

    assert response.status_code == 400
    assert "This class is full. Ask your teacher." in field_error(response, "code")
    assert count(ClassMembership, ClassMembership.class_id == school_class.id) == 59
