"""What a new exchange starts from: the period, languages, themes and weekly times the partner
classes' profiles have in common (pure, no database).

The profiles live in matching, which may import projects but not the other way round: matching
works the values out with these helpers and hands an ExchangeSetup to projects' operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.themes import THEMES

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly window in some zone's wall-clock time; weekday 0 is Monday, end may be 1440."""

    weekday: int
    start: int
    end: int

    def as_json(self) -> dict:
        return {"weekday": self.weekday, "start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, data: dict) -> WeeklySlot:
        return cls(int(data["weekday"]), int(data["start"]), int(data["end"]))


@dataclass(frozen=True)
class ExchangeSetup:
    """The first values of a new exchange; the teachers change them on the edit page."""

    period: tuple[date, date] | None = None  # None: the classes' periods do not overlap
    languages: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    slots: tuple[WeeklySlot, ...] = ()
    slot_zone: str | None = None
    periods_apart: bool = False  # the classes gave periods without a day in common


def period_overlap(periods: Iterable[tuple[date, date]]) -> tuple[date, date] | None:
    """The days every period covers (both ends included), or None when there is no such day
    (or no period at all). A period whose end comes before its start covers no day."""
    periods = list(periods)
    if not periods:
        return None
    start = max(p[0] for p in periods)
    end = min(p[1] for p in periods)
    return (start, end) if start <= end else None


def ordered_themes(*theme_lists: Sequence[str]) -> tuple[str, ...]:
    """Themes every class chose first, then the others; each part in the order of the shared
    list (app/core/themes.py), the classes' own words after it in the order they were given."""
    seen: list[str] = []
    for themes in theme_lists:
        seen.extend(t for t in themes if t not in seen)
    shared = set.intersection(*(set(t) for t in theme_lists)) if theme_lists else set()

    def key(theme: str) -> tuple[int, int, int]:
        known = THEMES.index(theme) if theme in THEMES else len(THEMES)
        return (0 if theme in shared else 1, known, seen.index(theme))

    return tuple(sorted(seen, key=key))


def windows_to_slots(windows: Iterable[tuple[datetime, datetime]], zone: str) -> tuple[WeeklySlot, ...]:
    """Shared windows (aware instants of one sample week) as weekly slots in `zone`'s wall-clock
    time; a window across local midnight becomes two slots."""
    local_zone = ZoneInfo(zone)
    slots = []
    for start, end in windows:
        local_start, local_end = start.astimezone(local_zone), end.astimezone(local_zone)
        while local_start < local_end:
            next_midnight = datetime.combine(local_start.date() + timedelta(days=1), time(), tzinfo=local_zone)
            piece_end = min(local_end, next_midnight)
            begin = local_start.hour * 60 + local_start.minute
            finish = MINUTES_PER_DAY if piece_end == next_midnight else piece_end.hour * 60 + piece_end.minute
            if finish > begin:
                slots.append(WeeklySlot(local_start.weekday(), begin, finish))
            local_start = next_midnight
    return tuple(sorted(set(slots), key=lambda s: (s.weekday, s.start, s.end)))


def next_occurrence(slot: WeeklySlot, zone: str, today: date) -> tuple[datetime, datetime]:
    """The slot's next time on or after `today` (in UTC), with that week's clock in `zone`."""
    day = today + timedelta(days=(slot.weekday - today.weekday()) % 7)
    local_zone = ZoneInfo(zone)
    midnight = datetime.combine(day, time(), tzinfo=local_zone)
    start = (midnight + timedelta(minutes=slot.start)).astimezone(UTC)
    end = (midnight + timedelta(minutes=slot.end)).astimezone(UTC)
    return start, end


def slot_in_zone(slot: WeeklySlot, slot_zone: str, zone: str, today: date) -> tuple[WeeklySlot, ...]:
    """The same weekly window read on another zone's clock, with the offsets of its next
    occurrence; two slots when it crosses midnight there."""
    return windows_to_slots([next_occurrence(slot, slot_zone, today)], zone)
