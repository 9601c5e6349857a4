"""Browser fixtures: Debian's Chromium driven by Playwright, against the live server.

Every page opened through `new_context` is watched: console errors, uncaught exceptions
and requests that leave the live server's origin are collected so a test can assert
there were none. `assert_accessible` runs axe-core (served by the live server itself,
because the CSP allows same-origin scripts only) and fails on serious or critical issues.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import CHROMIUM, need_service

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DEMO_PASSWORD = "crossclass-demo"
# Screenshots of every checked page, for a person to look at (phone layouts above all).
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS") or Path(tempfile.gettempdir()) / "crossclass-screenshots")
# A page that answers a bad form with 400 is expected to; Chromium logs that document as
# "Failed to load resource", which is no script error. A failing script, style or fetch is.
_DOCUMENT_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


@dataclass
class Watch:
    """What went wrong on the pages of one browser context: script errors, server errors,
    broken resources, and any request to another site."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    # Pages served with a 4xx status on purpose (a form with errors, a missing page).
    error_documents: set[str] = field(default_factory=set)

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("request", self._on_request)
        page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if source in self.error_documents and _DOCUMENT_STATUS.match(message.text):
            return
        self.console_errors.append(f"{source}: {message.text}")

    def _on_response(self, response) -> None:
        # Chromium reports the response before it logs the failed load, so the set is ready.
        if 400 <= response.status < 500 and response.request.resource_type == "document":
            self.error_documents.add(response.url)
        elif response.status >= 400:
            self.failed_responses.append(f"{response.status} {response.request.method} {response.url}")

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(request.url)

    def assert_clean(self) -> None:
        problems = [
            *(f"console error: {e}" for e in self.console_errors),
            *(f"uncaught exception: {e}" for e in self.page_errors),
            *(f"request left the site: {url}" for url in self.foreign_requests),
            *(f"failed response: {line}" for line in self.failed_responses),
        ]
        assert not problems, "\n".join(problems)


@pytest.fixture(scope="session")
def browser():
    need_service(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server):
    """Opens isolated browser contexts (separate cookie jars: separate people)."""
    opened = []

    def open_context(viewport=DESKTOP, locale="en-GB"):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale=locale)
        context.set_default_timeout(10_000)
        context.watch = Watch(origin=live_server.url)
        context.on("page", context.watch.attach)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context):
    return context.new_page()


def assert_accessible(page) -> None:
    """Runs axe-core on the page as it is now; fails on any serious or critical violation."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        page.add_script_tag(url=f"{origin}/static/vendor/axe.min.js")
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ") + " — " + n.failureSummary.replace(/\\s+/g, " ")),
            }));
        }"""
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    report = "\n".join(f"[{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"][:5]) for v in serious)
    assert not serious, f"axe-core found problems on {page.url}:\n{report}"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, login: str, password: str = DEMO_PASSWORD, check_accessible: bool = False) -> None:
    page.goto("/login")
    if check_accessible:
        assert_accessible(page)
    page.get_by_label("Username or e-mail").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
