"""Live-session times: the organiser's wall-clock time to UTC, times for the viewer and the
partner schools, the .ics file, and proposals from the partner classes' shared weekly slots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_datetime
from flask_babel import gettext as _
from icalendar import Calendar, Event

from app.core.db import utcnow
from app.core.weekly_slots import shared_intervals
from app.modules.projects.links import is_http_link

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


def session_uid(session, host: str) -> str:
    """Stable for the session's whole life: a calendar recognises a changed event by it."""
    return f"live-session-{session.id}@{host}"


# Control characters (C0 but tab and newline, DEL, C1, the Unicode line separators) and
# unpaired surrogates: iCalendar text cannot carry them, and a stored value from before the
# checks (or written around them) must not make the file fail for everyone.
_NOT_CALENDAR_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _calendar_text(value: str | None) -> str:
    """Text for a multi-line property (DESCRIPTION): newlines kept, icalendar escapes them."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_CALENDAR_TEXT.sub(" ", value)


def _calendar_line(value: str | None) -> str:
    """Text for a one-line property (SUMMARY): every run of whitespace becomes one space."""
    return " ".join(_calendar_text(value).split())


def _event(session, url: str, host: str, with_meeting_link: bool) -> Event:
    event = Event()
    event.add("uid", session_uid(session, host))
    # SEQUENCE rises with each change and STATUS says whether it still happens, so a calendar
    # that imports the file again updates (or cancels) its copy instead of adding a second one.
    event.add("sequence", session.sequence)
    event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
    event.add("dtstamp", utcnow().replace(microsecond=0))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", (session.starts_at + timedelta(minutes=session.duration_minutes)).astimezone(UTC))
    meeting_url = session.meeting_url if with_meeting_link else None
    # A stored link that is not a clean http(s) URL (a newline in it broke the whole file)
    # gives way to the session page.
    link = meeting_url if is_http_link(meeting_url) else url
    title = _calendar_line(session.title)
    summary = _("Cancelled: %(title)s", title=title) if session.is_cancelled else title
    event.add("summary", summary)
    event.add("url", link)
    lines = [_calendar_line(session.project.title)]
    if session.is_cancelled and session.cancel_reason:
        lines.append(_("Cancelled: %(reason)s", reason=_calendar_text(session.cancel_reason)))
    if session.description:
        lines.append(_calendar_text(session.description))
    lines.append(link)
    event.add("description", "\n".join(lines))
    return event


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//CrossClass//Live sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    return calendar


def session_ics(session, url: str, host: str, with_meeting_link: bool = True) -> bytes:
    """One VEVENT in UTC; URL is the meeting link when there is one (and the viewer may have
    it), the session page otherwise."""
    calendar = _calendar()
    calendar.add_component(_event(session, url, host, with_meeting_link))
    return calendar.to_ical()


def exchange_ics(sessions_with_urls, host: str, with_meeting_link: bool = True) -> bytes:
    """Every session of an exchange (cancelled ones too, so calendars drop them), as session_ics."""
    calendar = _calendar()
    for session, url in sessions_with_urls:
        calendar.add_component(_event(session, url, host, with_meeting_link))
    return calendar.to_ical()


# ---- proposals from the classes' shared weekly slots -----------------------------------

PROPOSAL_MINUTES = 60
MIN_PROPOSAL_MINUTES = 30
PROPOSAL_DAYS = 28
DAY_FORMAT = "EEE d MMM"


@dataclass(frozen=True)
class Proposal:
    """A concrete time in the partner classes' shared weekly slots, as the form takes it."""

    starts_at: datetime
    duration_minutes: int
    day: date  # in the viewer's zone
    at: time
    label: str


def _round_up(moment: datetime, minutes: int) -> datetime:
    moment = moment.replace(second=0, microsecond=0) + (
        timedelta(minutes=1) if moment.second or moment.microsecond else timedelta()
    )
    return moment + timedelta(minutes=-moment.minute % minutes)


def _clock(moment: datetime, pattern: str) -> str:
    return format_datetime(moment.replace(tzinfo=None), pattern, rebase=False)


def _span(start: datetime, end: datetime, zone: str, with_day: bool) -> str:
    local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    times = f"{_clock(local_start, SHORT_FORMAT)}\u2013{_clock(local_end, SHORT_FORMAT)}"
    return f"{_clock(local_start, DAY_FORMAT)}, {times}" if with_day else times


def proposal_label(start: datetime, end: datetime, viewer_zone: str, places: list[tuple[str, str]]) -> str:
    """ "Tue 10 Mar, 10:00-11:00 your time · 11:00-12:00 in Helsinki" (with en dashes; the weekday
    beside a partner's time when their date differs)."""
    parts = [_("%(span)s your time", span=_span(start, end, viewer_zone, with_day=True))]
    viewer_day = start.astimezone(ZoneInfo(viewer_zone)).date()
    for zone, city in places:
        if zone == viewer_zone:
            continue
        other_day = start.astimezone(ZoneInfo(zone)).date() != viewer_day
        parts.append(_("%(time)s in %(city)s", time=_span(start, end, zone, with_day=other_day), city=city))
    return " · ".join(parts)


def slot_proposals(
    schedules, viewer_zone: str, places: list[tuple[str, str]], now: datetime, limit: int = 4
) -> list[Proposal]:
    """The next concrete times, within four weeks, that lie in every partner class's weekly slots:
    an hour at the start of each shared window (less when the window is shorter)."""
    if not schedules:
        return []
    start = _round_up(now, 15)
    proposals = []
    for begin, finish in shared_intervals(schedules, start, start + timedelta(days=PROPOSAL_DAYS)):
        minutes = int((finish - begin).total_seconds() // 60)
        if minutes < MIN_PROPOSAL_MINUTES:
            continue
        duration = min(PROPOSAL_MINUTES, minutes)
        end = begin + timedelta(minutes=duration)
        local = begin.astimezone(ZoneInfo(viewer_zone))
        label = proposal_label(begin, end, viewer_zone, places)
        proposals.append(Proposal(begin, duration, local.date(), local.time().replace(tzinfo=None), label))
        if len(proposals) == limit:
            break
    return proposals
