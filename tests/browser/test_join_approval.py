"""A pupil joins a class with its code and waits; the teacher approves on the class page.

Real Chromium against the live server; every page on the way is checked with axe-core.
The class is made for this test alone, so the demo classes keep their pupils.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, log_in, screenshot
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

COORDINATOR = "ana.porto@demo.crossclass.eu"
PUPIL_PASSWORD = "my-own-secret-42"

_CREATE_CLASS = """
import sys
from app import create_app
from app.auth.models import ClassLanguage, SchoolClass
from app.auth.operations import new_join_code
from app.extensions import db
app = create_app()
with app.app_context():
    porto = db.session.query(SchoolClass).filter_by(name="Cozinha 11A").one()
    waiting_room = SchoolClass(
        school_id=porto.school_id, teacher_id=porto.teacher_id, name=sys.argv[1], vocational_field="Cooking",
        isced_code="1013", eqf_level=4, size=20, age_min=16, age_max=18, join_code=new_join_code(),
        languages=[ClassLanguage(language="en", cefr_level="B1")],
    )
    db.session.add(waiting_room)
    db.session.commit()
    print(waiting_room.id, waiting_room.join_code)
"""


def new_class(live_server, name: str) -> tuple[int, str]:
    environ = {**os.environ, **{k: live_server.environ[k] for k in ("DATABASE_URL", "SECRET_KEY")}}
    done = subprocess.run(
        [sys.executable, "-c", _CREATE_CLASS, name], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    class_id, code = done.stdout.strip().splitlines()[-1].split()
    return int(class_id), code


def test_a_pupil_waits_until_the_teacher_approves_on_the_class_page(new_context, live_server):
    run = secrets.token_hex(3)
    class_name = f"Sala de espera {run}"
    pupil_name = f"Rui {run}"
    class_id, code = new_class(live_server, class_name)

    pupil = new_context().new_page()
    pupil.goto("/join")
    pupil.get_by_label("Class code").fill(code)
    pupil.get_by_label("Nickname or first name").fill(pupil_name)
    pupil.get_by_label("Choose a password").fill(PUPIL_PASSWORD)
    pupil.get_by_label("Repeat the new password").fill(PUPIL_PASSWORD)
    pupil.get_by_role("button", name="Join").click()
    expect(pupil.get_by_role("heading", name="Waiting for your teacher's approval")).to_be_visible()
    expect(pupil.locator("#waiting-for-approval")).to_contain_text(class_name)
    assert_accessible(pupil)

    teacher = new_context().new_page()
    log_in(teacher, COORDINATOR)
    teacher.goto(f"/classes/{class_id}")
    waiting = teacher.locator("#waiting-pupils")
    expect(waiting.get_by_role("heading")).to_contain_text("Waiting for your approval")
    expect(waiting.locator(".badge")).to_have_text("1")
    expect(waiting).to_contain_text(pupil_name)
    assert_accessible(teacher)
    screenshot(teacher, "class-page-pupil-waiting")

    teacher.get_by_role("button", name=f"Approve {pupil_name}", exact=True).click()
    expect(teacher.get_by_text(f"{pupil_name} is now in the class.")).to_be_visible()
    expect(teacher.locator("#waiting-pupils")).to_have_count(0)
    assert_accessible(teacher)

    # The teacher lets the next pupils in without approval: the page warns what that means.
    teacher.get_by_label("are in the class at once, without my approval").check()
    teacher.get_by_role("button", name="Save code settings").click()
    expect(teacher.locator("#no-approval-warning")).to_contain_text("anyone who has this code can join your class")
    assert_accessible(teacher)

    pupil.goto("/dashboard")
    expect(pupil.get_by_role("heading", name="My class")).to_be_visible()
    expect(pupil.get_by_text(class_name)).to_be_visible()
    assert_accessible(pupil)
    pupil.context.watch.assert_clean()
    teacher.context.watch.assert_clean()
