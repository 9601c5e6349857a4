"""Student accounts: login cards made by a teacher, or joining with a class code."""

import re

import pytest

from app.auth.models import ClassMembership, Role, User, UserSession
from app.auth.passwords import verify_password
from app.extensions import db
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import log_in, post_form

CARD = re.compile(r'class="card-username">([^<]+)</dd>.*?class="card-password">([^<]+)</dd>', re.S)
STUDENT_PASSWORD = "my-own-secret-9"


def create_students(client, school_class, **data):
    return post_form(
        client, f"/classes/{school_class.id}/students", {"names": "", "count": "", **data}, page="/classes"
    )


def cards_of(response) -> list[tuple[str, str]]:
    return CARD.findall(response.get_data(as_text=True))


def student_action(client, school_class, student, action):
    return post_form(client, f"/classes/{school_class.id}/students/{student.id}/{action}", {}, page="/classes")


def log_in_with(client, username, password):
    return post_form(client, "/login", {"login": username, "password": password})


def set_own_password(client, password=STUDENT_PASSWORD):
    return post_form(client, "/account/password", {"password": password, "confirm": password}, page="/account/password")


@pytest.fixture
def teacher_with_class(make, client):
    teacher = make.teacher()
    school_class = make.school_class(teacher, name="Cozinha 11A")
    log_in(client, teacher)
    return teacher, school_class


def test_pasted_names_become_pseudonymous_accounts_with_login_cards(client, teacher_with_class):
    _teacher, school_class = teacher_with_class

    response = create_students(client, school_class, names="Ana\n\n  Bruno  \nCátia\n")

    assert response.status_code == 200
    cards = cards_of(response)
    assert len(cards) == 3
    page = response.get_data(as_text=True)
    students = db.session.query(User).filter(User.role == Role.STUDENT).all()
    assert sorted(student.display_name for student in students) == ["Ana", "Bruno", "Cátia"]
    for username, password in cards:
        assert page.count(username) == 1
        assert page.count(password) == 1
        student = db.session.query(User).filter_by(username=username).one()
        # Pseudonyms: the pupil's name is not in the username, and no e-mail is needed.
        assert student.display_name.lower() not in username
        assert student.email is None
        assert student.must_change_password
        assert student.password_hash.startswith("$argon2id$")
        assert verify_password(student.password_hash, password)
        assert [m.class_id for m in student.memberships] == [school_class.id]
    # The one-time passwords are shown once: the class page lists usernames, never passwords.
    class_page = client.get(f"/classes/{school_class.id}").get_data(as_text=True)
    for username, password in cards:
        assert username in class_page
        assert password not in class_page


def test_a_count_makes_that_many_accounts(client, teacher_with_class):
    _teacher, school_class = teacher_with_class

    response = create_students(client, school_class, count="4")

    assert response.status_code == 200
    cards = cards_of(response)
    assert len({username for username, _password in cards}) == 4
    assert count(ClassMembership, ClassMembership.class_id == school_class.id) == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"names": "Ana\nBruno", "count": "2"}, "Either paste names or give a number, not both."),
        ({}, "Paste at least one name or give a number of students."),
        ({"names": " \n \n"}, "Paste at least one name or give a number of students."),
        ({"names": "\n".join(f"Pupil {n}" for n in range(61))}, "At most 60 students at a time."),
        ({"names": "x" * 121}, "A name can have at most 120 characters."),
    ],
)
def test_bad_student_batches_are_explained_and_create_nothing(client, teacher_with_class, data, message):
    _teacher, school_class = teacher_with_class
    students = count(User, User.role == Role.STUDENT)

    response = create_students(client, school_class, **data)

    assert response.status_code == 400
    assert message in field_error(response, "names")
    assert count(User, User.role == Role.STUDENT) == students


@pytest.mark.parametrize("number", ["0", "61", "many"])
def test_a_count_out_of_range_is_explained(client, teacher_with_class, number):
    _teacher, school_class = teacher_with_class

    response = create_students(client, school_class, count=number)

    assert response.status_code == 400
    assert field_error(response, "count")
    assert count(User, User.role == Role.STUDENT) == 0


