"""Times are stored in UTC and shown in the viewer's zone, with the partner's zone beside."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import format_datetime
from flask_login import current_user


def is_valid_zone(name: str) -> bool:
    return name in available_timezones()


def viewer_zone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.zone_name
    return "UTC"


def format_local(moment: datetime | None, zone: str | None = None, fmt: str = "medium") -> str:
    """A UTC moment in the given zone (the viewer's by default), with the zone's abbreviation."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone or viewer_zone()))
    return f"{format_datetime(local.replace(tzinfo=None), fmt, rebase=False)} {local.tzname()}"
