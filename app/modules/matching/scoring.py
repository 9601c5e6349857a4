"""Partner scoring: hard constraints that are never broken, and a soft score with reasons.

Pure functions over plain values (no database), so the same code scores one pair on the
suggestions page, proves the constraints in property tests, and checks candidates in the
benchmark. Every number an explanation mentions is a field of the result it explains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

# Re-exported: explanations and pages name fields through the scoring module.
from app.core.isced import isced_detailed_fields, isced_names  # noqa: F401
from app.core.weekly_slots import Slot, slot_utc
from app.core.weekly_slots import day_offsets as _day_offsets

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
CEFR_RANK = {level: rank for rank, level in enumerate(CEFR_LEVELS, start=1)}
VIRTUAL = "virtual"
BLENDED = "blended"
MINOR_AGE = 16  # "no under-16s with adult learners unless both teachers allow it"
ADULT_AGE = 18
EARTH_RADIUS_KM = 6371.0088

DEFAULT_WEIGHTS = {
    "field": 0.30,
    "eqf": 0.10,
    "language": 0.15,
    "live": 0.15,
    "themes": 0.10,
    "size": 0.05,
    "distance": 0.10,
    "preferred_country": 0.05,
}


def field_similarity(code_a: str, code_b: str) -> float:
    """1 for the same detailed field, 0.6 for the same narrow field, 0.3 for the same broad one."""
    if code_a == code_b:
        return 1.0
    if code_a[:3] == code_b[:3]:
        return 0.6
    if code_a[:2] == code_b[:2]:
        return 0.3
    return 0.0


@dataclass(frozen=True)
class Profile:
    class_id: int
    country: str
    timezone: str
    latitude: float
    longitude: float
    isced: str
    eqf: int
    age_min: int
    age_max: int
    size: int
    languages: dict[str, int]  # language code -> CEFR rank (A1 = 1 … C2 = 6)
    period_start: date
    period_end: date
    mode: str = VIRTUAL
    can_send: bool = False
    can_host: bool = False
    wants_live: bool = True
    slots: tuple[Slot, ...] = ()
    themes: frozenset[str] = frozenset()
    preferred_countries: frozenset[str] = frozenset()
    excluded_countries: frozenset[str] = frozenset()
    max_distance_km: int | None = None
    allows_mixed_ages: bool = False
    past_partner_class_ids: frozenset[int] = frozenset()
    teacher_id: int = 0
    school_id: int = 0
    city: str = ""  # the school's town, for explanations; "" falls back to the zone's city


@dataclass(frozen=True)
class Settings:
    min_language_rank: int = CEFR_RANK["A2"]
    min_live_minutes: int = 45
    live_target_minutes: int = 180
    min_common_days: int = 14
    repeat_penalty: float = 0.15
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(
            min_language_rank=CEFR_RANK[config.get("MATCH_MIN_LANGUAGE_LEVEL", "A2")],
            min_live_minutes=config.get("MATCH_MIN_LIVE_MINUTES", 45),
            live_target_minutes=config.get("MATCH_LIVE_TARGET_MINUTES", 180),
            min_common_days=config.get("MATCH_MIN_COMMON_DAYS", 14),
            repeat_penalty=config.get("MATCH_REPEAT_PENALTY", 0.15),
            weights={**DEFAULT_WEIGHTS, **config.get("MATCH_WEIGHTS", {})},
        )


@dataclass(frozen=True)
class Violation:
    """A broken hard constraint; `code` picks the sentence, `params` fill it."""

    code: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """A shared live window, as UTC instants of one sample week."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class Overlap:
    weekly_minutes: int  # the least any full week of the common period offers
    sample_windows: tuple[Window, ...]  # the windows of the week that offers the least