def test_the_batch_limit_comes_from_the_configuration(client, teacher_with_class, app, monkeypatch):
    _teacher, school_class = teacher_with_class
    monkeypatch.setitem(app.config, "STUDENTS_PER_BATCH", 3)

    refused = create_students(client, school_class, count="4")
    accepted = create_students(client, school_class, count="3")

    assert refused.status_code == 400
    assert "At most 3 students at a time." in field_error(refused, "names")
    assert len(cards_of(accepted)) == 3
    assert count(User, User.role == Role.STUDENT) == 3


def test_a_student_logs_in_with_the_card_and_must_choose_a_password_first(client, teacher_with_class, app):
    _teacher, school_class = teacher_with_class
    [(username, card_password)] = cards_of(create_students(client, school_class, names="Ana"))
    pupil = app.test_client()

    assert log_in_with(pupil, username, card_password).status_code == 302
    for path in ("/dashboard", "/account/profile", f"/classes/{school_class.id}", "/"):
        response = pupil.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/account/password")
    assert "Choose your own password" in text_of(pupil.get("/account/password"))

    # The card's password is not accepted as the new one, and a weak one is explained.
    same = set_own_password(pupil, card_password)
    assert same.status_code == 400
    assert "Choose a password different from the old one." in field_error(same, "password")
    weak = set_own_password(pupil, "aaaaaaaa")
    assert weak.status_code == 400
    assert "This password is too easy to guess." in field_error(weak, "password")

    assert set_own_password(pupil).status_code == 302
    dashboard = pupil.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Cozinha 11A" in text_of(dashboard)

    pupil_again = app.test_client()
    old = log_in_with(pupil_again, username, card_password)
    assert old.status_code == 400
    assert "The username or password is not correct." in text_of(old)
    assert log_in_with(pupil_again, username, STUDENT_PASSWORD).status_code == 302
    assert pupil_again.get("/dashboard").status_code == 200


def test_a_new_login_card_replaces_the_password_and_ends_the_sessions(client, teacher_with_class, app):
    _teacher, school_class = teacher_with_class
    [(username, card_password)] = cards_of(create_students(client, school_class, names="Ana"))
    pupil = app.test_client()
    log_in_with(pupil, username, card_password)
    set_own_password(pupil)
    assert pupil.get("/dashboard").status_code == 200
    student = db.session.query(User).filter_by(username=username).one()

    reset = student_action(client, school_class, student, "reset")

    assert reset.status_code == 200
    [(same_username, new_password)] = cards_of(reset)
    assert same_username == username
    assert count(UserSession, UserSession.user_id == student.id, UserSession.ended_at.is_(None)) == 0
    assert pupil.get("/dashboard").headers["Location"].startswith("/login")
    assert log_in_with(app.test_client(), username, STUDENT_PASSWORD).status_code == 400
    fresh = app.test_client()
    assert log_in_with(fresh, username, new_password).status_code == 302
    assert fresh.get("/dashboard").headers["Location"].endswith("/account/password")


def test_a_teacher_removes_a_student(client, teacher_with_class, app):
    _teacher, school_class = teacher_with_class
    [(username, card_password), _other] = cards_of(create_students(client, school_class, names="Ana\nBruno"))
    pupil = app.test_client()
    log_in_with(pupil, username, card_password)
    student = db.session.query(User).filter_by(username=username).one()
    student_id = student.id

    response = student_action(client, school_class, student, "remove")

    assert response.status_code == 302
    assert "The student was removed from the class." in text_of(client.get(response.headers["Location"]))
    assert count(ClassMembership, ClassMembership.class_id == school_class.id) == 1
    # A pupil with no class left has no account left either.
    assert count(User, User.id == student_id) == 0
    assert pupil.get("/account/password").headers["Location"].startswith("/login")


def test_a_student_in_two_classes_keeps_the_account_when_removed_from_one(client, teacher_with_class, make):
    teacher, school_class = teacher_with_class
    other_class = make.school_class(teacher)
    student = make.student(school_class)
    student.memberships.append(ClassMembership(class_id=other_class.id, joined_at=student.created_at))
    db.session.flush()

    assert student_action(client, school_class, student, "remove").status_code == 302

    db.session.expire_all()
    assert [m.class_id for m in student.memberships] == [other_class.id]


def test_students_of_another_class_cannot_be_touched_through_mine(client, teacher_with_class, make):
    _teacher, my_class = teacher_with_class
    stranger = make.student(make.school_class())
    original_hash = stranger.password_hash

    assert student_action(client, my_class, stranger, "reset").status_code == 403
    assert student_action(client, my_class, stranger, "remove").status_code == 403

    db.session.expire_all()
    assert stranger.password_hash == original_hash
    assert len(stranger.memberships) == 1


