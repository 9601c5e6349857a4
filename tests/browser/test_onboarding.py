"""The foundation's whole onboarding, in a real browser, three people in three contexts.

A new teacher registers at the Porto demo school and waits; the school's coordinator
validates them; the teacher creates a class and two student accounts; a student logs in
with a login card, must choose a password, and reaches the student dashboard. Every page
on the way, error states included, is checked with axe-core.
"""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser

PORTO_SCHOOL = "Escola Profissional de Hotelaria (demo) — Porto"
COORDINATOR = "ana.porto@demo.crossclass.eu"
TEACHER_PASSWORD = "a-long-teacher-passphrase"
STUDENT_PASSWORD = "my-own-secret-42"


def test_teacher_registers_is_validated_creates_a_class_and_a_student_logs_in(new_context, live_server):
    run = secrets.token_hex(4)
    teacher_name = f"Inês Tavares {run}"
    teacher_email = f"ines.{run}@example.eu"
    class_name = f"Pastelaria 10C {run}"

    # --- a new teacher registers, first with a mistake ---------------------------------
    teacher = new_context().new_page()
    teacher.goto("/register")
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Register as a teacher")
    assert_accessible(teacher)

    teacher.get_by_label("Your name").fill(teacher_name)
    teacher.get_by_label("E-mail").fill(teacher_email)
    teacher.get_by_label("Password", exact=True).fill(TEACHER_PASSWORD)
    teacher.get_by_label("Repeat the password").fill("not-the-same-password")
    teacher.get_by_label("Your school").select_option(label=PORTO_SCHOOL)
    teacher.get_by_role("button", name="Register").click()
    expect(teacher.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    repeat = teacher.get_by_label("Repeat the password")
    expect(repeat).to_have_attribute("aria-invalid", "true")
    expect(teacher.locator("#confirm-error")).to_have_text("The two passwords are not the same.")
    # What the teacher typed is kept, except the passwords.
    expect(teacher.get_by_label("E-mail")).to_have_value(teacher_email)
    expect(teacher.get_by_label("Password", exact=True)).to_have_value("")
    assert_accessible(teacher)

    teacher.get_by_label("Password", exact=True).fill(TEACHER_PASSWORD)
    repeat.fill(TEACHER_PASSWORD)
    teacher.get_by_role("button", name="Register").click()
    expect(teacher).to_have_url(f"{live_server.url}/register/sent")
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Registration sent")
    assert_accessible(teacher)

    # --- logs in and waits for validation ------------------------------------------------
    teacher.get_by_role("main").get_by_role("link", name="Log in").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Log in")
    assert_accessible(teacher)
    log_in(teacher, teacher_email, "not-my-password")
    expect(teacher.get_by_role("alert")).to_have_text("The username or password is not correct.")
    assert_accessible(teacher)
    log_in(teacher, teacher_email, TEACHER_PASSWORD)
    expect(teacher.get_by_role("heading", name="Your registration is waiting for validation")).to_be_visible()
    expect(teacher.get_by_role("link", name="My classes")).to_have_count(0)
    assert_accessible(teacher)

    # --- the coordinator validates them ----------------------------------------------------
    coordinator = new_context().new_page()
    log_in(coordinator, COORDINATOR, check_accessible=True)
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Hello Ana Ribeiro")
    assert_accessible(coordinator)
    coordinator.get_by_role("navigation", name="Main").get_by_role("link", name="Teachers").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Teachers")
    waiting = coordinator.locator(".item", has_text=teacher_email)
    expect(waiting).to_contain_text(teacher_name)
    assert_accessible(coordinator)
    waiting.get_by_role("button", name=f"Validate {teacher_name}").click()
    expect(coordinator.get_by_role("status")).to_contain_text(f"{teacher_name} can now use CrossClass.")
    expect(coordinator.locator(".item", has_text=teacher_email)).to_have_count(0)
    assert_accessible(coordinator)

    # --- the teacher, validated, creates a class -------------------------------------------
    teacher.reload()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Hello {teacher_name}")
    expect(teacher.get_by_role("link", name="My classes")).to_be_visible()
    assert_accessible(teacher)
    teacher.get_by_role("link", name="Create your first class").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("New class")
    assert_accessible(teacher)

    teacher.get_by_label("Class name").fill(class_name)
    # The field comes from the ISCED-F list: typed words filter it, Enter takes the first match.
    vocational_field = teacher.get_by_role("combobox", name="Vocational field")
    vocational_field.fill("food process")
    vocational_field.press("Enter")
    expect(vocational_field).to_have_value("Food processing (0721)")
    teacher.get_by_label("EQF level").select_option("4")
    teacher.get_by_label("Number of learners").fill("0")
    teacher.get_by_label("Youngest learner's age").fill("15")
    teacher.get_by_label("Oldest learner's age").fill("17")
    teacher.get_by_role("button", name="Save").click()
    expect(teacher.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    expect(teacher.get_by_label("Number of learners")).to_have_attribute("aria-invalid", "true")
    expect(teacher.get_by_label("Working language", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(vocational_field).to_have_value("Food processing (0721)")  # kept through the error
    assert_accessible(teacher)
    # The error summary leads straight to the field to correct.
    teacher.get_by_role("alert").get_by_role("link", name="Number of learners").click()
    expect(teacher.get_by_label("Number of learners")).to_be_focused()

    teacher.get_by_label("Number of learners").fill("12")
    teacher.get_by_label("Working language", exact=True).select_option(label="English")
    teacher.get_by_label("Level of the working language").select_option("B2")
    teacher.get_by_role("button", name="Save").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(class_name)
    expect(teacher.get_by_role("status")).to_contain_text(f"The class {class_name} is created.")
    expect(teacher.get_by_role("main")).to_contain_text("Food processing · EQF 4 · 12 learners, aged 15–17")
    expect(teacher.get_by_role("main")).to_contain_text("EN B2")
    assert_accessible(teacher)

    # --- and two student accounts, after an empty try ------------------------------------
    create = teacher.get_by_role("button", name="Create accounts and login cards")
    create.click()
    expect(teacher.locator("#names-error")).to_have_text("Paste at least one name or give a number of students.")
    expect(teacher.get_by_label("Names, one per line")).to_have_attribute("aria-invalid", "true")
    assert_accessible(teacher)
    teacher.get_by_label("Names, one per line").fill("Marta\nTiago\n")
    create.click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Login cards for {class_name}")
    cards = teacher.locator(".login-card")
    expect(cards).to_have_count(2)
    assert_accessible(teacher)
    screenshot(teacher, "onboarding-login-cards")
    marta = cards.filter(has_text="Marta")
    username = marta.locator(".card-username").inner_text().strip()
    one_time_password = marta.locator(".card-password").inner_text().strip()
    assert username and one_time_password
    assert "marta" not in username.lower(), "usernames are pseudonyms, not the pupil's name"

    # --- the student logs in with the card, on a phone ------------------------------------
    student = new_context(viewport=PHONE).new_page()
    log_in(student, username, one_time_password, check_accessible=True)
    expect(student).to_have_url(f"{live_server.url}/account/password")
    expect(student.get_by_role("heading", level=1)).to_have_text("Change your password")
    # The one-time password is not asked for again.
    expect(student.get_by_label("Current password")).to_have_count(0)
    assert_accessible(student)

    # Nothing else opens before the password is changed.
    student.goto("/dashboard")
    expect(student).to_have_url(f"{live_server.url}/account/password")

    student.get_by_label("New password", exact=True).fill(STUDENT_PASSWORD)
    student.get_by_label("Repeat the new password").fill("something-else-entirely")
    student.get_by_role("button", name="Save the new password").click()
    expect(student.locator("#confirm-error")).to_have_text("The two passwords are not the same.")
    assert_accessible(student)

    student.get_by_label("New password", exact=True).fill(STUDENT_PASSWORD)
    student.get_by_label("Repeat the new password").fill(STUDENT_PASSWORD)
    student.get_by_role("button", name="Save the new password").click()
    expect(student.get_by_role("heading", level=1)).to_have_text("Hello Marta")
    expect(student.get_by_role("status")).to_contain_text("Your new password is saved.")
    expect(student.get_by_role("main")).to_contain_text(class_name)
    expect(student.get_by_role("main")).to_contain_text(f"Teacher: {teacher_name}")
    assert_accessible(student)
    screenshot(student, "onboarding-student-dashboard")

    # The teacher's class page now knows Marta has logged in.
    teacher.goto(teacher.url.replace("/students", ""))
    expect(teacher.get_by_role("row", name="Marta")).to_contain_text("Last login")
    expect(teacher.get_by_role("row", name="Tiago")).to_contain_text("Has not logged in yet")
    assert_accessible(teacher)

    for page in (teacher, coordinator, student):
        page.context.watch.assert_clean()
