"""Live-session times: the organiser's wall-clock time to UTC, times for the viewer and the
partner schools, and the .ics file."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_datetime
from flask_babel import gettext as _
from icalendar import Calendar, Event

from app.core.db import utcnow

LONG_FORMAT = "EEE d MMM yyyy, HH:mm"
SHORT_FORMAT = "HH:mm"
DAY_AND_TIME_FORMAT = "EEE HH:mm"


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped when the clocks go forward."""


def local_to_utc(day: date, at: time, zone: str) -> datetime:
    """The UTC moment of a wall-clock time in a zone; a time skipped by a clock change is refused,
    and a time that happens twice (clocks going back) means its first occurrence."""
    local = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    moment = local.astimezone(UTC)
    if moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(zone)
    return moment


def _local(moment: datetime, zone: str, pattern: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_datetime(local.replace(tzinfo=None), pattern, rebase=False)} {local.tzname()}"


def time_line(moment: datetime, viewer_zone: str, places: list[tuple[str, str]]) -> str:
    """ "Tue 14 Mar 2027, 10:00 WET · 12:00 EET in Helsinki": the viewer's time, then each partner
    place whose zone differs (with the weekday when its date differs)."""
    parts = [_local(moment, viewer_zone, LONG_FORMAT)]
    viewer_day = moment.astimezone(ZoneInfo(viewer_zone)).date()
    for zone, city in places:
        if zone == viewer_zone:
            continue
        same_day = moment.astimezone(ZoneInfo(zone)).date() == viewer_day
        there = _local(moment, zone, SHORT_FORMAT if same_day else DAY_AND_TIME_FORMAT)
        parts.append(_("%(time)s in %(city)s", time=there, city=city))
    return " · ".join(parts)


def partner_places(schools) -> list[tuple[str, str]]:
    """(zone, city) of each partner school, one per zone."""
    places: dict[str, str] = {}
    for school in schools:
        places.setdefault(school.timezone, school.city)
    return list(places.items())


def session_ics(session, url: str, host: str, with_meeting_link: bool = True) -> bytes:
    """One VEVENT in UTC; URL is the meeting link when there is one (and the viewer may have
    it), the session page otherwise."""
    calendar = Calendar()
    calendar.add("prodid", "-//CrossClass//Live sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"live-session-{session.id}@{host}")
    event.add("dtstamp", utcnow().replace(microsecond=0))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", (session.starts_at + timedelta(minutes=session.duration_minutes)).astimezone(UTC))
    link = (session.meeting_url if with_meeting_link else None) or url
    event.add("summary", session.title)
    event.add("url", link)
    event.add("description", f"{session.project.title}\n{link}")
    calendar.add_component(event)
    return calendar.to_ical()
