"""The project's facts as its pages show them: weekly times in each partner school's own
time, and the level each partner class gave for the working languages."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import format_date

from app.core.db import utcnow
from app.modules.projects.session_times import partner_places
from app.modules.projects.setup import WeeklySlot, slot_in_zone


def _stored_slots(project) -> list[WeeklySlot]:
    return [WeeklySlot.from_json(slot) for slot in project.weekly_slots or []]


def slots_in(project, zone: str) -> list[WeeklySlot]:
    """The project's weekly slots on `zone`'s clock (this week's offsets)."""
    if not project.slot_zone:
        return []
    today = utcnow().date()
    moved = [part for slot in _stored_slots(project) for part in slot_in_zone(slot, project.slot_zone, zone, today)]
    return sorted(moved, key=lambda s: (s.weekday, s.start))


def _slot_text(slot: WeeklySlot) -> str:
    day = format_date(date(2024, 1, 1) + timedelta(days=slot.weekday), "EEEE")  # 1 Jan 2024 was a Monday
    return f"{day} {slot.start // 60:02d}:{slot.start % 60:02d}–{slot.end // 60:02d}:{slot.end % 60:02d}"


def weekly_times(project) -> list[tuple[str, list[str]]]:
    """Each partner school with the project's weekly slots in its own local time."""
    places = partner_places(link.school_class.school for link in project.classes)
    return [(city, [_slot_text(slot) for slot in slots_in(project, zone)]) for zone, city in places]


def language_levels(project) -> dict[str, list[tuple[str, str]]]:
    """For each working language, the level each partner class gave for it (its class details)."""
    levels: dict[str, list[tuple[str, str]]] = {code: [] for code in project.languages}
    for link in project.classes:
        for language in link.school_class.languages:
            if language.language in levels:
                levels[language.language].append((link.school_class.name, language.cefr_level))
    return levels
