"""Notifications that also go out by e-mail: the validation of a teacher's account always,
invitations and session changes to teachers who asked for it on their profile, pupils never."""

from __future__ import annotations

import re
import time

import pytest

from app.auth.models import AccountStatus
from app.extensions import db
from app.modules.notifications.models import Notification
from app.modules.notifications.operations import EMAILED_ON_REQUEST_KINDS, notify_user
from tests.auth.conftest import text_of
from tests.conftest import log_in, post_form
from tests.mail_support import html_body, text_body
from tests.matching.test_invitations import answer, invite, pair  # noqa: F401  (pair: a fixture)
from tests.matching.test_profile_pages import client_for


def settle(mail_via_smtp) -> None:
    """Waits for what was handed over, then a moment: a mail wrongly sent would have arrived."""
    mail_via_smtp()
    time.sleep(0.2)


def set_email_preference(client, user, wanted: bool):
    data = {"display_name": user.display_name, "locale": user.locale or "", "timezone": ""}
    if wanted:
        data["wants_email_updates"] = "y"
    response = post_form(client, "/account/profile", data, page="/account/profile")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_validated_teacher_is_told_in_the_app_and_by_e_mail(client, make, smtp_server, mail_via_smtp):
    school = make.school()
    coordinator = make.coordinator(school)
    pending = make.teacher(school, status=AccountStatus.PENDING, display_name="Rui Costa")
    log_in(client, coordinator)

    response = post_form(client, f"/school/teachers/{pending.id}/validate", {}, page="/school/teachers")

    assert response.status_code == 302
    notification = db.session.query(Notification).filter_by(user_id=pending.id).one()
    assert (notification.kind, notification.link) == ("account_validated", "/dashboard")
    mail_via_smtp()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == pending.email
    assert message["Subject"].strip() == "Your CrossClass account is validated: welcome!"
    assert "Hello Rui Costa," in text_body(message) and "http://localhost/dashboard" in text_body(message)
    assert 'href="http://localhost/dashboard"' in html_body(message)
    # Nobody else was told, and the teacher sees it in the app too.
    assert db.session.query(Notification).filter_by(user_id=coordinator.id).count() == 0
    teacher_client = client_for(client.application, pending)
    assert "Your CrossClass account is validated: welcome!" in text_of(teacher_client.get("/notifications"))


def test_validating_an_active_teacher_again_tells_nobody(client, make, smtp_server, mail_via_smtp):
    school = make.school()
    coordinator = make.coordinator(school)
    active = make.teacher(school)
    log_in(client, coordinator)

    post_form(client, f"/school/teachers/{active.id}/validate", {}, page="/school/teachers")

    settle(mail_via_smtp)
    assert smtp_server.messages == []
    assert db.session.query(Notification).filter_by(user_id=active.id).count() == 0


def test_an_invitation_is_e_mailed_to_a_teacher_who_asked_for_it(app, client, make, pair, smtp_server, mail_via_smtp):  # noqa: F811
    mine, theirs = pair
    invited = theirs.teacher
    set_email_preference(client_for(app, invited), invited, True)
    db.session.refresh(invited)
    assert invited.wants_email_updates is True
    log_in(client, mine.teacher)

    assert invite(client, mine, theirs).status_code == 302

    mail_via_smtp()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == invited.email
    expected = f"{mine.teacher.display_name} invites your class Cocina 1 to an exchange with Cozinha 11A."
    assert message["Subject"].strip() == expected and expected in text_body(message)
    assert "http://localhost/partners/invitations/" in text_body(message)
    assert "asked for them on your profile page" in text_body(message)
    assert "http://localhost/account/profile" in text_body(message)


def test_no_invitation_mail_without_the_preference(app, client, make, pair, smtp_server, mail_via_smtp):  # noqa: F811
    mine, theirs = pair
    invited = theirs.teacher
    set_email_preference(client_for(app, invited), invited, False)
    log_in(client, mine.teacher)

    assert invite(client, mine, theirs).status_code == 302

    settle(mail_via_smtp)
    assert db.session.query(Notification).filter_by(user_id=invited.id, kind="invitation_received").count() == 1
    assert smtp_server.messages == []


