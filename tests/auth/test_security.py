"""Account security: password hashing, login throttling, idle sessions, cookies, CSP, CSRF."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from app.auth.models import AccountStatus, LoginThrottle, User, UserSession
from app.auth.passwords import verify_password
from app.auth.throttle import ADDRESS_ALLOWANCE_FACTOR
from app.core.db import utcnow
from app.extensions import db
from tests.auth.conftest import count, text_of
from tests.conftest import PASSWORD, csrf_token, log_in, post_form

WRONG = "The username or password is not correct."
WAIT = re.compile(r"Too many failed attempts\. Please wait (\d+) seconds? and try again\.")


def attempt(client, login, password, address="10.0.0.1"):
    return post_form(
        client, "/login", {"login": login, "password": password}, environ_overrides={"REMOTE_ADDR": address}
    )


def throttle_row(scope, key) -> LoginThrottle | None:
    db.session.expire_all()
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))


def block_seconds(row: LoginThrottle) -> float:
    return (row.blocked_until - row.last_failure_at).total_seconds()


def end_the_wait(row: LoginThrottle) -> None:
    """Lets the wait run out without sleeping through it."""
    row.blocked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()


def alert_of(response) -> str:
    match = re.search(r'role="alert">(.*?)</div>', text_of(response), re.S)
    return match.group(1) if match else ""


def waited_message(response) -> int:
    match = WAIT.search(text_of(response))
    assert match, text_of(response)[:2000]
    return int(match.group(1))


# ---- passwords ---------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_above_the_owasp_minimum(client, make):
    school = make.school()
    data = {
        "display_name": "Marta Sousa",
        "email": "marta@example.eu",
        "password": "chalk-and-board-7",
        "confirm": "chalk-and-board-7",
        "school_id": str(school.id),
        "kind": "vet_school",
    }
    assert post_form(client, "/register", data, page="/register").status_code == 302

    stored = db.session.query(User).filter_by(email="marta@example.eu").one().password_hash
    assert stored.startswith("$argon2id$")
    parameters = dict(part.split("=") for part in stored.split("$")[3].split(","))
    assert int(parameters["m"]) >= 19 * 1024
    assert int(parameters["t"]) >= 2
    assert "chalk-and-board-7" not in stored


def test_a_weaker_old_hash_is_upgraded_at_login(client, make):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    teacher = make.teacher()
    teacher.password_hash = weak
    db.session.flush()

    log_in(client, teacher)

    db.session.refresh(teacher)
    assert teacher.password_hash != weak
    assert teacher.password_hash.startswith("$argon2id$")
    assert "m=8192" not in teacher.password_hash
    assert verify_password(teacher.password_hash, PASSWORD)


# ---- login throttling --------------------------------------------------------------------


def pair(login, address="10.0.0.1") -> str:
    """The key of the counter for one account name tried from one address."""
    return f"{login}|{address}"


# From one address the account-and-address counter is the one that grows: the account-wide
# counter (strangers only) has more room, so one guessing address cannot shut the account
# (tests/auth/test_device_cookies.py has the rest of the scheme).
def test_an_account_waits_longer_after_each_failure_and_is_never_locked_out(client, make, app):
    teacher = make.teacher()
    free = app.config["LOGIN_FREE_ATTEMPTS"]

    for _ in range(free):
        response = attempt(client, teacher.username, "wrong-password")
        assert response.status_code == 400
        assert WRONG in text_of(response)
    assert throttle_row("acct-addr", pair(teacher.username)).blocked_until is None

    waits, shown = [], []
    for _ in range(4):
        assert attempt(client, teacher.username, "wrong-password").status_code == 400
        row = throttle_row("acct-addr", pair(teacher.username))
        waits.append(block_seconds(row))
        if waits[-1] >= 4:
            # During the wait even the right password is refused, with the same answer as a wrong one.
            right, wrong = attempt(client, teacher.username, PASSWORD), attempt(client, teacher.username, "nope-nope")
            assert right.status_code == wrong.status_code == 429
            assert waited_message(right) == waited_message(wrong)
            shown.append(waited_message(right))
            assert throttle_row("acct-addr", pair(teacher.username)).failures == row.failures  # waiting costs nothing
        end_the_wait(row)

    assert waits == [1, 2, 4, 8]
    assert shown[0] < shown[1] <= 8
    assert throttle_row("account", teacher.username).blocked_until is None  # more room account-wide
    # Once the wait is over, the right password works and clears the account's counters.
    assert attempt(client, teacher.username, PASSWORD).status_code == 302
    assert throttle_row("acct-addr", pair(teacher.username)) is None
    assert throttle_row("account", teacher.username) is None


def test_the_longest_wait_is_capped(client, make, app):
    teacher = make.teacher()
    attempt(client, teacher.username, "wrong-password")
    row = throttle_row("account", teacher.username)
    row.failures = 500
    db.session.flush()

    attempt(client, teacher.username, "wrong-password")

    assert block_seconds(throttle_row("account", teacher.username)) == app.config["LOGIN_MAX_DELAY_SECONDS"]


def test_unknown_usernames_are_throttled_exactly_like_real_ones(client, make, app):
    teacher = make.teacher()
    free = app.config["LOGIN_FREE_ATTEMPTS"]

    def story(login, address):
        answers = []
        for _ in range(free + 2):
            response = attempt(client, login, "wrong-password", address)
            answers.append((response.status_code, WRONG in text_of(response), WAIT.search(text_of(response)) is None))
        blocked = attempt(client, login, "wrong-password", address)
        row = throttle_row("acct-addr", pair(login, address))
        return answers, blocked.status_code, row.failures, block_seconds(row), re.sub(r"\d+", "N", alert_of(blocked))

    real = story(teacher.username, "10.0.0.1")
    unknown = story("nobody@example.eu", "10.0.0.2")

    assert real == unknown
    assert real[1] == 429


def test_one_address_trying_many_accounts_is_slowed_down(client, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 2)
    teacher = make.teacher()
    allowance = 2 * ADDRESS_ALLOWANCE_FACTOR
    attacker = "192.0.2.7"

    for number in range(allowance):
        assert attempt(client, f"guess{number}@example.eu", "wrong-password", attacker).status_code == 400
    assert throttle_row("address", attacker).blocked_until is None
    for _ in range(3):
        attempt(client, f"guess-more{_}@example.eu", "wrong-password", attacker)
        row = throttle_row("address", attacker)
        wait = block_seconds(row)
        if wait < 4:
            end_the_wait(row)
    assert wait == 4

    refused = attempt(client, teacher.username, PASSWORD, attacker)
    assert refused.status_code == 429
    assert WAIT.search(text_of(refused))
    # The account itself is not blocked: its owner logs in from the school's own address.
    assert attempt(client, teacher.username, PASSWORD, "198.51.100.1").status_code == 302
    # A correct password does not clear the address's counter; the wait running out does.
    other = app.test_client()
    assert attempt(other, teacher.username, PASSWORD, attacker).status_code == 429
    end_the_wait(throttle_row("address", attacker))
    assert attempt(other, teacher.username, PASSWORD, attacker).status_code == 302


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(client, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)

    def through_proxy(client_address):
        return post_form(
            client,
            "/login",
            {"login": "nobody@example.eu", "password": "wrong-password"},
            environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
            headers={"X-Forwarded-For": f"203.0.113.99, {client_address}"},
        )

    through_proxy("198.51.100.7")
    through_proxy("198.51.100.8")

    # The proxy's own address is not blamed, and an address the client made up is not used.
    assert throttle_row("address", "127.0.0.1") is None
    assert throttle_row("address", "203.0.113.99") is None
    assert throttle_row("address", "198.51.100.7").failures == 1
    assert throttle_row("address", "198.51.100.8").failures == 1


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(client, app):
    assert app.config["TRUSTED_PROXIES"] == 0
    post_form(
        client,
        "/login",
        {"login": "nobody@example.eu", "password": "wrong-password"},
        environ_overrides={"REMOTE_ADDR": "192.0.2.50"},
        headers={"X-Forwarded-For": "198.51.100.9"},
    )

    assert throttle_row("address", "198.51.100.9") is None
    assert throttle_row("address", "192.0.2.50").failures == 1


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(client, make):
    teacher = make.teacher(status=AccountStatus.DISABLED)

    response = attempt(client, teacher.username, PASSWORD)

    assert response.status_code == 400
    assert WRONG in text_of(response)
    assert client.get("/dashboard").status_code == 302


# ---- sessions ----------------------------------------------------------------------------


def only_session(user) -> UserSession:
    db.session.expire_all()
    return db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))


def test_a_session_of_a_disabled_account_is_not_honoured(client, make):
    teacher = make.teacher()
    log_in(client, teacher)
    teacher.status = AccountStatus.DISABLED  # e.g. by an administrator in the database
    db.session.flush()

    assert client.get("/dashboard").headers["Location"].startswith("/login")
    assert only_session(teacher).ended_at is not None


def test_an_idle_session_ends_on_the_server(client, make, app):
    teacher = make.teacher()
    log_in(client, teacher)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])

    row = only_session(teacher)
    row.last_seen_at = utcnow() - idle + timedelta(minutes=2)
    db.session.flush()
    assert client.get("/dashboard").status_code == 200
    row = only_session(teacher)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)  # using the session keeps it alive

    row.last_seen_at = utcnow() - idle - timedelta(minutes=1)
    db.session.flush()
    response = client.get("/dashboard")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert only_session(teacher).ended_at is not None
    # Coming back does not revive it.
    assert client.get("/classes").status_code == 302


def test_a_session_ends_after_its_lifetime_even_when_busy(client, make, app):
    teacher = make.teacher()
    log_in(client, teacher)
    row = only_session(teacher)
    row.created_at = utcnow() - app.config["PERMANENT_SESSION_LIFETIME"] - timedelta(minutes=1)
    db.session.flush()

    assert client.get("/dashboard").status_code == 302
    assert only_session(teacher).ended_at is not None


def test_changing_the_password_ends_the_other_sessions(make, app):
    teacher = make.teacher()
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, teacher)
    log_in(phone, teacher)

    response = post_form(
        laptop,
        "/account/password",
        {"current_password": PASSWORD, "password": "a-brand-new-one-5", "confirm": "a-brand-new-one-5"},
        page="/account/password",
    )

    assert response.status_code == 302
    assert laptop.get("/dashboard").status_code == 200
    assert phone.get("/dashboard").status_code == 302
    assert count(UserSession, UserSession.user_id == teacher.id, UserSession.ended_at.is_(None)) == 1


def test_changing_the_password_needs_the_current_one(client, make):
    teacher = make.teacher()
    log_in(client, teacher)

    response = post_form(
        client,
        "/account/password",
        {"current_password": "not-it-at-all", "password": "a-brand-new-one-5", "confirm": "a-brand-new-one-5"},
        page="/account/password",
    )

    assert response.status_code == 400
    assert "Your current password is not correct." in text_of(response)
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, PASSWORD)


def session_cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("crossclass_session=")]
    return header


def test_the_session_cookie_is_http_only_and_same_site_lax(client, make):
    response = log_in(client, make.teacher())

    header = session_cookie_header(response)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # the test app's origin is http://localhost


def test_the_session_cookie_is_secure_when_every_origin_is_https(build_app):
    https_app = build_app(ALLOWED_ORIGINS="https://crossclass.example.eu")

    response = https_app.test_client().get("/login")

    header = session_cookie_header(response)
    assert "Secure" in header
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_a_state_change_without_csrf_token_is_refused(client, make):
    school = make.school()
    coordinator = make.coordinator(school)
    pending = make.teacher(school, status=AccountStatus.PENDING)
    log_in(client, coordinator)

    response = client.post(f"/school/teachers/{pending.id}/validate")

    assert response.status_code == 400
    assert count(User, User.id == pending.id, User.status == AccountStatus.PENDING) == 1


# ---- Content-Security-Policy and inline scripts -----------------------------------------


class PageAudit(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if not attributes.get("src"):
                self.problems.append("<script> without src")
                self._in_inline_script = True
            else:
                self.scripts.append(attributes["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]}")


def check_page(response, where: str) -> None:
    policy = response.headers["Content-Security-Policy"]
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";"))
    assert directives["script-src"] == "'self'", where
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
    assert directives["object-src"] == "'none'", where
    assert directives["frame-ancestors"] == "'none'", where
    if response.mimetype != "text/html":
        return
    audit = PageAudit()
    audit.feed(response.get_data(as_text=True))
    assert audit.problems == [], where
    assert audit.scripts, f"{where} has no script at all: the audit saw no page"
    assert all(src.startswith("/static/") for src in audit.scripts), where


def test_every_page_is_served_with_a_strict_csp_and_without_inline_scripts(make, app):
    school = make.school()
    coordinator = make.coordinator(school)
    teacher = make.teacher(school)
    school_class = make.school_class(teacher)
    make.student(school_class)
    pending = make.teacher(school, status=AccountStatus.PENDING)
    admin = make.admin()
    new_pupil = make.student(school_class, must_change_password=True)
    student = make.student(school_class)
    seen = 0

    def visit(client, path, expected=200):
        nonlocal seen
        response = client.get(path)
        assert response.status_code == expected, path
        check_page(response, path)
        seen += 1
        return response

    anonymous = app.test_client()
    for path in ("/", "/login", "/register", "/register/sent", "/join"):
        visit(anonymous, path)
    visit(anonymous, "/no-such-page", 404)
    check_page(anonymous.get("/api/cities?country=PT&q=Lis"), "/api/cities")

    as_teacher = app.test_client()
    log_in(as_teacher, teacher)
    for path in (
        "/dashboard",
        "/classes",
        "/classes/new",
        f"/classes/{school_class.id}",
        f"/classes/{school_class.id}/edit",
        "/account/profile",
        "/account/password",
    ):
        visit(as_teacher, path)
    visit(as_teacher, "/school/teachers", 403)
    cards = post_form(as_teacher, f"/classes/{school_class.id}/students", {"count": "1"}, page="/classes")
    assert cards.status_code == 200
    check_page(cards, "login cards")
    invalid = post_form(as_teacher, "/classes/new", {"name": ""}, page="/classes/new")
    assert invalid.status_code == 400
    check_page(invalid, "class form with errors")

    for user, paths in (
        (coordinator, ["/dashboard", "/school/teachers", f"/classes/{school_class.id}"]),
        (admin, ["/dashboard", "/school/teachers"]),
        (pending, ["/dashboard", "/account/profile"]),
        (student, ["/dashboard", "/account/password"]),
        (new_pupil, ["/account/password"]),
    ):
        user_client = app.test_client()
        log_in(user_client, user)
        for path in paths:
            visit(user_client, path)

    assert seen >= 20


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "\\/evil.example", "/%0a/x\n"]
)
def test_the_language_switch_never_redirects_off_the_site(client, target):
    response = post_form(client, "/language", {"language": "de", "next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_the_language_switch_returns_to_the_page_it_was_used_on(client):
    response = post_form(client, "/language", {"language": "de", "next": "/join?from=menu"})

    assert response.headers["Location"] == "/join?from=menu"
    assert 'lang="de"' in client.get("/login").get_data(as_text=True)


def test_csrf_tokens_differ_between_sessions(app):
    assert csrf_token(app.test_client()) != csrf_token(app.test_client())


@pytest.mark.parametrize("header", ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"])
def test_pages_carry_the_other_protective_headers(client, header):
    assert client.get("/login").headers[header]


def test_pages_with_personal_data_are_not_cached(client, make):
    log_in(client, make.teacher())
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"
