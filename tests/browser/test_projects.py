"""The project space in a real browser, on a phone: the teacher-admin forms mixed teams and
schedules a live session; a pupil of the partner class sees the session and their own team.
Every page is checked with axe-core, and no script breaks the CSP."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible, log_in, screenshot
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

TEACHER = "ana.porto@demo.crossclass.eu"
PUPIL = "student.helsinki.1"  # in ICT Support 2
TITLE = "Cozinha 11A × ICT Support 2"

_CREATE = """
from app import create_app
from app.auth.models import SchoolClass
from app.extensions import db
from app.modules.projects.operations import create_project
app = create_app()
with app.app_context():
    porto = db.session.query(SchoolClass).filter_by(name="Cozinha 11A").one()
    helsinki = db.session.query(SchoolClass).filter_by(name="ICT Support 2").one()
    project = create_project(porto.teacher_id, [porto, helsinki])
    db.session.commit()
    print(project.id)
"""


def assert_fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px"


@pytest.fixture
def project_id(live_server) -> int:
    """An exchange between two demo classes, made in the live server's database."""
    environ = {**os.environ, **{k: live_server.environ[k] for k in ("DATABASE_URL", "SECRET_KEY")}}
    done = subprocess.run([sys.executable, "-c", _CREATE], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_teams_and_a_session_on_a_phone(new_context, project_id):
    context = new_context(viewport=PHONE)
    teacher = context.new_page()
    log_in(teacher, TEACHER)
    teacher.goto(f"/exchanges/{project_id}")
    expect(teacher.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(teacher.get_by_text("Ana Ribeiro started the exchange.")).to_be_visible()
    assert_accessible(teacher)
    assert_fits(teacher)
    screenshot(teacher, "project-home-phone")

    teacher.get_by_role("link", name="Teams", exact=True).click()
    teacher.get_by_label("Pupils per team").fill("2")
    teacher.get_by_role("button", name="Form teams").click()
    expect(teacher.locator(".flashes")).to_contain_text("4 teams of 2 pupils. Every team has pupils of at least two")
    expect(teacher.get_by_role("heading", level=2, name="Team 4")).to_be_visible()
    assert_accessible(teacher)
    assert_fits(teacher)
    screenshot(teacher, "project-teams-phone")

    teacher.get_by_role("link", name="Live sessions", exact=True).click()
    teacher.get_by_role("link", name="Schedule a session").click()
    teacher.get_by_label("Title").fill("Meet the partners")
    teacher.get_by_label("Date").fill("2027-04-01")
    teacher.get_by_label("Start time").fill("10:00")
    teacher.get_by_label("Video meeting link").fill("javascript:alert(1)")
    teacher.get_by_role("button", name="Schedule", exact=True).click()
    expect(teacher.locator("#meeting_url-error")).to_have_text("The meeting link must start with https:// or http://.")
    assert_accessible(teacher)
    teacher.get_by_label("Video meeting link").fill("https://meet.example.eu/room")
    teacher.get_by_role("button", name="Schedule", exact=True).click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Meet the partners")
    expect(teacher.get_by_text("Thu 1 Apr 2027, 10:00 WEST · 12:00 EEST in Helsinki")).to_be_visible()
    assert_accessible(teacher)
    assert_fits(teacher)
    screenshot(teacher, "project-session-phone")
    context.watch.assert_clean()

    pupil_context = new_context(viewport=PHONE)
    pupil = pupil_context.new_page()
    log_in(pupil, PUPIL)
    pupil.goto(f"/exchanges/{project_id}")
    expect(pupil.get_by_text("Thu 1 Apr 2027, 12:00 EEST · 10:00 WEST in Porto")).to_be_visible()
    expect(pupil.get_by_role("link", name="Edit the exchange")).to_have_count(0)
    assert_accessible(pupil)
    pupil.get_by_role("link", name="Teams", exact=True).click()
    expect(pupil.locator(".card-grid > li")).to_have_count(1)
    expect(pupil.get_by_role("button", name="Form new teams")).to_have_count(0)
    assert_accessible(pupil)
    assert_fits(pupil)
    pupil_context.watch.assert_clean()


_CREATE_UNEVEN = """
from app import create_app
from app.auth.models import AccountStatus, ClassMembership, Role, SchoolClass, User
from app.auth.operations import new_join_code
from app.core.db import utcnow
from app.extensions import db
from app.modules.projects.operations import create_project
app = create_app()
with app.app_context():
    porto = db.session.query(SchoolClass).filter_by(name="Cozinha 11A").one()
    helsinki = db.session.query(SchoolClass).filter_by(name="ICT Support 2").one()
    # A class of one pupil, of the Helsinki school but not of any demo teacher's usual classes.
    small = SchoolClass(
        school_id=helsinki.school_id, teacher_id=helsinki.teacher_id, name="Kokki pieni", vocational_field="Cooking",
        eqf_level=4, size=1, age_min=16, age_max=18, join_code=new_join_code(),
    )
    db.session.add(small)
    db.session.flush()
    db.session.add(User(
        username="student.uneven.1", password_hash="!", display_name="Pieni 1", role=Role.STUDENT,
        status=AccountStatus.ACTIVE, school_id=helsinki.school_id,
        memberships=[ClassMembership(class_id=small.id, joined_at=utcnow())],
    ))
    project = create_project(porto.teacher_id, [porto, small])
    db.session.commit()
    print(project.id)
"""


@pytest.fixture
def uneven_project_id(live_server) -> int:
    """Four pupils in Porto and one in Helsinki: too few to mix teams of two."""
    environ = {**os.environ, **{k: live_server.environ[k] for k in ("DATABASE_URL", "SECRET_KEY")}}
    done = subprocess.run([sys.executable, "-c", _CREATE_UNEVEN], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_teams_with_team_size_first_are_summed_up(new_context, uneven_project_id):
    context = new_context(viewport=PHONE)
    teacher = context.new_page()
    log_in(teacher, TEACHER)
    teacher.goto(f"/exchanges/{uneven_project_id}/teams")
    teacher.get_by_label("Pupils per team").fill("2")
    teacher.get_by_label("Team size first", exact=False).check()
    teacher.get_by_label("Pupils per team").press("Enter")  # the form sends from the keyboard as well
    expect(teacher.locator(".flashes")).to_have_text(
        "2 teams of 2–3 pupils. The smaller school has one pupil in 1 team. 1 team has pupils of one school only."
    )
    expect(teacher.locator(".card-grid > li")).to_have_count(2)
    # The partner school's pupil, by username: her first name stays at her school.
    expect(teacher.locator(".card-grid").get_by_text("student.uneven.1")).to_have_count(1)
    expect(teacher.locator(".card-grid").get_by_text("Pieni 1")).to_have_count(0)
    assert_accessible(teacher)
    assert_fits(teacher)
    screenshot(teacher, "project-teams-size-first-phone")

    # Every team mixed: one pupil in Helsinki allows only one team.
    teacher.get_by_label("Every team mixed", exact=False).check()
    teacher.once("dialog", lambda dialog: dialog.accept())
    teacher.get_by_role("button", name="Form new teams").click()
    expect(teacher.locator(".flashes")).to_contain_text("1 team of 5 pupils. Every team has pupils of at least two")
    expect(teacher.locator(".card-grid > li")).to_have_count(1)
    assert_accessible(teacher)

    # The weekly times, typed in Porto time, are shown in each school's own time.
    teacher.goto(f"/exchanges/{uneven_project_id}/edit")
    teacher.get_by_label("Day of time slot 1").select_option(label="Monday")
    teacher.get_by_label("Start of time slot 1").fill("10:00")
    teacher.get_by_label("End of time slot 1").fill("11:00")
    teacher.get_by_label("Inclusion").check()
    assert_accessible(teacher)
    assert_fits(teacher)
    teacher.get_by_role("button", name="Save").click()
    expect(teacher.get_by_text("In Porto: Monday 10:00–11:00")).to_be_visible()
    expect(teacher.get_by_text("In Helsinki: Monday 12:00–13:00")).to_be_visible()
    assert_accessible(teacher)
    assert_fits(teacher)
    screenshot(teacher, "project-weekly-times-phone")
    context.watch.assert_clean()


def test_a_guest_mentor_joins_by_link_on_a_phone(new_context, project_id):
    teacher = new_context(viewport=PHONE).new_page()
    log_in(teacher, TEACHER)
    teacher.goto(f"/exchanges/{project_id}/people")
    expect(teacher.get_by_text("Nobody else yet")).to_be_visible()
    assert_accessible(teacher)
    teacher.get_by_label("Who is the link for?").select_option("guest_mentor")
    teacher.get_by_label("Note for yourself").fill("Chef Rui, Hotel Infante")
    teacher.get_by_role("button", name="Make a link").click()
    link = teacher.get_by_label("Link for: A guest mentor from a host company").input_value()
    assert "/join/" in link
    expect(teacher.get_by_role("button", name="Revoke A guest mentor from a host company Chef Rui")).to_be_visible()
    assert_accessible(teacher)
    assert_fits(teacher)

    mentor = new_context(viewport=PHONE).new_page()
    mentor.goto(link)
    expect(mentor.get_by_role("heading", level=1)).to_contain_text(TITLE)
    assert_accessible(mentor)
    assert_fits(mentor)
    mentor.get_by_label("Your name").fill("Rui Mentor")
    mentor.get_by_label("E-mail").fill(f"rui.{project_id}@hotel.example")
    mentor.get_by_label("Password", exact=True).fill("a-long-hotel-passphrase")
    mentor.get_by_label("Repeat the password").fill("a-long-hotel-passphrase")
    mentor.get_by_role("button", name="Make my account and join").click()
    expect(mentor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(mentor.get_by_text("Your role: Guest mentor")).to_be_visible()

    # The link was for one person: opening it again says so plainly.
    again = new_context(viewport=PHONE).new_page()
    again.goto(link)
    expect(again.get_by_text("This invitation link is no longer valid")).to_be_visible()

    teacher.goto(f"/exchanges/{project_id}/people")
    expect(teacher.get_by_text("Rui Mentor · Guest mentor")).to_be_visible()
