"""Writes of live sessions: schedule (once or weekly), change, cancel, and tell everyone.

Times are typed in the organiser's wall-clock time and stored in UTC. A weekly series is
repeated in that wall-clock time, so a 10:00 session stays at 10:00 across a clock change.
Every change raises the session's `sequence` (the .ics SEQUENCE) and notifies the people of
the exchange, in their notifications and live on their sockets, once it is committed.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _

from app.auth.models import User
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput
from app.core.timefmt import is_valid_zone
from app.extensions import db
from app.modules.notifications.models import Notification
from app.modules.notifications.operations import notify_user
from app.modules.projects import queries
from app.modules.projects.links import has_http_scheme, is_http_link
from app.modules.projects.models import LiveSession, Project
from app.modules.projects.operations import TITLE_LIMIT, record_activity
from app.modules.projects.session_times import NonexistentLocalTime, local_to_utc
from app.realtime.emit import emit_after_commit
from app.realtime.rooms import user_room

MAX_REPEAT_WEEKS = 20
DESCRIPTION_LIMIT = 2000
REASON_LIMIT = 500
SESSION_EVENT = "session_changed"  # pushed to each member's user room (docs/realtime.md)


class Scope(enum.StrEnum):
    """Which sessions of a weekly series a change reaches."""

    THIS = "this"
    FOLLOWING = "following"  # this one and the later ones of its series


class SessionNotice(enum.StrEnum):
    """The notification kinds of live sessions (a mail sender can pick them by kind)."""

    ADDED = "session_added"
    MOVED = "session_moved"  # a new time or duration
    UPDATED = "session_updated"  # title, description or link
    CANCELLED = "session_cancelled"


def _clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(_("Please give the session a title."), field="title")
    return title[:TITLE_LIMIT]


def _check_details(zone: str, duration_minutes: int, meeting_url: str | None, description: str | None) -> None:
    if not is_valid_zone(zone):
        raise InvalidInput(_("Unknown time zone."), field="start_time")
    if not 5 <= duration_minutes <= 600:
        raise InvalidInput(_("A session lasts between 5 and 600 minutes."), field="duration_minutes")
    if meeting_url and not has_http_scheme(meeting_url):
        raise InvalidInput(_("The meeting link must start with https:// or http://."), field="meeting_url")
    if meeting_url and not is_http_link(meeting_url):
        raise InvalidInput(_("This is not a valid link."), field="meeting_url")
    if description and len(description) > DESCRIPTION_LIMIT:
        message = _("A description has at most %(count)d characters.", count=DESCRIPTION_LIMIT)
        raise InvalidInput(message, field="description")


def _start(day: date, at: time, zone: str) -> datetime:
    try:
        return local_to_utc(day, at, zone)
    except NonexistentLocalTime:
        clock = f"{at:%H:%M}"
        message = _("%(time)s does not exist in %(zone)s that day: the clocks go forward.", time=clock, zone=zone)
        raise InvalidInput(message, field="start_time") from None


def _refuse_past(starts_at: datetime) -> None:
    if starts_at <= utcnow():
        raise InvalidInput(_("This time has already passed: please choose a time in the future."), field="start_date")


def schedule_sessions(
    project: Project,
    user: User,
    *,
    title: str,
    day: date,
    at: time,
    zone: str,
    duration_minutes: int,
    meeting_url: str | None,
    description: str | None = "",
    repeat_weeks: int = 1,
) -> list[LiveSession]:
    """One session, or a weekly series of `repeat_weeks` at the same wall-clock time in `zone`."""
    queries.require_open(project)
    title = _clean_title(title)
    _check_details(zone, duration_minutes, meeting_url, description)
    if not 1 <= repeat_weeks <= MAX_REPEAT_WEEKS:
        message = _("A session repeats for 1 to %(count)d weeks.", count=MAX_REPEAT_WEEKS)
        raise InvalidInput(message, field="repeat_weeks")
    starts = [_start(day + timedelta(weeks=week), at, zone) for week in range(repeat_weeks)]
    _refuse_past(starts[0])
    series_id = uuid.uuid4().hex if repeat_weeks > 1 else None
    sessions = [
        LiveSession(
            project_id=project.id,
            title=title,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            meeting_url=meeting_url or None,
            description=(description or "").strip(),
            organiser_zone=zone,
            created_by_id=user.id,
            series_id=series_id,
        )
        for starts_at in starts
    ]
    db.session.add_all(sessions)
    db.session.flush()
    record_activity(project, user.id, "session_scheduled", title=title, session_id=sessions[0].id, weeks=repeat_weeks)
    notify_session_change(project, user, sessions, SessionNotice.ADDED)
    db.session.flush()
    return sessions


def update_session(
    project: Project,
    user: User,
    session: LiveSession,
    *,
    title: str,
    day: date,
    at: time,
    zone: str,
    duration_minutes: int,
    meeting_url: str | None,
    description: str | None,
    scope: Scope = Scope.THIS,
) -> list[LiveSession]:
    """Changes the session (or it and the later ones of its series) and returns those changed.

    With Scope.FOLLOWING every later session moves by the same number of days and takes the
    new wall-clock time, each on its own date (so a clock change between them is respected).
    """
    queries.require_open(project)
    if session.is_cancelled:
        raise Conflict(_("This session is cancelled: it cannot be changed any more."), code="session_cancelled")
    title = _clean_title(title)
    _check_details(zone, duration_minutes, meeting_url, description)
    new_start = _start(day, at, zone)
    _refuse_past(new_start)
    shift = day - session.starts_at.astimezone(ZoneInfo(zone)).date()
    targets = queries.series_from(session) if scope == Scope.FOLLOWING else [session]
    moved, changed = [], []
    for target in targets:
        starts_at = (
            new_start
            if target is session
            else _start(target.starts_at.astimezone(ZoneInfo(zone)).date() + shift, at, zone)
        )
        new_time = (starts_at, duration_minutes) != (target.starts_at, target.duration_minutes)
        details = (title, meeting_url or None, (description or "").strip())
        new_details = details != (target.title, target.meeting_url, target.description)
        if not (new_time or new_details):
            continue
        target.starts_at, target.duration_minutes, target.organiser_zone = starts_at, duration_minutes, zone
        target.title, target.meeting_url, target.description = details
        target.sequence += 1
        (moved if new_time else changed).append(target)
    if moved:
        notify_session_change(project, user, moved, SessionNotice.MOVED)
    if changed:
        notify_session_change(project, user, changed, SessionNotice.UPDATED)
    if moved or changed:
        record_activity(project, user.id, "session_changed", title=title, session_id=session.id)
    db.session.flush()
    return moved + changed


def cancel_session(
    project: Project, user: User, session: LiveSession, reason: str | None, scope: Scope = Scope.THIS
) -> list[LiveSession]:
    """Marks the session (or it and the later ones of its series) cancelled, with the reason:
    the rows stay, so everyone sees what will not happen and why."""
    queries.require_open(project)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(_("Please say why the session is cancelled."), field="reason")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(_("A reason has at most %(count)d characters.", count=REASON_LIMIT), field="reason")
    if session.is_cancelled:
        raise Conflict(_("This session is already cancelled."), code="session_cancelled")
    targets = queries.series_from(session) if scope == Scope.FOLLOWING else [session]
    now = utcnow()
    for target in targets:
        target.cancelled_at, target.cancel_reason = now, reason
        target.sequence += 1
    record_activity(project, user.id, "session_cancelled", title=session.title, session_id=session.id)
    notify_session_change(project, user, targets, SessionNotice.CANCELLED, reason=reason)
    db.session.flush()
    return targets


def notify_session_change(
    project: Project, actor: User, sessions: list[LiveSession], kind: SessionNotice, reason: str = ""
) -> list[Notification]:
    """One notification per person of the exchange (not the teacher who made the change), and a
    `session_changed` event on their sockets; both leave only when the change is committed.

    The params carry only what teachers wrote (the exchange's and session's titles, a reason)
    and the time: never a pupil's name.
    """
    first = sessions[0]
    params = {
        "project": project.title,
        "title": first.title,
        "starts_at": first.starts_at.isoformat(),
        "count": len(sessions),
        "reason": reason,
    }
    link = url_for("projects.session_detail", project_id=project.id, session_id=first.id)
    event = {"project_id": project.id, "kind": kind.value, "session_ids": [s.id for s in sessions]}
    notifications = []
    for user_id in sorted(queries.member_ids(project) - {actor.id}):
        notifications.append(notify_user(user_id, kind.value, params, link))
        emit_after_commit(db.session, SESSION_EVENT, event, user_room(user_id))
    return notifications
