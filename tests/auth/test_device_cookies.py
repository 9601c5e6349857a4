"""Logins an attacker cannot lock: OWASP's device cookies (app/auth/device_cookies.py) over the
throttles for strangers (app/auth/throttle.py). Real HTTP through the test client; the
throttle's clock is moved forward instead of sleeping (the database is the real one)."""

import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth import device_cookies, throttle
from app.auth.device_cookies import COOKIE_NAME
from app.auth.models import LoginThrottle
from app.auth.password_reset import reset_token
from app.core.db import utcnow
from app.extensions import db
from tests.auth.conftest import text_of
from tests.conftest import PASSWORD, post_form

WRONG = "The username or password is not correct."
WAIT = re.compile(r"Too many failed attempts\. Please wait (\d+) seconds? and try again\.")
HOME = "198.51.100.10"  # where the owner usually logs in
ELSEWHERE = "203.0.113.50"  # where the owner is today (a trip, a new school)


class Clock:
    """The time the throttle and the device cookies see: still unless moved forward."""

    def __init__(self):
        self.now = utcnow()

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def _browsers_like_production(client):
    """The client fixture makes every app.test_client() run each request in its own context."""


@pytest.fixture
def clock(monkeypatch):
    moved = Clock()
    monkeypatch.setattr(throttle, "utcnow", lambda: moved.now)
    monkeypatch.setattr(device_cookies, "utcnow", lambda: moved.now)
    return moved


def attempt(browser, login, password, address):
    return post_form(
        browser, "/login", {"login": login, "password": password}, environ_overrides={"REMOTE_ADDR": address}
    )


def device_cookie(browser) -> str | None:
    cookie = browser.get_cookie(COOKIE_NAME, path="/login")
    return cookie.value if cookie else None


def give_cookie(browser, value: str) -> None:
    browser.set_cookie(COOKIE_NAME, value, path="/login")


def log_out(browser) -> None:
    assert post_form(browser, "/logout", {}, page="/dashboard").status_code == 302


def trusted_browser(app, user, address=HOME):
    """A browser the owner logged in with once (and logged out of again)."""
    browser = app.test_client()
    assert attempt(browser, user.username, PASSWORD, address).status_code == 302
    log_out(browser)
    assert device_cookie(browser)
    return browser


def slow_attack(app, clock, login, guesses, every=timedelta(minutes=15), first_address=1):
    """Wrong guesses, each from a new address, `every` apart; returns the last answer."""
    attacker = app.test_client()
    for number in range(first_address, first_address + guesses):
        clock.advance(seconds=every.total_seconds())
        response = attempt(attacker, login, f"guess-{number}", f"192.0.2.{number % 250 + 1}")
    return response


def shut_to_strangers(app, clock, login, first_address=1, every=timedelta(minutes=15)):
    """Just enough spread-out guessing that strangers must wait (the clock stands still after)."""
    guesses = app.config["LOGIN_ACCOUNT_FREE_ATTEMPTS"] + 2
    return slow_attack(app, clock, login, guesses, every=every, first_address=first_address)


def row(scope, key) -> LoginThrottle | None:
    db.session.expire_all()
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))


def shown_wait(response) -> int:
    match = WAIT.search(text_of(response))
    assert match, text_of(response)[:2000]
    return int(match.group(1))


# ---- the owner during an attack ----------------------------------------------------------


def test_the_owner_with_a_device_cookie_gets_in_at_once_during_a_slow_guessing_attack(app, make, clock):
    owner = make.teacher()
    laptop = trusted_browser(app, owner)
    cap = app.config["LOGIN_MAX_DELAY_SECONDS"]

    # The attack: one wrong guess every 15 minutes, each from a new address, for 10 hours.
    last = slow_attack(app, clock, owner.username, 40)
    assert last.status_code == 400
    assert row("account", owner.username).blocked_until == clock.now + timedelta(seconds=cap)
    assert attempt(app.test_client(), owner.username, PASSWORD, ELSEWHERE).status_code == 429

    # The owner's laptop, away from home, gets in at once: no wait, nothing new shown.
    response = attempt(laptop, owner.username, PASSWORD, ELSEWHERE)
    assert response.status_code == 302, text_of(response)[:2000]

    # The owner's login does not give the attacker fresh room.
    assert attempt(app.test_client(), owner.username, "guess-41", "192.0.2.200").status_code == 429
    assert row("account", owner.username).blocked_until == clock.now + timedelta(seconds=cap)


