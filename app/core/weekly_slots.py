"""Weekly time slots of classes: a slot is local wall-clock time in the school's zone, and
what it means in UTC on a real date (summer-time changes included).

Matching scores partners on the time their slots share; an exchange proposes its live
sessions in that same shared time. Both use these helpers, which sit below every module.
Classes' slots are kept by the matching module (class profiles); it registers itself as
the source here, so a module below it (projects) can read them without importing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Slot:
    """A weekly availability window in the school's local time; weekday 0 is Monday."""

    weekday: int
    start_minute: int
    end_minute: int


@lru_cache(maxsize=65536)
def day_offsets(timezone: str, day: date) -> tuple[timedelta, ...]:
    """The UTC offsets a local day can have: one, or two on a day the clocks change."""
    zone = ZoneInfo(timezone)
    edges = (datetime.combine(day, time()), datetime.combine(day + timedelta(days=1), time()))
    return tuple(sorted({zone.utcoffset(moment.replace(fold=fold)) for moment in edges for fold in (0, 1)}))


def _transition(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first UTC minute after `low` (and by `high`) whose offset differs from the offset at `low`."""
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) // 2
        middle -= timedelta(seconds=middle.second, microseconds=middle.microsecond)
        if middle <= low:
            middle = low + timedelta(minutes=1)
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def slot_utc(timezone: str, day: date, slot: Slot) -> list[tuple[datetime, datetime]]:
    """The UTC instants whose local time in `timezone` lies in the slot on that local day.

    On a summer-time change day this is exact: a slot that starts in the skipped hour starts
    when the clocks jump, and the part of a slot inside the repeated hour happens twice.
    """
    midnight = datetime.combine(day, time())
    start = midnight + timedelta(minutes=slot.start_minute)
    end = midnight + timedelta(minutes=slot.end_minute)
    offsets = day_offsets(timezone, day)
    if len(offsets) == 1:
        return [((start - offsets[0]).replace(tzinfo=UTC), (end - offsets[0]).replace(tzinfo=UTC))]
    zone = ZoneInfo(timezone)
    low = (start - offsets[-1]).replace(tzinfo=UTC)
    high = (end - offsets[0]).replace(tzinfo=UTC)
    first, last = low.astimezone(zone).utcoffset(), high.astimezone(zone).utcoffset()
    if first == last:
        return [((start - first).replace(tzinfo=UTC), (end - first).replace(tzinfo=UTC))]
    change = _transition(zone, low, high)
    pieces = [
        ((start - first).replace(tzinfo=UTC), min((end - first).replace(tzinfo=UTC), change)),
        (max((start - last).replace(tzinfo=UTC), change), (end - last).replace(tzinfo=UTC)),
    ]
    pieces = [(piece_start, piece_end) for piece_start, piece_end in pieces if piece_end > piece_start]
    if len(pieces) == 2 and pieces[1][0] <= pieces[0][1]:
        return [(pieces[0][0], max(pieces[0][1], pieces[1][1]))]
    return pieces


def intervals_between(
    timezone: str, slots: Iterable[Slot], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The slots' UTC intervals that touch [start, end), merged and in order."""
    slots = tuple(slots)
    zone = ZoneInfo(timezone)
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    intervals = []
    day = first_day
    while day <= last_day:
        intervals += [
            piece for slot in slots if slot.weekday == day.weekday() for piece in slot_utc(timezone, day, slot)
        ]
        day += timedelta(days=1)
    return _merged([(a, b) for a, b in intervals if b > start and a < end])


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def shared_intervals(
    schedules: Iterable[tuple[str, Iterable[Slot]]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The UTC intervals in [start, end) that lie in a slot of every (zone, slots) schedule."""
    shared: list[tuple[datetime, datetime]] | None = None
    for timezone, slots in schedules:
        mine = intervals_between(timezone, slots, start, end)
        if shared is None:
            shared = mine
            continue
        shared = [
            (max(a_start, b_start), min(a_end, b_end))
            for a_start, a_end in shared
            for b_start, b_end in mine
            if min(a_end, b_end) > max(a_start, b_start)
        ]
    return [(max(begin, start), min(finish, end)) for begin, finish in _merged(shared or [])]


# ---- where the classes' slots come from -------------------------------------------------

SlotSource = Callable[[list[int]], dict[int, tuple[Slot, ...]]]
_sources: list[SlotSource] = []


def register_slot_source(source: SlotSource) -> None:
    """A module that keeps classes' weekly slots (matching) answers class ids with their slots."""
    if source not in _sources:
        _sources.append(source)


def weekly_slots_of(class_ids: Iterable[int]) -> dict[int, tuple[Slot, ...]]:
    """Each class's weekly slots; a class without any (or no source registered) is left out."""
    wanted = list(class_ids)
    found: dict[int, tuple[Slot, ...]] = {}
    for source in _sources:
        found.update({class_id: slots for class_id, slots in source(wanted).items() if slots})
    return found
