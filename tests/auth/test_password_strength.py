"""Weak passwords are refused wherever a password is set (NIST SP 800-63B: common, breached and
context-specific ones), with a reason a 14-year-old understands; strong passphrases pass."""

from __future__ import annotations

import time

import pytest

from app.auth.models import Role, User
from app.auth.operations import MAX_PASSWORD_LENGTH, check_password_strength
from app.auth.password_reset import reset_token
from app.auth.passwords import verify_password
from app.core.errors import InvalidInput
from app.extensions import db
from tests.auth.conftest import count, field_error
from tests.auth.test_students import cards_of, create_students, log_in_with, set_own_password
from tests.conftest import PASSWORD, FreshContextClient, log_in, post_form

COMMON = "This password is one of the most used ones, so it is easy to guess. Try three or four unrelated words."
PRODUCT = "Do not use the name CrossClass in your password"
PERSONAL = "Your password must not contain your name, username or e-mail address"
WEAK = {
    "12345678": COMMON,
    "password": COMMON,
    "Password1": COMMON,
    "qwertyui": COMMON,
    "iloveyou": COMMON,
    "crossclass": PRODUCT,
    "CrossClass1": PRODUCT,
    "Cross-Class-2024": PRODUCT,
}
STRONG = "orbit lantern pickle harbour"


def refusal(app, password: str, *args, **kwargs) -> str | None:
    with app.test_request_context():
        try:
            check_password_strength(password, *args, **kwargs)
        except InvalidInput as error:
            assert error.field == "password"
            return str(error)
    return None


@pytest.mark.parametrize(("password", "message"), WEAK.items())
def test_common_passwords_and_the_product_name_are_refused_with_a_clear_reason(app, password, message):
    assert message in refusal(app, password, "teacher@example.eu")


def test_guessable_passwords_say_why(app):
    assert "It follows a simple pattern like aaaa, 1234 or qwerty." in refusal(app, "abcdefgh")
    assert "This password is too easy to guess. Try three or four unrelated words." in refusal(app, "marvellous")


def test_a_strong_passphrase_is_accepted(app):
    assert refusal(app, STRONG, "ana.silva@example.eu", display_name="Ana Silva", email="ana.silva@example.eu") is None
    assert refusal(app, "Tulpe Kanu Mond Regen", "brave-otter-42") is None


@pytest.mark.parametrize(
    ("password", "identity"),
    [
        ("brave-otter-42 kite lamp", {"username": "brave-otter-42"}),
        ("BraveOtter42 kite lamp", {"username": "brave-otter-42"}),
        ("ana.silva lantern pickle", {"username": "ana.silva@example.eu"}),
        ("lantern pickle anasilva", {"email": "ana.silva@example.eu"}),
        ("silva-lantern-pickle-7", {"display_name": "Ana Silva"}),
    ],
)
def test_a_password_built_from_the_own_name_or_address_is_refused(app, password, identity):
    identity = dict(identity)  # the parameters are shared by both database runs
    assert PERSONAL in refusal(app, password, identity.pop("username", None), **identity)


def test_a_name_inside_another_word_is_no_reason_to_refuse(app):
    # "Anna" is inside "Hannah": that is not the pupil's name.
    assert refusal(app, "hannah lantern pickle", display_name="Anna Berg") is None


def test_the_check_is_fast_even_for_the_longest_password(app):
    longest = ("a1B2c3D4e5" * 20)[:MAX_PASSWORD_LENGTH]
    started = time.perf_counter()
    for password in (longest, STRONG, "12345678", "x" * MAX_PASSWORD_LENGTH):
        refusal(app, password, "brave-otter-42")
    # zxcvbn only sees the first characters, so even 128 repeated ones take milliseconds.
    assert time.perf_counter() - started < 1.0


def anonymous(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.mark.parametrize(("password", "message"), WEAK.items())
def test_registration_refuses_weak_passwords(client, make, password, message):
    school = make.school()
    users = count(User)
    fields = {
        "display_name": "Marta Sousa",
        "email": "marta.sousa@example.eu",
        "password": password,
        "confirm": password,
        "school_id": str(school.id),
        "school_name": "",
        "country": "",
        "city": "",
        "kind": "vet_school",
        "erasmus_oid": "",
    }

    response = post_form(client, "/register", fields, page="/register")

    assert response.status_code == 400
    assert message in field_error(response, "password")
    assert count(User) == users


@pytest.mark.parametrize(("password", "message"), WEAK.items())
def test_changing_the_password_refuses_weak_ones(client, make, password, message):
    teacher = make.teacher()
    log_in(client, teacher)

    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": password, "confirm": password},
        page="/account/password",
    )

    assert response.status_code == 400
    assert message in field_error(response, "password")
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, PASSWORD)


def test_changing_the_password_refuses_one_with_the_own_name_and_takes_a_passphrase(client, make):
    teacher = make.teacher(display_name="Marta Sousa")
    log_in(client, teacher)

    def change(password):
        fields = {"current_password": PASSWORD, "password": password, "confirm": password}
        return post_form(client, "/account/password", fields, page="/account/password")

    refused = change("sousa lantern pickle")
    assert refused.status_code == 400
    assert PERSONAL in field_error(refused, "password")
    assert change(STRONG).status_code == 302
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, STRONG)


def test_the_reset_link_refuses_a_common_password_and_stays_usable(client, make):
    teacher = make.teacher()
    path = f"/password/reset/{reset_token(teacher)}"

    def reset(password):
        return post_form(client, path, {"password": password, "confirm": password}, page="/password/forgot")

    refused = reset("Password1")
    assert refused.status_code == 400
    assert COMMON in field_error(refused, "password")
    assert reset(STRONG).status_code == 302
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, STRONG)


def test_a_pupil_cannot_choose_a_common_password_at_first_login(client, make, app):
    teacher = make.teacher()
    school_class = make.school_class(teacher)
    log_in(client, teacher)
    [(username, card_password)] = cards_of(create_students(client, school_class, names="Ana"))
    pupil = anonymous(app)
    log_in_with(pupil, username, card_password)

    for password in ("iloveyou", "CrossClass1", f"{username}-kite"):
        refused = set_own_password(pupil, password)
        assert refused.status_code == 400, password
    assert COMMON in field_error(set_own_password(pupil, "iloveyou"), "password")
    assert set_own_password(pupil, STRONG).status_code == 302


def test_joining_a_class_with_its_code_refuses_a_common_password(client, make):
    make.school_class(join_code="JOINME22")
    fields = {"code": "JOINME22", "display_name": "Ana", "password": "qwertyui", "confirm": "qwertyui"}

    response = post_form(client, "/join", fields, page="/join")

    assert response.status_code == 400
    assert COMMON in field_error(response, "password")
    assert count(User, User.role == Role.STUDENT) == 0