def test_without_its_cookie_the_owner_waits_only_once_guessing_is_spread_over_many_addresses(app, make, clock):
    owner = make.teacher()
    account_free = app.config["LOGIN_ACCOUNT_FREE_ATTEMPTS"]
    assert account_free > app.config["LOGIN_FREE_ATTEMPTS"]

    # The 12 slow guesses from changing addresses no longer keep out a new browser.
    slow_attack(app, clock, owner.username, 12)
    assert attempt(app.test_client(), owner.username, PASSWORD, ELSEWHERE).status_code == 302

    # Past the account-wide allowance strangers wait, the owner's new browser among them.
    slow_attack(app, clock, owner.username, account_free + 3, first_address=13)
    new_browser = app.test_client()
    refused = attempt(new_browser, owner.username, PASSWORD, HOME)
    assert refused.status_code == 429
    assert shown_wait(refused) == 4
    assert device_cookie(new_browser) is None
    # The wait is the one shown: then the owner is in, and this browser is trusted from now on.
    clock.advance(seconds=4)
    assert attempt(new_browser, owner.username, PASSWORD, HOME).status_code == 302
    assert device_cookie(new_browser)


def test_one_address_guessing_is_stopped_by_its_own_counter_and_leaves_the_account_open(app, make, clock):
    owner = make.teacher()
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    attacker = app.test_client()

    for number in range(free + 1):
        assert attempt(attacker, owner.username, f"guess-{number}", "192.0.2.66").status_code == 400
    assert attempt(attacker, owner.username, "guess-again", "192.0.2.66").status_code == 429

    # The account as a whole is not shut: a new browser elsewhere gets in without waiting.
    assert row("account", owner.username).blocked_until is None
    assert attempt(app.test_client(), owner.username, PASSWORD, ELSEWHERE).status_code == 302


# ---- a stolen or forged cookie -----------------------------------------------------------