def test_an_answer_is_e_mailed_in_the_inviting_teachers_language(app, client, make, pair, smtp_server, mail_via_smtp):  # noqa: F811
    mine, theirs = pair
    mine.teacher.locale = "de"
    mine.teacher.wants_email_updates = True
    db.session.flush()
    log_in(client, mine.teacher)
    invite(client, mine, theirs)
    invitation_id = db.session.query(Notification).filter_by(kind="invitation_received").one().link.rsplit("/", 1)[1]

    assert answer(client_for(app, theirs.teacher), int(invitation_id), "decline").status_code == 302

    mail_via_smtp()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == mine.teacher.email
    assert message["Subject"].strip() == "Cocina 1 hat die Einladung von Cozinha 11A abgelehnt."
    assert 'lang="de"' in html_body(message)


def test_session_changes_are_e_mailable_kinds():
    assert {"session_added", "session_moved", "session_cancelled"} <= EMAILED_ON_REQUEST_KINDS
    assert {"invitation_received", "invitation_accepted", "invitation_declined"} <= EMAILED_ON_REQUEST_KINDS


@pytest.mark.parametrize("kind", ["session_moved", "account_validated", "invitation_received"])
def test_pupils_are_never_e_mailed(app, make, kind, smtp_server, mail_via_smtp):
    pupil = make.student()
    # Even a pupil account that somehow has an address and the preference set gets no mail.
    pupil.email = "pupil@example.eu"
    pupil.wants_email_updates = True
    db.session.flush()

    with app.test_request_context():
        notify_user(pupil.id, kind, {"class": "Cozinha 11A"}, "/dashboard")
    db.session.commit()

    settle(mail_via_smtp)
    assert smtp_server.messages == []


def test_a_pupil_cannot_turn_the_preference_on(app, client, make):
    pupil = make.student()
    log_in(client, pupil)
    assert "E-mail me about invitations" not in text_of(client.get("/account/profile"))

    set_email_preference(client, pupil, True)

    db.session.refresh(pupil)
    assert pupil.wants_email_updates is False


def preference_box(client) -> str:
    match = re.search(
        r'<input[^>]*name="wants_email_updates"[^>]*>', client.get("/account/profile").get_data(as_text=True)
    )
    assert match, "no preference checkbox on the profile page"
    return match.group(0)


def test_the_profile_shows_and_keeps_the_preference(app, client, make):
    teacher = make.teacher()
    log_in(client, teacher)
    page = text_of(client.get("/account/profile"))
    assert "E-mail me about invitations and session changes" in page and teacher.email in page
    assert "checked" not in preference_box(client)  # off unless asked for

    set_email_preference(client, teacher, True)
    db.session.refresh(teacher)
    assert teacher.wants_email_updates is True
    assert "checked" in preference_box(client)
    set_email_preference(client, teacher, False)
    db.session.refresh(teacher)
    assert teacher.wants_email_updates is False


def test_a_moved_session_is_e_mailed_to_the_partner_teacher_who_asked_for_it(app, make, smtp_server, mail_via_smtp):
    from tests.projects.conftest import build_exchange
    from tests.projects.test_session_changes import edit, only_session, schedule

    exchange = build_exchange(make)
    partner = exchange.helsinki.teacher
    partner.wants_email_updates = True
    pupil = exchange.helsinki_pupils[0]
    pupil.email, pupil.wants_email_updates = "pupil@example.eu", True  # still never mailed
    db.session.flush()
    teacher = client_for(app, exchange.porto.teacher)

    schedule(teacher, exchange)
    mail_via_smtp()
    (added,) = smtp_server.wait_for(1)
    assert added["To"] == partner.email and "a new live session “Our kitchens”" in text_body(added)

    edit(teacher, exchange, only_session(), start_time="11:00")
    mail_via_smtp()
    moved = smtp_server.wait_for(2)[1]
    assert moved["To"] == partner.email
    assert "moved to Thu 25 Mar 2027, 13:00 EET" in text_body(moved)  # in the partner's own zone
    assert f"/exchanges/{exchange.project.id}/sessions/" in text_body(moved)
    settle(mail_via_smtp)
    assert [m["To"] for m in smtp_server.messages] == [partner.email, partner.email]
