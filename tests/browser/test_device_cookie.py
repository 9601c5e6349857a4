"""The device cookie in a real browser: Chromium keeps it across logout and sends it to the
login form only (app/auth/device_cookies.py)."""

import time

from playwright.sync_api import expect

from tests.browser.conftest import log_in

TEACHER = "joao.porto@demo.crossclass.eu"


def device_cookies_of(context) -> list[dict]:
    return [cookie for cookie in context.cookies() if cookie["name"] == "crossclass_device"]


def test_chromium_keeps_the_device_cookie_after_logout_and_sends_it_to_the_login_form_only(context, page):
    log_in(page, TEACHER)
    [cookie] = device_cookies_of(context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/login"
    assert 179 * 86400 < cookie["expires"] - time.time() <= 180 * 86400

    sent = {}
    page.on(
        "request",
        lambda request: sent.setdefault(request.url, "crossclass_device=" in request.all_headers().get("cookie", "")),
    )
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert device_cookies_of(context) == [cookie]

    log_in(page, TEACHER)
    login_posts = [url for url, with_cookie in sent.items() if url.endswith("/login") and with_cookie]
    assert login_posts, sent
    assert not any(with_cookie for url, with_cookie in sent.items() if not url.split("?")[0].endswith("/login"))
    context.watch.assert_clean()