def test_a_device_cookie_that_fails_too_often_is_locked_out(app, make, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DEVICE_LOCKOUT_MINUTES", 30)
    owner = make.teacher()
    limit = app.config["LOGIN_DEVICE_MAX_FAILURES"]
    laptop = trusted_browser(app, owner)
    shut_to_strangers(app, clock, owner.username)
    account_failures = row("account", owner.username).failures

    # A copy of the laptop's cookie guesses: each try is answered, none waits...
    thief = app.test_client()
    give_cookie(thief, device_cookie(laptop))
    for number in range(limit):
        response = attempt(thief, owner.username, f"stolen-{number}", f"192.0.2.{100 + number}")
        assert response.status_code == 400
        assert WRONG in text_of(response)
    # ... and the failures count against the cookie only, not against the strangers' counters.
    assert row("account", owner.username).failures == account_failures
    [device] = db.session.scalars(select(LoginThrottle).where(LoginThrottle.scope == "device")).all()
    assert device.blocked_until == clock.now + timedelta(minutes=30)

    # Locked out, the cookie is worth nothing: its holder is a stranger, and strangers wait.
    assert attempt(thief, owner.username, "stolen-more", "192.0.2.120").status_code == 429
    assert attempt(thief, owner.username, PASSWORD, "192.0.2.121").status_code == 429
    assert attempt(laptop, owner.username, PASSWORD, HOME).status_code == 429  # the same cookie

    # After the lock-out the cookie is trusted again, while the attack goes on.
    clock.advance(minutes=31)
    slow_attack(app, clock, owner.username, 1, every=timedelta(0), first_address=50)
    assert attempt(app.test_client(), owner.username, PASSWORD, ELSEWHERE).status_code == 429
    assert attempt(laptop, owner.username, PASSWORD, HOME).status_code == 302


def test_a_successful_login_clears_the_browsers_counter(app, make, clock):
    owner = make.teacher()
    limit = app.config["LOGIN_DEVICE_MAX_FAILURES"]
    laptop = trusted_browser(app, owner)
    shut_to_strangers(app, clock, owner.username)

    for _ in range(3):
        for number in range(limit - 1):
            assert attempt(laptop, owner.username, f"typo-{number}", HOME).status_code == 400
        assert attempt(laptop, owner.username, PASSWORD, HOME).status_code == 302
        log_out(laptop)
    assert row("account", owner.username).blocked_until > clock.now  # the strangers still wait
    assert db.session.scalars(select(LoginThrottle).where(LoginThrottle.scope == "device")).all() == []


def test_a_forged_or_foreign_cookie_gives_no_exemption(app, make, clock):
    owner = make.teacher()
    other = make.teacher()
    laptop = trusted_browser(app, owner)
    others_browser = trusted_browser(app, other)
    shut_to_strangers(app, clock, owner.username)
    genuine = device_cookie(laptop)

    payload, signature = genuine.rsplit(".", 1)
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged_entries = [[owner.id, "made-up-nonce", int(clock.now.timestamp())]]
    candidates = {
        "tampered signature": f"{payload}.{flipped}",
        "tampered entries": URLSafeSerializer("x").dumps(forged_entries).rsplit(".", 1)[0] + "." + signature,
        "signed with another key": URLSafeSerializer("another-secret-key-" * 3, salt="crossclass-device-cookie").dumps(
            forged_entries
        ),
        "garbage": "not a cookie at all",
        "another account's cookie": device_cookie(others_browser),
    }
    for name, value in candidates.items():
        browser = app.test_client()
        give_cookie(browser, value)
        assert attempt(browser, owner.username, PASSWORD, ELSEWHERE).status_code == 429, name

    browser = app.test_client()
    give_cookie(browser, genuine)
    assert attempt(browser, owner.username, PASSWORD, ELSEWHERE).status_code == 302


def test_an_old_device_cookie_no_longer_exempts(app, make, clock):
    owner = make.teacher()
    laptop = trusted_browser(app, owner)
    clock.advance(days=app.config["LOGIN_DEVICE_COOKIE_DAYS"] + 1)

    shut_to_strangers(app, clock, owner.username)

    assert attempt(laptop, owner.username, PASSWORD, ELSEWHERE).status_code == 429


def test_a_password_reset_clears_the_strangers_counters_and_keeps_the_device_cookie(app, make, clock):
    owner = make.teacher()
    laptop = trusted_browser(app, owner)
    school_pc = app.test_client()
    for number in range(app.config["LOGIN_FREE_ATTEMPTS"] + 2):
        attempt(school_pc, owner.username, f"forgotten-{number}", HOME)
    shut_to_strangers(app, clock, owner.username, every=timedelta(0))
    assert row("acct-addr", f"{owner.username}|{HOME}").blocked_until > clock.now
    assert attempt(school_pc, owner.username, PASSWORD, HOME).status_code == 429

    new_password = "sunny-harbour-31"
    reset_page = f"/password/reset/{reset_token(owner)}"
    reset = post_form(
        school_pc, reset_page, {"password": new_password, "confirm": new_password}, page="/password/forgot"
    )
    assert reset.status_code == 302

    # The delays were most likely the owner's own: gone, at every address.
    assert row("account", owner.username) is None
    assert row("acct-addr", f"{owner.username}|{HOME}") is None
    assert attempt(school_pc, owner.username, new_password, HOME).status_code == 302
    # The laptop's cookie still spares it the strangers' throttle once guessing goes on.
    shut_to_strangers(app, clock, owner.username, first_address=100)
    assert attempt(app.test_client(), owner.username, new_password, ELSEWHERE).status_code == 429
    assert attempt(laptop, owner.username, new_password, ELSEWHERE).status_code == 302


# ---- no account enumeration --------------------------------------------------------------


def test_unknown_usernames_are_throttled_like_real_ones_even_for_a_trusted_browser(app, make, clock):
    owner = make.teacher()
    # A school PC that a colleague logged in from: its cookie is for that colleague only.
    colleague = make.teacher()
    pc = trusted_browser(app, colleague)
    account_free = app.config["LOGIN_ACCOUNT_FREE_ATTEMPTS"]

    def story(login, first_address):
        answers = []
        for number in range(account_free + 2):
            response = attempt(pc, login, "wrong-password", f"192.0.2.{first_address + number}")
            alert = re.sub(r"\d+", "N", WAIT.search(text_of(response)).group(0)) if response.status_code == 429 else ""
            answers.append((response.status_code, WRONG in text_of(response), alert))
        account = row("account", login)
        return answers, account.failures, account.blocked_until - clock.now

    real = story(owner.username, 1)
    unknown = story("nobody@example.eu", 101)

    assert real == unknown
    answers = real[0]
    # Spread over addresses, the guesses are answered until the account-wide allowance is used up.
    assert answers[: account_free + 1] == [(400, True, "")] * (account_free + 1)
    assert answers[-1] == (429, False, "Too many failed attempts. Please wait N second and try again.")


# ---- the cookie itself -------------------------------------------------------------------


def device_cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE_NAME}=")]
    return header


