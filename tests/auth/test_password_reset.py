"""Forgotten passwords: a link by e-mail (through a real SMTP server), single-use and expiring,
the same answer and timing for any address, limits per address and per client, and every
old session ended afterwards."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from app.auth.models import AccountStatus, UserSession
from app.auth.password_reset import reset_token
from app.core.db import utcnow
from app.extensions import db
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import PASSWORD, FreshContextClient, csrf_token, log_in, post_form
from tests.mail_support import html_body, link_in, text_body

NEW_PASSWORD = "sunny-harbour-31"
GENERIC_ANSWER = "If an account exists for that address, we have sent a link to set a new password."


def ask_for_link(client, typed: str):
    return post_form(client, "/password/forgot", {"email": typed}, page="/password/forgot")


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return post_form(client, path, {"password": password, "confirm": confirm or password}, page="/password/forgot")


def reset_path(message) -> str:
    return urlsplit(link_in(message, r"http://localhost/password/reset/\S+")).path


def other_browser(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


def test_a_teacher_resets_a_forgotten_password_by_e_mail(app, client, make, smtp_server, mail_via_smtp):
    teacher = make.teacher(display_name="Ana Lima")
    laptop = other_browser(app)
    log_in(laptop, teacher)
    assert laptop.get("/dashboard").status_code == 200
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in login_page and "Forgot your password?" in login_page

    response = ask_for_link(client, f"  {teacher.email.upper()} ")

    assert response.status_code == 302 and response.headers["Location"] == "/password/forgot/sent"
    assert GENERIC_ANSWER in text_of(client.get("/password/forgot/sent"))
    mail_via_smtp()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == teacher.email
    assert message["From"] == "CrossClass <no-reply@crossclass.test>"
    assert smtp_server.envelopes[0][1] == [teacher.email]
    assert message["Subject"] == "Reset your CrossClass password"
    assert "Hello Ana Lima," in text_body(message) and "60 minutes" in text_body(message)
    path = reset_path(message)
    assert f'href="http://localhost{path}"' in html_body(message)

    form = client.get(path)
    assert form.status_code == 200 and "Choose a new password" in text_of(form)
    assert teacher.email in text_of(form)
    response = set_password(client, path)

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your new password is saved. Please log in with it." in text_of(client.get("/login"))
    # The browser that was logged in with the old password is logged out.
    assert laptop.get("/dashboard").status_code == 302
    assert count(UserSession, UserSession.user_id == teacher.id, UserSession.ended_at.is_(None)) == 0
    assert post_form(client, "/login", {"login": teacher.email, "password": PASSWORD}).status_code == 400
    log_in(client, teacher, NEW_PASSWORD)
    assert client.get("/dashboard").status_code == 200


def test_a_used_link_is_refused_and_so_is_every_older_one(app, client, make, smtp_server, mail_via_smtp):
    teacher = make.teacher()
    ask_for_link(client, teacher.email)
    ask_for_link(client, teacher.email)
    mail_via_smtp()
    first, second = (reset_path(message) for message in smtp_server.wait_for(2))
    assert set_password(client, second).status_code == 302

    for path in (second, first):
        page = client.get(path)
        assert page.status_code == 400
        assert "This link does not work any more. A link works once, for 60 minutes." in text_of(page)
        assert set_password(client, path, "another-secret-99").status_code == 400
    log_in(client, teacher, NEW_PASSWORD)


def test_an_expired_link_is_refused(client, make):
    teacher = make.teacher()
    expired = reset_token(teacher, issued_at=utcnow() - timedelta(minutes=61))
    still_valid = reset_token(teacher, issued_at=utcnow() - timedelta(minutes=59))

    page = client.get(f"/password/reset/{expired}")
    assert page.status_code == 400 and "does not work any more" in text_of(page)
    assert set_password(client, f"/password/reset/{expired}").status_code == 400
    assert client.get(f"/password/reset/{still_valid}").status_code == 200


def test_a_forged_or_mangled_link_is_refused(client, make):
    teacher, other = make.teacher(), make.teacher()
    token = reset_token(teacher)
    body, _dot, signature = token.rpartition(".")
    forged = reset_token(other).rpartition(".")[0] + "." + signature

    for bad in (token[:-2] + "xx", forged, "nonsense", body):
        assert client.get(f"/password/reset/{bad}").status_code == 400, bad


def test_a_disabled_account_cannot_use_a_link(client, make):
    teacher = make.teacher()
    token = reset_token(teacher)
    teacher.status = AccountStatus.DISABLED
    db.session.flush()

    assert client.get(f"/password/reset/{token}").status_code == 400


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("short", "short", "password", "between 8 and 128"),
        ("aaaaaaaaaa", "aaaaaaaaaa", "password", "too easy to guess"),
        (NEW_PASSWORD, "something-else-1", "confirm", "not the same"),
    ],
)
def test_the_new_password_follows_the_password_rules(client, make, password, confirm, field, message):
    teacher = make.teacher()
    path = f"/password/reset/{reset_token(teacher)}"

    response = set_password(client, path, password, confirm)

    assert response.status_code == 400
    assert message in field_error(response, field)
    # Nothing changed and the link still works.
    log_in(client, teacher)
    assert other_browser(client.application).get(path).status_code == 200


def test_the_new_password_may_not_be_the_username(client, make):
    teacher = make.teacher()
    response = set_password(client, f"/password/reset/{reset_token(teacher)}", teacher.username)

    assert response.status_code == 400
    assert "must not be your username" in field_error(response, "password")


def test_unknown_addresses_and_pupil_usernames_get_the_same_answer_and_no_mail(
    client, make, smtp_server, mail_via_smtp
):
    teacher = make.teacher()
    pupil = make.student()
    answers = []
    for typed in (teacher.email, "nobody@example.eu", pupil.username, "not an address"):
        response = ask_for_link(client, typed)
        answers.append((response.status_code, response.headers.get("Location")))

    assert len(set(answers)) == 1, answers
    mail_via_smtp()
    time.sleep(0.3)  # a mail that was wrongly sent would have arrived by now
    assert [message["To"] for message in smtp_server.messages] == [teacher.email]


def test_the_answer_takes_as_long_for_an_unknown_address_as_for_a_teacher(
    app, client, make, smtp_server, mail_via_smtp, monkeypatch
):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_PER_ADDRESS", 100)
    monkeypatch.setitem(app.config, "PASSWORD_RESET_PER_CLIENT", 100)
    teacher = make.teacher()
    token = csrf_token(client, "/password/forgot")
    smtp_server.delay = 0.3  # a slow mail server: a request that waited for it would show it

    def timed(typed: str) -> float:
        started = time.perf_counter()
        response = client.post("/password/forgot", data={"csrf_token": token, "email": typed})
        elapsed = time.perf_counter() - started
        assert response.status_code == 302
        mail_via_smtp()  # outside the measured time: the request itself never waits for it
        return elapsed

    timed(teacher.email), timed("warm-up@example.eu")
    known, unknown = [], []
    for _round in range(9):
        known.append(timed(teacher.email))
        unknown.append(timed("nobody@example.eu"))

    smtp_server.wait_for(10)
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    # Either path costs some 10 to 80 ms on a busy test machine; waiting for the server would
    # add its 300 ms. (The unknown address also composes a mail it throws away, so the two
    # paths do the same work; their medians measured a few ms apart.)
    assert abs(known_median - unknown_median) < 0.1, f"median {known_median:.4f} s vs {unknown_median:.4f} s"


def test_requests_for_one_address_are_limited_whether_it_has_an_account_or_not(
    app, client, make, smtp_server, mail_via_smtp
):
    assert app.config["PASSWORD_RESET_PER_ADDRESS"] == 3
    teacher = make.teacher()
    for typed in (teacher.email, "nobody@example.eu"):
        assert [ask_for_link(client, typed).status_code for _ in range(3)] == [302, 302, 302]
        refused = ask_for_link(client, typed)
        assert refused.status_code == 429
        assert "Too many requests for a new password. Please wait 60 minutes and try again." in text_of(refused)

    mail_via_smtp()
    assert len(smtp_server.wait_for(3)) == 3  # the refused fourth one sent nothing
    assert ask_for_link(client, "someone-else@example.eu").status_code == 302


def test_requests_from_one_client_are_limited(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_PER_CLIENT", 5)

    statuses = [ask_for_link(client, f"person{n}@example.eu").status_code for n in range(6)]

    assert statuses == [302] * 5 + [429]
    other_address = client.post(
        "/password/forgot",
        data={"csrf_token": csrf_token(client, "/password/forgot"), "email": "late@example.eu"},
        environ_base={"REMOTE_ADDR": "192.0.2.9"},
    )
    assert other_address.status_code == 302


def test_the_forgot_page_needs_an_address_and_a_csrf_token(client):
    empty = ask_for_link(client, "")
    assert empty.status_code == 400 and field_error(empty, "email")
    assert client.post("/password/forgot", data={"email": "a@example.eu"}).status_code == 400
