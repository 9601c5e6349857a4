"""Live sessions that change: edited, cancelled with a reason (kept), repeated weekly in the
organiser's wall-clock time, past times refused, everyone told (notifications and a live
socket event), .ics files that update calendars (stable UID, rising SEQUENCE, STATUS), and
proposals from the partner classes' shared weekly slots."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.auth.models import Role
from app.core.errors import InvalidInput
from app.core.weekly_slots import Slot
from app.extensions import db
from app.modules.notifications.models import Notification
from app.modules.notifications.queries import describe
from app.modules.projects import queries
from app.modules.projects.models import LiveSession, ProjectRole
from app.modules.projects.operations import add_member
from app.modules.projects.session_operations import MAX_REPEAT_WEEKS, schedule_sessions
from app.modules.projects.session_times import slot_proposals
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import post_form
from tests.matching.test_profile_pages import add_profile, class_in, client_for
from tests.projects.conftest import plain_text
from tests.projects.test_sessions import GOOD, only_session, schedule
from tests.realtime.conftest import browsers  # noqa: F401  (the socket clients, reused)

TUESDAY, THURSDAY = 1, 3


def sessions_in_order() -> list[LiveSession]:
    db.session.expire_all()
    return db.session.query(LiveSession).order_by(LiveSession.starts_at, LiveSession.id).all()


def edit(client, exchange, session, **changes):
    path = f"{exchange.path}/sessions/{session.id}/edit"
    data = {
        "title": session.title,
        "start_date": "2027-03-25",
        "start_time": "10:00",
        "duration_minutes": str(session.duration_minutes),
        "meeting_url": session.meeting_url or "",
        "description": session.description,
        "scope": "this",
        **changes,
    }
    return post_form(client, path, data, page=f"{exchange.path}/sessions/new")


def cancel(client, exchange, session, reason="The Helsinki class is on a field trip.", scope="this"):
    path = f"{exchange.path}/sessions/{session.id}/cancel"
    data = {"reason": reason, "cancel_scope": scope}
    return post_form(client, path, data, page=f"{exchange.path}/sessions/new")


def ics_event(client, exchange, session):
    body = client.get(f"{exchange.path}/sessions/{session.id}.ics").get_data()
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    return event


# ---- edit and cancel ------------------------------------------------------------------


def test_a_partner_teacher_moves_and_renames_a_session(app, exchange):
    schedule(client_for(app, exchange.porto.teacher), exchange)
    session = only_session()
    helsinki = client_for(app, exchange.helsinki.teacher)  # Europe/Helsinki: types Helsinki time
    response = edit(
        helsinki,
        exchange,
        session,
        title="Our kitchens, part 2",
        start_date="2027-03-26",
        start_time="13:30",
        duration_minutes="90",
        description="Bring a recipe.",
    )
    assert response.status_code == 302
    session = only_session()
    assert session.starts_at == datetime(2027, 3, 26, 11, 30, tzinfo=UTC)  # EET = UTC+2
    assert (session.title, session.duration_minutes, session.description) == (
        "Our kitchens, part 2",
        90,
        "Bring a recipe.",
    )
    assert session.organiser_zone == "Europe/Helsinki" and session.sequence == 1
    page = plain_text(client_for(app, exchange.porto_pupils[0]).get(f"{exchange.path}/sessions/{session.id}"))
    assert "Fri 26 Mar 2027, 11:30 WET · 13:30 EET in Helsinki" in page and "Bring a recipe." in page
    assert "changed the live session “Our kitchens, part 2”." in plain_text(helsinki.get(exchange.path))


def test_the_edit_form_shows_the_session_in_the_viewers_time(app, exchange):
    schedule(client_for(app, exchange.porto.teacher), exchange)
    session = only_session()
    page = text_of(client_for(app, exchange.helsinki.teacher).get(f"{exchange.path}/sessions/{session.id}/edit"))
    assert 'value="2027-03-25"' in page and 'value="12:00"' in page and 'value="Our kitchens"' in page


def test_saving_without_a_change_changes_nothing(app, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    schedule(teacher, exchange)
    session = only_session()
    assert edit(teacher, exchange, session).status_code == 302
    assert only_session().sequence == 0
    assert count(Notification, Notification.kind.in_(["session_moved", "session_updated"])) == 0


def test_cancelling_needs_a_reason_and_keeps_the_session_with_it(app, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    schedule(teacher, exchange)
    session = only_session()

    response = cancel(teacher, exchange, session, reason="   ")
    assert response.status_code == 400
    assert "Please say why the session is cancelled." in field_error(response, "reason")
    assert only_session().cancelled_at is None

    assert cancel(teacher, exchange, session).status_code == 302
    session = only_session()  # kept, not deleted
    assert session.is_cancelled and session.cancel_reason == "The Helsinki class is on a field trip."
    pupil = client_for(app, exchange.helsinki_pupils[0])
    for path in ("/sessions", f"/sessions/{session.id}"):
        assert "Cancelled: The Helsinki class is on a field trip." in plain_text(pupil.get(exchange.path + path))
    assert "Cancelled" in plain_text(pupil.get(exchange.path))

    # A cancelled session is not changed or cancelled again.
    assert cancel(teacher, exchange, session, reason="Again").status_code == 400
    assert edit(teacher, exchange, session, title="Back on").status_code == 302
    session = only_session()
    assert session.title == "Our kitchens" and session.cancel_reason == "The Helsinki class is on a field trip."


def test_only_the_exchanges_teachers_change_or_cancel(app, make, exchange):
    schedule(client_for(app, exchange.porto.teacher), exchange)
    session = only_session()
    mentor, parent = make.user(Role.GUEST), make.user(Role.GUEST)
    add_member(exchange.project, mentor, ProjectRole.GUEST_MENTOR)
    add_member(exchange.project, parent, ProjectRole.VISITOR)
    coordinator = make.coordinator(exchange.porto.school)  # reads along as a visitor
    refused = [
        exchange.porto_pupils[0],
        exchange.helsinki_pupils[1],
        mentor,
        parent,
        coordinator,
        class_in(make, "IT").teacher,  # not in the exchange at all
    ]
    for person in refused:
        client = client_for(app, person)
        assert client.get(f"{exchange.path}/sessions/{session.id}/edit").status_code == 403, person
        assert edit(client, exchange, session, title="Mine now").status_code == 403, person
        assert cancel(client, exchange, session).status_code == 403, person
    session = only_session()
    assert session.title == "Our kitchens" and not session.is_cancelled and session.sequence == 0
    page = text_of(client_for(app, exchange.porto_pupils[0]).get(f"{exchange.path}/sessions/{session.id}"))
    assert "Change or cancel" not in page


# ---- weekly series --------------------------------------------------------------------


def test_a_weekly_series_keeps_its_local_time_across_the_clock_change(app, exchange):
    """Europe moves its clocks on 28 March 2027: 10:00 in Porto is 10:00 UTC before, 09:00 UTC after."""
    response = schedule(client_for(app, exchange.porto.teacher), exchange, start_date="2027-03-18", repeat_weeks="3")
    assert response.status_code == 302
    first, second, third = sessions_in_order()
    assert [s.starts_at for s in (first, second, third)] == [
        datetime(2027, 3, 18, 10, tzinfo=UTC),
        datetime(2027, 3, 25, 10, tzinfo=UTC),
        datetime(2027, 4, 1, 9, tzinfo=UTC),
    ]
    lisbon = ZoneInfo("Europe/Lisbon")
    assert {s.starts_at.astimezone(lisbon).time() for s in (first, second, third)} == {time(10)}
    assert [
        s.starts_at.astimezone(lisbon).date() - first.starts_at.astimezone(lisbon).date()
        for s in (first, second, third)
    ] == [
        timedelta(0),
        timedelta(weeks=1),
        timedelta(weeks=2),
    ]
    assert first.series_id and first.series_id == second.series_id == third.series_id
    assert response.headers["Location"].endswith(f"/sessions/{first.id}")
    # One notification per person for the whole series, not one per week.
    notices = db.session.query(Notification).filter_by(user_id=exchange.helsinki_pupils[0].id).all()
    with app.test_request_context():
        assert [describe(n) for n in notices] == [
            f"{exchange.project.title}: “Our kitchens”, every week for 3 weeks from Thu 18 Mar 2027, 10:00 UTC."
        ]


def test_a_single_session_has_no_series(app, exchange):
    schedule(client_for(app, exchange.porto.teacher), exchange)
    assert only_session().series_id is None


@pytest.mark.parametrize(("weeks", "message"), [("21", "Number must be between 1 and 20."), ("0", "between 1 and 20")])
def test_the_weekly_repeat_has_a_limit(app, exchange, weeks, message):
    response = schedule(client_for(app, exchange.porto.teacher), exchange, repeat_weeks=weeks)
    assert response.status_code == 400
    assert message in field_error(response, "repeat_weeks")
    assert count(LiveSession) == 0


def test_the_limit_itself_is_allowed_and_the_operation_refuses_more(app, exchange):
    assert MAX_REPEAT_WEEKS == 20
    assert schedule(client_for(app, exchange.porto.teacher), exchange, repeat_weeks="20").status_code == 302
    assert count(LiveSession) == 20
    with pytest.raises(InvalidInput) as refused:
        schedule_sessions(
            exchange.project,
            exchange.porto.teacher,
            title="Too many",
            day=datetime(2027, 9, 1).date(),
            at=time(10),
            zone="Europe/Lisbon",
            duration_minutes=45,
            meeting_url=None,
            repeat_weeks=21,
        )
    assert refused.value.field == "repeat_weeks"


def test_this_and_the_following_sessions(app, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    schedule(teacher, exchange, start_date="2027-03-18", repeat_weeks="4")
    first, second, third, fourth = sessions_in_order()

    # Moving the second to Friday 11:00 moves the later ones the same way, each on its own date.
    response = edit(teacher, exchange, second, start_date="2027-03-26", start_time="11:00", scope="following")
    assert response.status_code == 302
    first, second, third, fourth = sessions_in_order()
    assert first.starts_at == datetime(2027, 3, 18, 10, tzinfo=UTC) and first.sequence == 0
    assert [s.starts_at for s in (second, third, fourth)] == [
        datetime(2027, 3, 26, 11, tzinfo=UTC),
        datetime(2027, 4, 2, 10, tzinfo=UTC),  # 11:00 WEST
        datetime(2027, 4, 9, 10, tzinfo=UTC),
    ]
    assert [s.sequence for s in (second, third, fourth)] == [1, 1, 1]

    # "This session only" changes one.
    assert (
        edit(teacher, exchange, third, start_date="2027-04-02", start_time="11:00", title="Special").status_code == 302
    )
    assert [s.title for s in sessions_in_order()] == ["Our kitchens", "Our kitchens", "Special", "Our kitchens"]

    assert cancel(teacher, exchange, third, reason="Easter holidays", scope="following").status_code == 302
    cancelled = [s.is_cancelled for s in sessions_in_order()]
    assert cancelled == [False, False, True, True]
    page = plain_text(teacher.get(f"{exchange.path}/sessions/{first.id}/edit"))
    assert "This and the following sessions of the series" in page


# ---- past times -----------------------------------------------------------------------


def test_a_time_in_the_past_is_refused_on_create_and_on_edit(app, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    response = schedule(teacher, exchange, start_date=yesterday)
    assert response.status_code == 400
    assert "This time has already passed: please choose a time in the future." in field_error(response, "start_date")
    assert count(LiveSession) == 0

    schedule(teacher, exchange)
    session = only_session()
    response = edit(teacher, exchange, session, start_date=yesterday)
    assert response.status_code == 400
    assert "This time has already passed" in field_error(response, "start_date")
    session = only_session()
    assert session.starts_at == datetime(2027, 3, 25, 10, tzinfo=UTC) and session.sequence == 0


# ---- notifications and the live event -----------------------------------------------


def test_everyone_in_the_exchange_is_notified_of_added_moved_and_cancelled(app, make, exchange):
    mentor = make.user(Role.GUEST)
    add_member(exchange.project, mentor, ProjectRole.GUEST_MENTOR)
    pupils = exchange.porto_pupils + exchange.helsinki_pupils
    others = {exchange.helsinki.teacher.id, mentor.id, *(p.id for p in pupils)}
    teacher = client_for(app, exchange.porto.teacher)

    def notified(kind: str) -> set[int]:
        return {n.user_id for n in db.session.query(Notification).filter_by(kind=kind)}

    schedule(teacher, exchange)
    session = only_session()
    assert notified("session_added") == others  # everyone but the teacher who did it
    edit(teacher, exchange, session, start_time="11:00")
    assert notified("session_moved") == others
    edit(teacher, exchange, session, start_time="11:00", meeting_url="https://meet.example.eu/new-room")
    assert notified("session_updated") == others
    cancel(teacher, exchange, session)
    assert notified("session_cancelled") == others

    notices = db.session.query(Notification).filter(Notification.user_id == exchange.helsinki_pupils[0].id).all()
    assert {n.link for n in notices} == {f"{exchange.path}/sessions/{session.id}"}
    with app.test_request_context():
        sentences = {n.kind: describe(n) for n in notices}
    assert (
        sentences["session_added"]
        == f"{exchange.project.title}: a new live session “Our kitchens” on Thu 25 Mar 2027, 10:00 UTC."
    )
    assert "moved to Thu 25 Mar 2027, 11:00 UTC" in sentences["session_moved"]
    assert sentences["session_cancelled"].endswith("Reason: The Helsinki class is on a field trip.")
    for sentence in sentences.values():  # no pupil's name in what everyone is told
        assert not any(pupil.display_name in sentence for pupil in pupils)

    page = plain_text(client_for(app, exchange.helsinki.teacher).get("/notifications"))
    assert "“Our kitchens” on Thu 25 Mar 2027, 13:00 EET is cancelled" in page  # in the reader's own zone


def test_members_get_the_change_live_on_their_socket(app, exchange, browsers):  # noqa: F811
    pupil = browsers.connect_as(exchange.helsinki_pupils[0])
    partner = browsers.connect_as(exchange.helsinki.teacher)
    pupil.get_received()
    partner.get_received()
    teacher = browsers.http(exchange.porto.teacher)

    schedule(teacher, exchange)
    session = only_session()
    expected = {"project_id": exchange.project.id, "kind": "session_added", "session_ids": [session.id]}
    received = pupil.get_received()
    assert [item["args"][0] for item in received if item["name"] == "session_changed"] == [expected]
    assert [item["args"][0]["kind"] for item in received if item["name"] == "notification"] == ["session_added"]
    assert partner.events("session_changed") == [expected]

    cancel(teacher, exchange, session)
    assert [e["kind"] for e in pupil.events("session_changed")] == ["session_cancelled"]


def test_a_refused_change_tells_nobody(app, exchange, browsers):  # noqa: F811
    pupil = browsers.connect_as(exchange.helsinki_pupils[0])
    teacher = browsers.http(exchange.porto.teacher)
    schedule(teacher, exchange)
    session = only_session()
    pupil.get_received()
    before = count(Notification)
    assert edit(teacher, exchange, session, start_date="2020-01-01").status_code == 400
    assert pupil.events("session_changed") == [] and count(Notification) == before


# ---- calendar files -------------------------------------------------------------------


def test_the_ics_uid_stays_and_its_sequence_rises(app, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    schedule(teacher, exchange)
    session = only_session()
    pupil = client_for(app, exchange.helsinki_pupils[0])

    first = ics_event(pupil, exchange, session)
    assert str(first["uid"]) == f"live-session-{session.id}@localhost"
    assert first["sequence"] == 0 and str(first["status"]) == "CONFIRMED"

    edit(teacher, exchange, session, start_time="11:00")
    moved = ics_event(pupil, exchange, session)
    assert str(moved["uid"]) == str(first["uid"]) and moved["sequence"] == 1
    assert moved.decoded("dtstart") == datetime(2027, 3, 25, 11, tzinfo=UTC)

    cancel(teacher, exchange, session)
    gone = ics_event(pupil, exchange, session)
    assert str(gone["uid"]) == str(first["uid"]) and gone["sequence"] == 2
    assert str(gone["status"]) == "CANCELLED"
    assert "The Helsinki class is on a field trip." in str(gone["description"])


def test_the_exchange_calendar_holds_every_session(app, make, exchange):
    teacher = client_for(app, exchange.porto.teacher)
    schedule(teacher, exchange, repeat_weeks="3")
    first, second, third = sessions_in_order()
    cancel(teacher, exchange, second)
    response = client_for(app, exchange.helsinki_pupils[0]).get(f"{exchange.path}/sessions.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = {str(e["uid"]): e for e in Calendar.from_ical(response.get_data()).walk("VEVENT")}
    assert set(events) == {f"live-session-{s.id}@localhost" for s in (first, second, third)}
    assert str(events[f"live-session-{second.id}@localhost"]["status"]) == "CANCELLED"
    assert events[f"live-session-{second.id}@localhost"]["sequence"] == 1
    assert client_for(app, class_in(make, "IT").teacher).get(f"{exchange.path}/sessions.ics").status_code == 403


# ---- proposals from the shared weekly slots --------------------------------------------


def add_slots(exchange, porto_slots, helsinki_slots):
    add_profile(exchange.porto, slots=porto_slots)
    add_profile(exchange.helsinki, slots=helsinki_slots)


def hours(weekday: int, start: str, end: str) -> tuple[int, int, int]:
    minutes = [int(h) * 60 + int(m) for h, m in (start.split(":"), end.split(":"))]
    return weekday, *minutes


def within_slots(start: datetime, end: datetime, zone: str, slots) -> bool:
    local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    begin = local_start.hour * 60 + local_start.minute
    finish = begin + int((end - start).total_seconds() // 60)
    return local_start.date() == local_end.date() and any(
        slot[0] == local_start.weekday() and slot[1] <= begin and finish <= slot[2] for slot in slots
    )


def test_proposals_lie_in_both_classes_shared_slots(app, exchange):
    porto_slots = [hours(TUESDAY, "09:00", "12:00"), hours(THURSDAY, "14:00", "15:00")]
    helsinki_slots = [hours(TUESDAY, "10:00", "16:00"), hours(THURSDAY, "08:00", "10:00")]  # Thu: no overlap
    add_slots(exchange, porto_slots, helsinki_slots)
    schedules = queries.class_schedules(exchange.project)
    assert schedules == [
        ("Europe/Lisbon", tuple(Slot(*s) for s in porto_slots)),
        ("Europe/Helsinki", tuple(Slot(*s) for s in helsinki_slots)),
    ]
    places = [("Europe/Lisbon", "Porto"), ("Europe/Helsinki", "Helsinki")]
    now = datetime(2027, 3, 15, 12, 7, tzinfo=UTC)  # a Monday
    with app.test_request_context():
        proposals = slot_proposals(schedules, "Europe/Lisbon", places, now)
    # Tuesdays 09:00-12:00 in Porto meet 10:00-16:00 in Helsinki: an hour from 09:00 Porto time,
    # across the clock change (28 March) too.
    assert [p.starts_at for p in proposals] == [
        datetime(2027, 3, 16, 9, tzinfo=UTC),
        datetime(2027, 3, 23, 9, tzinfo=UTC),
        datetime(2027, 3, 30, 8, tzinfo=UTC),
        datetime(2027, 4, 6, 8, tzinfo=UTC),
    ]
    for proposal in proposals:
        end = proposal.starts_at + timedelta(minutes=proposal.duration_minutes)
        assert proposal.duration_minutes == 60
        assert within_slots(proposal.starts_at, end, "Europe/Lisbon", porto_slots)
        assert within_slots(proposal.starts_at, end, "Europe/Helsinki", helsinki_slots)
        assert (proposal.day, proposal.at) == (
            datetime(2027, 3, 1).date().replace(day=proposal.day.day, month=proposal.day.month),
            time(9),
        )
    assert proposals[0].label == "Tue 16 Mar, 09:00–10:00 your time · 11:00–12:00 in Helsinki"
    assert proposals[2].label == "Tue 30 Mar, 09:00–10:00 your time · 11:00–12:00 in Helsinki"


def test_a_short_shared_window_gives_a_shorter_session_and_tiny_ones_none(app, exchange):
    add_slots(
        exchange,
        [hours(TUESDAY, "09:00", "09:45"), hours(THURSDAY, "09:00", "10:00")],
        [hours(TUESDAY, "11:00", "12:00"), hours(THURSDAY, "11:40", "12:00")],  # Thu: 20 min shared
    )
    with app.test_request_context():
        proposals = slot_proposals(
            queries.class_schedules(exchange.project), "Europe/Helsinki", [], datetime(2027, 3, 15, tzinfo=UTC)
        )
    assert {p.duration_minutes for p in proposals} == {45}
    assert {p.starts_at.astimezone(ZoneInfo("Europe/Helsinki")).weekday() for p in proposals} == {TUESDAY}


def test_the_form_offers_proposals_that_fill_it_in(app, exchange):
    every_day = [hours(day, "00:00", "24:00") for day in range(7)]
    add_slots(exchange, every_day, every_day)
    teacher = client_for(app, exchange.porto.teacher)
    page = text_of(teacher.get(f"{exchange.path}/sessions/new"))
    assert 'data-testid="slot-proposals"' in page
    assert "your time · " in page and "in Helsinki" in page

    response = teacher.get(f"{exchange.path}/sessions/new?start_date=2027-03-16&start_time=09:00&duration_minutes=60")
    page = text_of(response)
    assert response.status_code == 200
    assert 'value="2027-03-16"' in page and 'value="09:00"' in page and 'value="60"' in page
    assert 'id="start_date-error"' not in page


def test_without_slots_on_both_sides_there_is_no_proposal(app, exchange):
    add_profile(exchange.porto, slots=[hours(TUESDAY, "09:00", "12:00")])  # Helsinki has no profile
    assert queries.class_schedules(exchange.project) == []
    page = plain_text(client_for(app, exchange.porto.teacher).get(f"{exchange.path}/sessions/new"))
    assert "No shared time found in the next four weeks" in page


def test_good_input_still_schedules(app, exchange):
    assert schedule(client_for(app, exchange.porto.teacher), exchange, **GOOD).status_code == 302
    assert count(LiveSession) == 1