def test_the_device_cookie_is_http_only_lax_long_lived_and_kept_at_logout(app, make, monkeypatch):
    owner = make.teacher()
    browser = app.test_client()

    response = attempt(browser, owner.username, PASSWORD, HOME)

    header = device_cookie_header(response)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/login" in header  # sent to the login page only
    assert f"Max-Age={app.config['LOGIN_DEVICE_COOKIE_DAYS'] * 86400}" in header
    assert "Secure" not in header  # the test app's origin is http://localhost

    value = device_cookie(browser)
    logout = post_form(browser, "/logout", {}, page="/dashboard")
    assert not [h for h in logout.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE_NAME}=")]
    assert device_cookie(browser) == value

    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert "Secure" in device_cookie_header(attempt(app.test_client(), owner.username, PASSWORD, HOME))


def test_one_browser_remembers_a_bounded_number_of_accounts(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DEVICE_COOKIE_ACCOUNTS", 3)
    pupils = [make.teacher() for _ in range(4)]
    shared_pc = app.test_client()

    for pupil in pupils:
        assert attempt(shared_pc, pupil.username, PASSWORD, HOME).status_code == 302
        log_out(shared_pc)
    # Logging in again moves an account to the front.
    assert attempt(shared_pc, pupils[2].username, PASSWORD, HOME).status_code == 302

    remembered = [entry.user_id for entry in device_cookies.read(device_cookie(shared_pc))]
    assert remembered == [pupils[2].id, pupils[3].id, pupils[1].id]  # the oldest went


def test_the_largest_allowed_cookie_fits_a_browsers_cookie_limit(app, monkeypatch):
    most = 50
    monkeypatch.setitem(app.config, "LOGIN_DEVICE_COOKIE_ACCOUNTS", most)

    class Person:
        def __init__(self, number):
            self.id = 2**31 - number  # the longest ids a database hands out

    value = None
    with app.test_request_context("/login"):
        for number in range(most + 5):
            response = Response()
            device_cookies.remember(response, Person(number), value)
            value = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        assert len(device_cookies.read(value)) == most
    assert len(f"{COOKIE_NAME}={value}") < device_cookies.MAX_COOKIE_BYTES
