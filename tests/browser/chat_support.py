"""What the chat browser tests share: a server of their own with one exchange made by a setup
script (the shared live server's data stays as other tests expect it), pages that open the
chat logged in, and finding and writing messages."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
from contextlib import contextmanager

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, Watch, log_in
from tests.conftest import ROOT, ServerProcess, prepare_database

LIVE = 8_000  # ms: how long a live update may take to show
TEACHER = "ana.porto@demo.crossclass.eu"  # the Porto class's teacher in the demo data
PORTO, HELSINKI = "student.porto.1", "student.helsinki.1"

_EXCHANGE_SCRIPT = """
import json
from app import create_app
from app.auth.models import User
from app.extensions import db
from app.modules.projects.operations import create_project
from sqlalchemy import select
{imports}
app = create_app()
with app.app_context():
    porto, helsinki = (db.session.scalar(select(User).where(User.username == name)) for name in {logins!r})
    classes = [porto.memberships[0].school_class, helsinki.memberships[0].school_class]
    project = create_project(classes[0].teacher_id, classes, {title!r})
{then}
    db.session.commit()
"""


def exchange_script(title: str, then: str = "print(project.id)", imports: str = "") -> str:
    """A setup script for start_chat_server: the exchange of the Porto and Helsinki demo classes
    (`project`, its pupils `porto` and `helsinki`), then the lines of `then` (their last print
    is what the server's facts are), then the commit."""
    return _EXCHANGE_SCRIPT.format(
        imports=textwrap.dedent(imports).strip(),
        logins=(PORTO, HELSINKI),
        title=title,
        then=textwrap.indent(textwrap.dedent(then).strip(), "    "),
    )


def start_chat_server(tmp_path_factory, name: str, setup_script: str, **settings) -> ServerProcess:
    """A server on a fresh database with the demo data; setup_script runs against it first.
    The script's last printed line is JSON: a project id, or a dict with "project" in it.
    `settings` are more environment variables for the server (SOCKETS_PER_USER="1")."""
    url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'chat.db'}"
    prepare_database(url)
    environ = {"DATABASE_URL": url, "SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin"}
    made = subprocess.run(
        [sys.executable, "-c", setup_script], cwd=ROOT, env=environ, check=True, capture_output=True, text=True
    )
    server = ServerProcess(url, SECRET_KEY=secrets.token_hex(32), **settings).start()
    server.facts = json.loads(made.stdout.strip().splitlines()[-1])
    server.project_id = server.facts["project"] if isinstance(server.facts, dict) else server.facts
    return server


@contextmanager
def chat_pages(browser, server):
    """open_as(login, viewport, path): a browser context of its own, logged in, on the chat
    (or on path) and joined; every context is checked for console errors and CSP reports."""
    contexts = []

    def open_as(login: str, viewport=DESKTOP, path: str | None = None):
        context = browser.new_context(base_url=server.url, viewport=viewport, locale="en-GB")
        context.set_default_timeout(10_000)
        context.watch = Watch(origin=server.url)
        context.on("page", context.watch.attach)
        contexts.append(context)
        page = context.new_page()
        log_in(page, login)
        page.goto(path or f"/exchanges/{server.project_id}/chat")
        joined(page)
        return page

    yield open_as
    for context in contexts:
        context.watch.assert_clean()
        context.close()


def joined(page) -> None:
    expect(page.locator("[data-chat]")).to_have_attribute("data-joined", "true", timeout=LIVE)


def message(page, text: str):
    return page.locator(".chat-message", has_text=text)


def say(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
