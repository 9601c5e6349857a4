"""Property tests: a pair with no reported violation truly meets every hard constraint, every
broken constraint is reported, and the soft score is bounded, additive and symmetric.

Each constraint is checked here from first principles, independently of scoring.py; the
weekly live overlap is counted minute by minute over the real dates with zoneinfo.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.modules.matching.scoring import (
    BLENDED,
    VIRTUAL,
    Profile,
    Settings,
    Slot,
    hard_violations,
    score_pair,
    weekly_overlap,
)

# (country, time zone, latitude, longitude); Reykjavik and Istanbul have no summer time.
PLACES = [
    ("PT", "Europe/Lisbon", 38.72, -9.14),
    ("PT", "Europe/Lisbon", 41.15, -8.61),
    ("FI", "Europe/Helsinki", 60.17, 24.94),
    ("IE", "Europe/Dublin", 53.35, -6.26),
    ("PL", "Europe/Warsaw", 52.23, 21.01),
    ("IS", "Atlantic/Reykjavik", 64.15, -21.94),
    ("TR", "Europe/Istanbul", 41.01, 28.98),
    ("DE", "Europe/Berlin", 52.52, 13.40),
    ("GB", "Europe/London", 51.51, -0.13),
]
COUNTRIES = sorted({place[0] for place in PLACES})
# Dates around the summer-time changes of 2027 and 2028, and one quiet date.
ANCHORS = [date(2027, 3, 28), date(2027, 10, 31), date(2028, 3, 26), date(2027, 6, 14)]
# Local minutes around the changes (01:00 to 04:00) and around midnight come up often.
TRICKY_MINUTES = [0, 30, 60, 90, 120, 150, 180, 210, 240, 1380, 1410, 1435]
SETTINGS = dict(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def slots(draw) -> Slot:
    start = draw(st.one_of(st.sampled_from(TRICKY_MINUTES), st.integers(0, 1439)))
    end = min(1440, start + draw(st.integers(1, 600)))
    return Slot(draw(st.integers(0, 6)), start, end)


@st.composite
def profiles(draw, class_id: int) -> Profile:
    country, zone, latitude, longitude = draw(st.sampled_from(PLACES))
    period_start = draw(st.sampled_from(ANCHORS)) + timedelta(days=draw(st.integers(-20, 10)))
    age_min = draw(st.integers(14, 20))
    mode = draw(st.sampled_from([VIRTUAL, BLENDED]))
    return Profile(
        class_id=class_id,
        country=country,
        timezone=zone,
        latitude=latitude,
        longitude=longitude,
        isced=draw(st.sampled_from(["1013", "1015", "0715", "0716", "0722", "0413"])),
        eqf=draw(st.integers(2, 6)),
        age_min=age_min,
        age_max=age_min + draw(st.integers(0, 6)),
        size=draw(st.integers(5, 30)),
        languages=draw(st.dictionaries(st.sampled_from(["en", "de", "fr", "pt"]), st.integers(1, 6), max_size=3)),
        period_start=period_start,
        period_end=period_start + timedelta(days=draw(st.integers(0, 34))),
        mode=mode,
        can_send=draw(st.booleans()),
        can_host=draw(st.booleans()),
        wants_live=draw(st.booleans()),
        slots=tuple(draw(st.lists(slots(), max_size=4))),
        themes=frozenset(draw(st.sets(st.sampled_from(["green_skills", "digital_skills", "inclusion"])))),
        preferred_countries=frozenset(draw(st.sets(st.sampled_from(COUNTRIES), max_size=2))),
        excluded_countries=frozenset(draw(st.sets(st.sampled_from(COUNTRIES), max_size=1))),
        max_distance_km=draw(st.one_of(st.none(), st.integers(200, 4000))),
        allows_mixed_ages=draw(st.booleans()),
        past_partner_class_ids=frozenset(draw(st.sets(st.sampled_from([1, 2]), max_size=1))),
    )


match_settings = st.builds(
    Settings,
    min_language_rank=st.integers(1, 4),
    min_live_minutes=st.sampled_from([0, 30, 45, 90, 180]),
    min_common_days=st.sampled_from([1, 7, 14]),
)


def brute_force_weekly_minutes(a: Profile, b: Profile) -> int:
    """Minute by minute over the real dates: per week of the common period, the minutes both
    classes are in a slot, counted on each class's own local days of that week; the least."""
    start, end = max(a.period_start, b.period_start), min(a.period_end, b.period_end)
    if end < start:
        return 0
    weeks = max(1, ((end - start).days + 1) // 7)
    free = []
    for profile in (a, b):
        minutes = bytearray(7 * 1440)
        for slot in profile.slots:
            minutes[slot.weekday * 1440 + slot.start_minute : slot.weekday * 1440 + slot.end_minute] = bytes(
                [1] * (slot.end_minute - slot.start_minute)
            )
        free.append(minutes)
    zones = (ZoneInfo(a.timezone), ZoneInfo(b.timezone))
    counts = ([0] * weeks, [0] * weeks)
    moment = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(days=2)
    stop = moment + timedelta(days=7 * weeks + 4)
    step = timedelta(minutes=1)
    while moment < stop:
        local = [moment.astimezone(zone) for zone in zones]
        if all(free[i][local[i].weekday() * 1440 + local[i].hour * 60 + local[i].minute] for i in (0, 1)):
            for side in (0, 1):
                day = local[side].date()
                week = (day - start).days // 7
                if 0 <= week < weeks and start <= day <= end:
                    counts[side][week] += 1
        moment += step
    return min(min(counts[0][week], counts[1][week]) for week in range(weeks))


def great_circle_km(a: Profile, b: Profile) -> float:
    """Spherical law of cosines (scoring.py uses the haversine form)."""
    phi1, phi2 = math.radians(a.latitude), math.radians(b.latitude)
    dlon = math.radians(b.longitude - a.longitude)
    cosine = math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(dlon)
    return 6371.0088 * math.acos(max(-1.0, min(1.0, cosine)))


def expected_violations(a: Profile, b: Profile, rules: Settings) -> set[str]:
    broken = set()
    if a.country == b.country:
        broken.add("same_country")
    if a.country in b.excluded_countries or b.country in a.excluded_countries:
        broken.add("excluded_country")
    if not any(
        a.languages[code] >= rules.min_language_rank and b.languages[code] >= rules.min_language_rank
        for code in set(a.languages) & set(b.languages)
    ):
        broken.add("no_shared_language")
    common_days = (min(a.period_end, b.period_end) - max(a.period_start, b.period_start)).days + 1
    if common_days < rules.min_common_days:
        broken.add("periods")
    young_with_adults = any(x.age_min < 16 and y.age_max >= 18 for x, y in ((a, b), (b, a)))
    if young_with_adults and not (a.allows_mixed_ages and b.allows_mixed_ages):
        broken.add("ages")
    both_virtual = a.mode == VIRTUAL and b.mode == VIRTUAL
    both_blended = a.mode == BLENDED and b.mode == BLENDED
    one_travels = (a.can_send and b.can_host) or (b.can_send and a.can_host)
    if not (both_virtual or (both_blended and one_travels)):
        broken.add("modes")
    if both_blended and any(
        limit is not None and great_circle_km(a, b) > limit for limit in (a.max_distance_km, b.max_distance_km)
    ):
        broken.add("distance")
    both_live = a.wants_live and b.wants_live and common_days >= 1
    if both_live and brute_force_weekly_minutes(a, b) < rules.min_live_minutes:
        broken.add("live_overlap")
    return broken


def _far_from_distance_limits(a: Profile, b: Profile) -> bool:
    # Two formulas may disagree in the last metre; such pairs say nothing about the rule.
    distance = great_circle_km(a, b)
    return all(limit is None or abs(distance - limit) > 0.01 for limit in (a.max_distance_km, b.max_distance_km))


@settings(**SETTINGS)
@given(profiles(1), profiles(2), match_settings)
def test_reported_violations_are_exactly_the_broken_constraints(a, b, rules):
    if not _far_from_distance_limits(a, b):
        return
    reported = {violation.code for violation in hard_violations(a, b, rules)}

    assert reported == expected_violations(a, b, rules)
    assert reported == {violation.code for violation in hard_violations(b, a, rules)}


@settings(**SETTINGS)
@given(profiles(1), profiles(2))
def test_weekly_overlap_matches_a_minute_by_minute_count(a, b):
    start, end = max(a.period_start, b.period_start), min(a.period_end, b.period_end)
    overlap = weekly_overlap(a, b, start, end)

    assert overlap.weekly_minutes == brute_force_weekly_minutes(a, b)
    assert overlap.weekly_minutes == sum(window.minutes for window in overlap.sample_windows)
    assert overlap == weekly_overlap(b, a, start, end)


def test_weekly_overlap_over_a_school_year_matches_a_minute_by_minute_count():
    # Weeks without a clock change are computed once per set of offsets: check that on a long period.
    year = dict(period_start=date(2027, 9, 6), period_end=date(2028, 6, 30), isced="1013", eqf=4, age_min=16)
    common = dict(age_max=18, size=20, languages={"en": 3}, **year)
    berlin = Profile(
        1, "DE", "Europe/Berlin", 52.52, 13.40, slots=(Slot(6, 60, 240), Slot(0, 0, 90), Slot(2, 600, 780)), **common
    )
    reykjavik = Profile(
        2, "IS", "Atlantic/Reykjavik", 64.15, -21.94, slots=(Slot(5, 1380, 1440), Slot(2, 540, 720)), **common
    )

    overlap = weekly_overlap(berlin, reykjavik, year["period_start"], year["period_end"])
    assert overlap.weekly_minutes == brute_force_weekly_minutes(berlin, reykjavik)


@settings(**SETTINGS)
@given(profiles(1), profiles(2), match_settings)
def test_score_is_bounded_additive_and_symmetric(a, b, rules):
    score = score_pair(a, b, rules)
    weights = sum(part.weight for part in score.parts)
    raw = sum(part.value * part.weight for part in score.parts) / weights - score.penalty

    assert 0.0 <= score.total <= 1.0
    assert all(0.0 <= part.value <= 1.0 for part in score.parts)
    assert math.isclose(score.total, min(1.0, max(0.0, raw)), abs_tol=1e-12)
    worked_together = b.class_id in a.past_partner_class_ids or a.class_id in b.past_partner_class_ids
    assert score.penalty == (rules.repeat_penalty if worked_together else 0.0)
    mirrored = score_pair(b, a, rules)
    assert mirrored.total == score.total
    assert mirrored.parts == score.parts
