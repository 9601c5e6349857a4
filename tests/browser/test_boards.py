"""Boards in a real browser: a pupil adds a card with the keyboard only; the boards list and
the board page pass axe-core, on a desktop and at a phone's width (columns stacked)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible, log_in
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

PORTO, HELSINKI = "student.porto.1", "student.helsinki.1"

# An exchange of its own with one board, so the shared demo data stays as other tests expect.
_CREATE_BOARD = """
import sys
from sqlalchemy import select
from app import create_app
from app.auth.models import User
from app.extensions import db
from app.modules.boards import operations, queries
from app.modules.projects.operations import create_project
app = create_app()
with app.app_context():
    porto, helsinki = (db.session.scalar(select(User).where(User.username == name)) for name in sys.argv[2:4])
    classes = [porto.memberships[0].school_class, helsinki.memberships[0].school_class]
    project = create_project(classes[0].teacher_id, classes, sys.argv[1])
    teacher = db.session.get(User, classes[0].teacher_id)
    board = operations.create_board(
        queries.exchange_access(project, teacher), teacher, "Our kitchens", title=sys.argv[1],
        description="Photos and words", layout="shelf", background="yellow", who_may_add="everyone",
        reaction_kind="none", team_id=None,
    )
    operations.add_column(queries.board_access(project, board.id, teacher), "Our tools")
    db.session.commit()
    print(project.id, board.id)
"""


def new_board(live_server, title: str) -> tuple[int, int]:
    environ = {**os.environ, **{k: live_server.environ[k] for k in ("DATABASE_URL", "SECRET_KEY")}}
    done = subprocess.run(
        [sys.executable, "-c", _CREATE_BOARD, title, PORTO, HELSINKI],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    project_id, board_id = done.stdout.strip().splitlines()[-1].split()
    return int(project_id), int(board_id)


def test_a_pupil_adds_a_card_by_keyboard_and_the_pages_are_accessible(new_context, live_server):
    title = f"Meet our class {secrets.token_hex(3)}"
    project_id, board_id = new_board(live_server, title)

    pupil = new_context().new_page()
    log_in(pupil, PORTO)
    pupil.goto(f"/exchanges/{project_id}/boards")
    expect(pupil.get_by_role("link", name=title)).to_be_visible()
    assert_accessible(pupil)

    # From the list to the form and back, by keyboard only.
    pupil.get_by_role("link", name=title).focus()
    with pupil.expect_navigation():
        pupil.keyboard.press("Enter")
    expect(pupil.get_by_role("heading", name="Our tools")).to_be_visible()
    assert_accessible(pupil)
    pupil.get_by_role("link", name="Add a card to Our tools").focus()
    with pupil.expect_navigation():
        pupil.keyboard.press("Enter")
    expect(pupil.locator("#column_id option:checked")).to_have_text("Our tools")  # the column it came from
    pupil.get_by_label("Title").focus()
    pupil.keyboard.type("Our best knife")
    pupil.keyboard.press("Tab")  # to the text
    pupil.keyboard.type("Sharp and **Portuguese**")
    pupil.keyboard.press("Tab")  # to the link
    pupil.keyboard.type("https://www.example.org/facas")
    assert_accessible(pupil)
    pupil.get_by_role("button", name="Add the card").focus()
    with pupil.expect_navigation():
        pupil.keyboard.press("Enter")

    card = pupil.locator(".board-card", has_text="Our best knife")
    expect(card).to_be_visible()
    expect(card.locator("strong")).to_have_text("Portuguese")
    expect(card.locator(".board-card-host")).to_have_text("example.org")
    expect(pupil.get_by_role("region", name="Our tools")).to_contain_text("Our best knife")
    assert_accessible(pupil)

    # A partner pupil on a phone: the columns stack, one below the other, and stay accessible.
    phone = new_context(viewport=PHONE).new_page()
    log_in(phone, HELSINKI)
    phone.goto(f"/exchanges/{project_id}/boards")
    assert_accessible(phone)
    phone.goto(f"/exchanges/{project_id}/boards/{board_id}")
    expect(phone.locator(".board-card", has_text="Our best knife")).to_be_visible()
    first, second = (phone.locator(".board-column").nth(n).bounding_box() for n in range(2))
    assert second["y"] >= first["y"] + first["height"] and abs(second["x"] - first["x"]) < 2
    assert_accessible(phone)
    pupil.context.watch.assert_clean()
    phone.context.watch.assert_clean()