def test_another_teacher_cannot_reset_or_remove_my_students(client, make):
    owner = make.teacher()
    school_class = make.school_class(owner)
    student = make.student(school_class)
    log_in(client, make.teacher(owner.school))

    assert student_action(client, school_class, student, "reset").status_code == 403
    assert student_action(client, school_class, student, "remove").status_code == 403
    assert count(ClassMembership, ClassMembership.student_id == student.id) == 1


# ---- joining with a class code ------------------------------------------------------------


def join(client, code, display_name="Ana", password=STUDENT_PASSWORD, confirm=None):
    data = {"code": code, "display_name": display_name, "password": password, "confirm": confirm or password}
    return post_form(client, "/join", data, page="/join")


def test_a_student_joins_with_the_class_code_and_sees_the_username_once(client, make):
    # A code without approval: the pupil is in at once (tests/auth/test_join_codes.py has the rest).
    school_class = make.school_class(name="Mechatronik 11", join_code="K7MPQ2RS", join_code_needs_approval=False)

    response = join(client, " k7mp-q2rs ")

    assert response.status_code == 302
    student = db.session.query(User).filter_by(display_name="Ana", role=Role.STUDENT).one()
    assert student.email is None
    assert not student.must_change_password  # the pupil chose this password
    assert [(m.class_id, m.joined_with_code) for m in student.memberships] == [(school_class.id, True)]
    first = text_of(client.get("/dashboard"))
    assert f"Your username is {student.username}." in first
    assert "Mechatronik 11" in first
    assert student.username not in text_of(client.get("/dashboard"))
    # The pupil logs in again later with the username and the chosen password.
    again = client.application.test_client()
    assert log_in_with(again, student.username, STUDENT_PASSWORD).status_code == 302


def test_an_inactive_or_renewed_code_is_refused(client, make, app):
    teacher = make.teacher()
    school_class = make.school_class(teacher, join_code="OLDCODE1")
    teacher_client = app.test_client()
    log_in(teacher_client, teacher)

    def set_code(action):
        path = f"/classes/{school_class.id}/join-code"
        assert post_form(teacher_client, path, {"action": action}, page="/classes").status_code == 302
        db.session.refresh(school_class)

    set_code("disable")
    inactive = join(client, "OLDCODE1")
    assert inactive.status_code == 400
    assert "Your teacher has turned this class code off. Ask your teacher for the current code." in field_error(
        inactive, "code"
    )

    set_code("renew")
    new_code = school_class.join_code
    assert new_code != "OLDCODE1"
    assert school_class.join_code_active
    renewed = join(client, "OLDCODE1")
    assert renewed.status_code == 400
    assert "This class code is not valid" in field_error(renewed, "code")
    assert count(User, User.role == Role.STUDENT) == 0

    assert join(client, new_code).status_code == 302
    assert count(User, User.role == Role.STUDENT) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": ""}, "code", "This field is required."),
        ({"display_name": " "}, "display_name", "This field is required."),
        ({"password": "short", "confirm": "short"}, "password", "between 8 and 128 characters"),
        ({"confirm": "something-else-1"}, "confirm", "The two passwords are not the same."),
        ({"password": "abababab", "confirm": "abababab"}, "password", "This password is too easy to guess."),
    ],
)
def test_bad_join_input_is_explained_and_creates_nothing(client, make, fields, field, message):
    make.school_class(join_code="JOINME22")
    data = {"code": "JOINME22", "display_name": "Ana", "password": STUDENT_PASSWORD, "confirm": STUDENT_PASSWORD}

    response = post_form(client, "/join", {**data, **fields}, page="/join")

    assert response.status_code == 400
    assert message in field_error(response, field)
    assert count(User, User.role == Role.STUDENT) == 0


def test_a_full_class_cannot_be_joined(client, make):
    school_class = make.school_class(join_code="FULLCLS2")
    for _number in range(60):
        make.student(school_class)

    response = join(client, "FULLCLS2")

    assert response.status_code == 400
    assert "This class is full. Ask your teacher." in field_error(response, "code")
    assert count(ClassMembership, ClassMembership.class_id == school_class.id) == 60


def test_a_logged_in_user_is_not_offered_to_join(client, make):
    log_in(client, make.teacher())

    assert client.get("/join").headers["Location"].endswith("/dashboard")
