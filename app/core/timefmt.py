"""Times are stored in UTC and shown in the viewer's zone, with the partner's zone beside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import format_datetime
from flask_login import current_user


def is_valid_zone(name: str) -> bool:
    return name in available_timezones()


# Set while something is made for another reader than the one logged in (an e-mail to a partner
# teacher, composed in the request of the teacher who changed a session).
_reader_zone: ContextVar[str | None] = ContextVar("reader_zone", default=None)


@contextmanager
def reading_in(zone: str) -> Iterator[None]:
    """Times formatted inside are in `zone`, the reader's, whoever's request this is."""
    token = _reader_zone.set(zone)
    try:
        yield
    finally:
        _reader_zone.reset(token)


def viewer_zone() -> str:
    if zone := _reader_zone.get():
        return zone
    if current_user and current_user.is_authenticated:
        return current_user.zone_name
    return "UTC"


def format_local(moment: datetime | None, zone: str | None = None, fmt: str = "medium") -> str:
    """A UTC moment in the given zone (the viewer's by default), with the zone's abbreviation."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone or viewer_zone()))
    return f"{format_datetime(local.replace(tzinfo=None), fmt, rebase=False)} {local.tzname()}"