@dataclass(frozen=True)
class Part:
    name: str
    value: float  # 0 … 1
    weight: float

    @property
    def points(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class PairScore:
    total: float  # 0 … 1
    parts: tuple[Part, ...]
    penalty: float
    shared_languages: tuple[tuple[str, int, int], ...]  # (language, rank for a, rank for b)
    overlap: Overlap | None
    distance_km: float
    common_start: date
    common_end: date
    shared_themes: tuple[str, ...]

    def part(self, name: str) -> Part | None:
        return next((part for part in self.parts if part.name == name), None)


def distance_km(a: Profile, b: Profile) -> float:
    """Great-circle distance between the two schools, as Erasmus+ distance bands measure it."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def shared_languages(a: Profile, b: Profile, min_rank: int) -> tuple[tuple[str, int, int], ...]:
    """Languages both classes work in at min_rank or above, the best-balanced first."""
    shared = [
        (code, a.languages[code], b.languages[code])
        for code in a.languages.keys() & b.languages.keys()
        if a.languages[code] >= min_rank and b.languages[code] >= min_rank
    ]
    return tuple(sorted(shared, key=lambda item: (abs(item[1] - item[2]), -min(item[1], item[2]), item[0])))


def common_period(a: Profile, b: Profile) -> tuple[date, date]:
    return max(a.period_start, b.period_start), min(a.period_end, b.period_end)


def _day_intervals(timezone: str, slots: tuple[Slot, ...], day: date) -> list[tuple[datetime, datetime]]:
    weekday = day.weekday()
    return [interval for slot in slots if slot.weekday == weekday for interval in slot_utc(timezone, day, slot)]


def _intersect(first: list[tuple[datetime, datetime]], second: list[tuple[datetime, datetime]]) -> list[Window]:
    windows = []
    for start_a, end_a in first:
        for start_b, end_b in second:
            start, end = max(start_a, start_b), min(end_a, end_b)
            if end > start:
                windows.append(Window(start, end))
    return windows


def weekly_overlap(a: Profile, b: Profile, start: date, end: date) -> Overlap:
    """The live time both classes share each week, computed on real dates in UTC.

    Each 7-day stretch of the common period is worked out with its own UTC offsets, so a
    summer-time change inside the period (or a zone that has none) is taken into account;
    the answer is the week with the least shared time, since that is what the exchange can
    count on. A week's time is the slots of one class on its local days of that week, met
    with the partner's slots; it is counted from each side and the smaller count is kept,
    so the result does not depend on the order of the two classes. A common period shorter
    than a week counts as one (short) week; days after the last full week are not counted.
    """
    if end < start or not a.slots or not b.slots:
        return Overlap(0, ())
    first, second = sorted(((a.timezone, a.slots), (b.timezone, b.slots)), key=_schedule_key)
    return _weekly_overlap(*first, *second, start, end)


def _schedule_key(schedule: tuple[str, tuple[Slot, ...]]) -> tuple:
    zone, slots = schedule
    return zone, [(slot.weekday, slot.start_minute, slot.end_minute) for slot in slots]


@lru_cache(maxsize=16384)
def _weekly_overlap(
    zone_a: str, slots_a: tuple[Slot, ...], zone_b: str, slots_b: tuple[Slot, ...], start: date, end: date
) -> Overlap:
    # Cached: the hard constraints and the score of a pair ask for the same overlap.
    week_count = max(1, ((end - start).days + 1) // 7)
    least: tuple | None = None
    seen = set()
    for week in range(week_count):
        week_start = start + timedelta(days=7 * week)
        week_end = min(week_start + timedelta(days=6), end)
        own_days = [week_start + timedelta(days=offset) for offset in range((week_end - week_start).days + 1)]
        # A slot near midnight can meet the partner's slot of the neighbouring local day.
        near_days = [week_start - timedelta(days=1), *own_days, week_end + timedelta(days=1)]
        offsets = tuple(_day_offsets(zone, day) for zone in (zone_a, zone_b) for day in near_days)
        if all(len(day_offsets) == 1 for day_offsets in offsets):
            # A week without a clock change gives what an earlier week with the same offsets gave.
            if offsets in seen:
                continue
            seen.add(offsets)
        times = [
            {day: _day_intervals(zone, slots, day) for day in near_days}
            for zone, slots in ((zone_a, slots_a), (zone_b, slots_b))
        ]
        for own, other in (times, times[::-1]):
            anchored = [interval for day in own_days for interval in own[day]]
            near = [interval for day in near_days for interval in other[day]]
            windows = tuple(_merge(_intersect(anchored, near))) if anchored and near else ()
            key = (sum(window.minutes for window in windows), week, tuple((w.start, w.end) for w in windows))
            if least is None or key < least[0]:
                least = (key, windows)
    return Overlap(least[0][0], least[1])


def _merge(windows: list[Window]) -> list[Window]:
    merged: list[Window] = []
    for window in sorted(set(windows), key=lambda w: w.start):
        if merged and window.start <= merged[-1].end:
            merged[-1] = Window(merged[-1].start, max(merged[-1].end, window.end))
        else:
            merged.append(window)
    return merged


def _ages_clash(a: Profile, b: Profile) -> bool:
    young_with_adults = (a.age_min < MINOR_AGE and b.age_max >= ADULT_AGE) or (
        b.age_min < MINOR_AGE and a.age_max >= ADULT_AGE
    )
    return young_with_adults and not (a.allows_mixed_ages and b.allows_mixed_ages)


def modes_compatible(a: Profile, b: Profile) -> bool:
    if a.mode == VIRTUAL and b.mode == VIRTUAL:
        return True
    if a.mode == BLENDED and b.mode == BLENDED:
        return (a.can_send and b.can_host) or (b.can_send and a.can_host)
    return False


def hard_violations(a: Profile, b: Profile, settings: Settings) -> list[Violation]:
    """Every hard constraint the pair breaks; an empty list means they may be paired."""
    violations = []
    if a.class_id == b.class_id:
        violations.append(Violation("same_class"))
    if a.country == b.country:
        violations.append(Violation("same_country", {"country": a.country}))
    if a.country in b.excluded_countries or b.country in a.excluded_countries:
        violations.append(Violation("excluded_country"))
    if not shared_languages(a, b, settings.min_language_rank):
        violations.append(Violation("no_shared_language", {"level": CEFR_LEVELS[settings.min_language_rank - 1]}))
    start, end = common_period(a, b)
    common_days = (end - start).days + 1
    if common_days < settings.min_common_days:
        violations.append(Violation("periods", {"days": max(0, common_days), "needed": settings.min_common_days}))
    if _ages_clash(a, b):
        violations.append(Violation("ages"))
    if not modes_compatible(a, b):
        violations.append(Violation("modes"))
    if a.mode == BLENDED and b.mode == BLENDED:
        limits = [limit for limit in (a.max_distance_km, b.max_distance_km) if limit is not None]
        if limits and distance_km(a, b) > min(limits):
            violations.append(Violation("distance", {"km": round(distance_km(a, b)), "limit": min(limits)}))
    if a.wants_live and b.wants_live and common_days >= 1:
        minutes = weekly_overlap(a, b, start, end).weekly_minutes
        if minutes < settings.min_live_minutes:
            violations.append(Violation("live_overlap", {"minutes": minutes, "needed": settings.min_live_minutes}))
    return violations


def score_pair(a: Profile, b: Profile, settings: Settings) -> PairScore:
    """The soft score of a pair that passes the hard constraints, part by part."""
    weights = settings.weights
    languages = shared_languages(a, b, settings.min_language_rank)
    start, end = common_period(a, b)
    overlap = weekly_overlap(a, b, start, end) if a.wants_live and b.wants_live else None
    distance = distance_km(a, b)
    themes = tuple(sorted(a.themes & b.themes))
    union = a.themes | b.themes
    parts = [
        Part("field", field_similarity(a.isced, b.isced), weights["field"]),
        Part("eqf", max(0.0, 1 - abs(a.eqf - b.eqf) / 3), weights["eqf"]),
        Part("language", 1 - abs(languages[0][1] - languages[0][2]) / 5 if languages else 0.0, weights["language"]),
        Part("themes", len(themes) / len(union) if union else 0.0, weights["themes"]),
        Part("size", min(a.size, b.size) / max(a.size, b.size), weights["size"]),
    ]
    if overlap is not None:
        parts.append(Part("live", min(1.0, overlap.weekly_minutes / settings.live_target_minutes), weights["live"]))
    if a.mode == BLENDED and b.mode == BLENDED:
        limits = [limit for limit in (a.max_distance_km, b.max_distance_km) if limit is not None]
        reach = min(limits) if limits else 4000
        parts.append(Part("distance", max(0.0, 1 - distance / reach), weights["distance"]))
    if a.preferred_countries or b.preferred_countries:
        wished = (b.country in a.preferred_countries) + (a.country in b.preferred_countries)
        asked = bool(a.preferred_countries) + bool(b.preferred_countries)
        parts.append(Part("preferred_country", wished / asked, weights["preferred_country"]))
    applicable = sum(part.weight for part in parts)
    penalty = (
        settings.repeat_penalty
        if (b.class_id in a.past_partner_class_ids or a.class_id in b.past_partner_class_ids)
        else 0.0
    )
    total = min(1.0, max(0.0, sum(part.points for part in parts) / applicable - penalty)) if applicable else 0.0
    return PairScore(total, tuple(parts), penalty, languages, overlap, distance, start, end, themes)
