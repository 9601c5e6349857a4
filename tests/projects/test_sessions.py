"""Live sessions: typed in the organiser's wall-clock time, stored in UTC, shown in the viewer's
zone with the partner's beside (right across the clock change), an .ics per session, attendance."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app.extensions import db
from app.modules.projects.models import LiveSession, ProjectActivity, SessionAttendance
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import post_form
from tests.matching.test_profile_pages import class_in, client_for
from tests.projects.conftest import plain_text

GOOD = {
    "title": "Our kitchens",
    "start_date": "2027-03-25",
    "start_time": "10:00",
    "duration_minutes": "45",
    "meeting_url": "https://meet.example.eu/cozinha-kokki",
}


def schedule(client, exchange, **changes):
    path = f"{exchange.path}/sessions/new"
    return post_form(client, path, {**GOOD, **changes}, page=path)


def only_session() -> LiveSession:
    db.session.expire_all()
    return db.session.query(LiveSession).one()


def test_a_session_is_stored_in_utc_from_the_organisers_local_time(app, exchange):
    client = client_for(app, exchange.porto.teacher)  # Porto: Europe/Lisbon
    response = schedule(client, exchange)
    session = only_session()
    assert response.headers["Location"].endswith(f"/sessions/{session.id}")
    assert session.starts_at == datetime(2027, 3, 25, 10, 0, tzinfo=UTC)  # WET = UTC+0
    assert session.organiser_zone == "Europe/Lisbon" and session.duration_minutes == 45
    assert count(ProjectActivity, ProjectActivity.kind == "session_scheduled") == 1
    assert "scheduled the live session “Our kitchens”." in text_of(client.get(exchange.path))


def test_times_across_the_summer_time_change(app, exchange):
    """Europe moves its clocks on 28 March 2027: 10:00 in Porto is 10:00 UTC before, 09:00 UTC after,
    and Helsinki sees 12:00 both times, in EET and then EEST."""
    porto = client_for(app, exchange.porto.teacher)
    schedule(porto, exchange, title="Before", start_date="2027-03-25")
    schedule(porto, exchange, title="After", start_date="2027-04-01")
    db.session.expire_all()
    before, after = db.session.query(LiveSession).order_by(LiveSession.starts_at).all()
    assert before.starts_at == datetime(2027, 3, 25, 10, tzinfo=UTC)
    assert after.starts_at == datetime(2027, 4, 1, 9, tzinfo=UTC)

    page = plain_text(porto.get(f"{exchange.path}/sessions"))
    assert "Thu 25 Mar 2027, 10:00 WET · 12:00 EET in Helsinki" in page
    assert "Thu 1 Apr 2027, 10:00 WEST · 12:00 EEST in Helsinki" in page

    helsinki = client_for(app, exchange.helsinki.teacher)
    page = plain_text(helsinki.get(f"{exchange.path}/sessions"))
    assert "Thu 25 Mar 2027, 12:00 EET · 10:00 WET in Porto" in page
    assert "Thu 1 Apr 2027, 12:00 EEST · 10:00 WEST in Porto" in page


def test_a_partner_on_another_day_sees_the_weekday(app, make, exchange):
    exchange.helsinki.teacher.timezone = "America/New_York"  # a teacher travelling
    db.session.flush()
    schedule(client_for(app, exchange.porto.teacher), exchange, start_time="02:00", start_date="2027-04-01")
    page = plain_text(client_for(app, exchange.helsinki.teacher).get(f"{exchange.path}/sessions"))
    assert "Wed 31 Mar 2027, 21:00 EDT · Thu 02:00 WEST in Porto · Thu 04:00 EEST in Helsinki" in page


def test_a_time_skipped_by_the_clock_change_is_refused(app, exchange):
    response = schedule(client_for(app, exchange.porto.teacher), exchange, start_date="2027-03-28", start_time="01:30")
    assert response.status_code == 400
    assert "01:30 does not exist in Europe/Lisbon that day: the clocks go forward." in field_error(
        response, "start_time"
    )
    assert count(LiveSession) == 0


def test_the_ics_file_parses_back(app, exchange):
    schedule(client_for(app, exchange.porto.teacher), exchange)
    session = only_session()
    pupil = client_for(app, exchange.helsinki_pupils[0])
    response = pupil.get(f"{exchange.path}/sessions/{session.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert f'filename="crossclass-session-{session.id}.ics"' in response.headers["Content-Disposition"]
    body = response.get_data()
    assert b"DTSTART:20270325T100000Z" in body and b"DTEND:20270325T104500Z" in body

    calendar = Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2027, 3, 25, 10, tzinfo=UTC)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=45)
    assert str(event["summary"]) == "Our kitchens"
    assert str(event["url"]) == "https://meet.example.eu/cozinha-kokki"
    assert str(event["uid"]) == f"live-session-{session.id}@localhost"


def test_without_a_meeting_link_the_ics_points_to_the_session_page(app, exchange):
    schedule(client_for(app, exchange.porto.teacher), exchange, meeting_url="")
    session = only_session()
    assert session.meeting_url is None
    body = client_for(app, exchange.porto.teacher).get(f"{exchange.path}/sessions/{session.id}.ics").get_data()
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["url"]) == f"http://localhost{exchange.path}/sessions/{session.id}"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "Field cannot be longer than 200 characters."),
        ({"start_date": ""}, "start_date", "Please enter a date."),
        ({"start_date": "25/03/2027"}, "start_date", "Not a valid date value."),
        ({"start_time": ""}, "start_time", "Please enter a time."),
        ({"start_time": "25:00"}, "start_time", "Not a valid time value."),
        ({"duration_minutes": "0"}, "duration_minutes", "Number must be between 5 and 600."),
        ({"duration_minutes": "an hour"}, "duration_minutes", "Not a valid integer value."),
        (
            {"meeting_url": "javascript:alert(1)"},
            "meeting_url",
            "The meeting link must start with https:// or http://.",
        ),
        ({"meeting_url": "ftp://files.example.eu"}, "meeting_url", "The meeting link must start with https://"),
        ({"meeting_url": "https://a b.eu"}, "meeting_url", "This is not a valid link."),
        ({"meeting_url": "https://x.eu/" + "a" * 500}, "meeting_url", "Field cannot be longer than 500 characters."),
    ],
)
def test_bad_session_input_is_refused_and_nothing_is_written(app, exchange, changes, field, message):
    response = schedule(client_for(app, exchange.porto.teacher), exchange, **changes)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert count(LiveSession) == 0
    assert count(ProjectActivity, ProjectActivity.kind == "session_scheduled") == 0


def test_pupils_and_strangers_cannot_schedule(app, make, exchange):
    pupil = client_for(app, exchange.porto_pupils[0])
    assert schedule(pupil, exchange).status_code == 403
    assert pupil.get(f"{exchange.path}/sessions/new").status_code == 403
    assert schedule(client_for(app, class_in(make, "IT").teacher), exchange).status_code == 403
    assert count(LiveSession) == 0


def test_a_pupil_sees_sessions_with_the_link_but_not_attendance(app, exchange):
    schedule(client_for(app, exchange.helsinki.teacher), exchange)
    session = only_session()
    pupil = client_for(app, exchange.porto_pupils[1])
    page = plain_text(pupil.get(f"{exchange.path}/sessions/{session.id}"))
    assert "https://meet.example.eu/cozinha-kokki" in page
    assert "Attendance" not in page
    assert "Our kitchens" in plain_text(pupil.get(exchange.path))  # in the next sessions
    assert pupil.get(f"{exchange.path}/sessions/{session.id}.ics").status_code == 200


def test_strangers_see_no_session(app, make, exchange):
    schedule(client_for(app, exchange.helsinki.teacher), exchange)
    session = only_session()
    stranger = client_for(app, class_in(make, "IT").teacher)
    for path in ("/sessions", f"/sessions/{session.id}", f"/sessions/{session.id}.ics"):
        assert stranger.get(exchange.path + path).status_code == 403


def mark(client, exchange, session, ids):
    path = f"{exchange.path}/sessions/{session.id}/attendance"
    return post_form(client, path, {"present": [str(i) for i in ids]}, page=f"{exchange.path}/sessions/{session.id}")


def test_teachers_mark_attendance(app, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    schedule(teacher, exchange)
    session = only_session()
    ana, aino = exchange.porto_pupils[0], exchange.helsinki_pupils[2]

    response = mark(teacher, exchange, session, [ana.id, aino.id])
    assert response.status_code == 302
    assert {a.student_id for a in db.session.query(SessionAttendance)} == {ana.id, aino.id}

    # The partner teacher corrects the list: it replaces the earlier one.
    partner = client_for(app, exchange.helsinki.teacher)
    assert mark(partner, exchange, session, [aino.id]).status_code == 302
    db.session.expire_all()
    assert {a.student_id for a in db.session.query(SessionAttendance)} == {aino.id}
    page = text_of(partner.get(f"{exchange.path}/sessions/{session.id}"))
    checked = set(re.findall(r'<input checked[^>]*value="(\d+)"', page))
    assert checked == {str(aino.id)}


def test_attendance_only_for_pupils_of_the_project_and_only_by_teachers(app, make, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    schedule(teacher, exchange)
    session = only_session()
    outsider = make.student()

    response = mark(teacher, exchange, session, [exchange.porto_pupils[0].id, outsider.id])
    assert response.status_code == 400
    assert f"'{outsider.id}' is not a valid choice for this field." in text_of(response)
    assert count(SessionAttendance) == 0

    pupil = client_for(app, exchange.porto_pupils[0])
    assert mark(pupil, exchange, session, [exchange.porto_pupils[0].id]).status_code == 403
    assert count(SessionAttendance) == 0


def test_a_session_of_another_project_is_not_found_here(app, make, exchange):
    from tests.projects.conftest import build_exchange

    other = build_exchange(make, 1, 1)
    schedule(client_for(app, other.porto.teacher), other)
    session = only_session()
    client = client_for(app, exchange.porto.teacher)
    assert client.get(f"{exchange.path}/sessions/{session.id}").status_code == 404
    assert client.get(f"{exchange.path}/sessions/{session.id}.ics").status_code == 404
    assert mark(client, exchange, session, []).status_code == 404


def test_a_visitor_reads_the_session_without_the_meeting_link(app, make, exchange):
    from app.auth.models import Role
    from app.modules.projects.models import ProjectRole
    from app.modules.projects.operations import add_member

    schedule(client_for(app, exchange.porto.teacher), exchange)
    session = only_session()
    parent = make.user(Role.GUEST)
    add_member(exchange.project, parent, ProjectRole.VISITOR)
    client = client_for(app, parent)
    page = text_of(client.get(f"{exchange.path}/sessions/{session.id}"))
    assert "Our kitchens" in page and "meet.example.eu" not in page
    body = client.get(f"{exchange.path}/sessions/{session.id}.ics").get_data()
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["url"]).endswith(f"{exchange.path}/sessions/{session.id}")
    assert b"meet.example.eu" not in body
    assert client.get(f"{exchange.path}/teams").status_code == 403
    assert schedule(client, exchange).status_code == 403
