"""Partner scoring: summer-time changes, slots near midnight, field similarity, distance, settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core import geo
from app.modules.matching.scoring import (
    CEFR_RANK,
    DEFAULT_WEIGHTS,
    Profile,
    Settings,
    Slot,
    Violation,
    Window,
    distance_km,
    field_similarity,
    hard_violations,
    score_pair,
    slot_utc,
    weekly_overlap,
)

TUESDAY, WEDNESDAY, MONDAY, SUNDAY = 1, 2, 0, 6
SUMMER_TIME_2027 = date(2027, 3, 28)  # last Sunday of March: EU clocks go forward at 01:00 UTC


def profile(class_id: int, country: str, city: str, *slots: Slot, **fields) -> Profile:
    town = geo.find_city(country, city)
    values = dict(
        class_id=class_id,
        country=country,
        timezone=town["timezone"],
        latitude=town["latitude"],
        longitude=town["longitude"],
        isced="1013",
        eqf=4,
        age_min=16,
        age_max=18,
        size=20,
        languages={"en": CEFR_RANK["B1"]},
        period_start=date(2027, 3, 1),
        period_end=date(2027, 5, 31),
        slots=slots,
    )
    return Profile(**{**values, **fields})


def hours(start: str, end: str) -> tuple[int, int]:
    def minute(text: str) -> int:
        hour, minute = map(int, text.split(":"))
        return hour * 60 + minute

    return minute(start), minute(end)


def slot(weekday: int, start: str, end: str) -> Slot:
    return Slot(weekday, *hours(start, end))


def local_spans(overlap, timezone: str) -> set[tuple[int, str, str]]:
    zone = ZoneInfo(timezone)
    return {
        (w.start.astimezone(zone).weekday(), f"{w.start.astimezone(zone):%H:%M}", f"{w.end.astimezone(zone):%H:%M}")
        for w in overlap.sample_windows
    }


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Periods wholly before, wholly after and across the change of 28 March 2027.
BEFORE, AFTER, ACROSS = (date(2027, 3, 1), date(2027, 3, 27)), (date(2027, 3, 29), date(2027, 4, 25)), None


@pytest.mark.parametrize(
    ("first", "second", "expected_utc_before", "expected_utc_after"),
    [
        (
            # Lisbon (UTC+0 / +1) and Helsinki (UTC+2 / +3) change at the same instant.
            ("PT", "Lisbon", slot(TUESDAY, "11:00", "13:00")),
            ("FI", "Helsinki", slot(TUESDAY, "13:00", "16:00")),
            (utc(2027, 3, 23, 11), utc(2027, 3, 23, 13)),
            (utc(2027, 3, 30, 10), utc(2027, 3, 30, 12)),
        ),
        (
            # Dublin (UTC+0 / +1) and Warsaw (UTC+1 / +2) too.
            ("IE", "Dublin", slot(WEDNESDAY, "09:00", "12:00")),
            ("PL", "Warsaw", slot(WEDNESDAY, "11:00", "14:00")),
            (utc(2027, 3, 24, 10), utc(2027, 3, 24, 12)),
            (utc(2027, 3, 31, 9), utc(2027, 3, 31, 11)),
        ),
    ],
)
def test_zones_that_change_together_keep_their_local_overlap_across_the_march_change(
    first, second, expected_utc_before, expected_utc_after
):
    a = profile(1, first[0], first[1], first[2])
    b = profile(2, second[0], second[1], second[2])
    before = weekly_overlap(a, b, *BEFORE)
    after = weekly_overlap(a, b, *AFTER)
    across = weekly_overlap(a, b, date(2027, 3, 15), date(2027, 4, 11))

    assert before.weekly_minutes == after.weekly_minutes == across.weekly_minutes == 120
    # The same local hours, at UTC instants an hour earlier once summer time starts.
    assert local_spans(before, a.timezone) == local_spans(after, a.timezone) == local_spans(across, a.timezone)
    assert local_spans(before, b.timezone) == local_spans(after, b.timezone)
    last_week_before = weekly_overlap(a, b, date(2027, 3, 21), date(2027, 3, 27))
    assert last_week_before.sample_windows == (Window(*expected_utc_before),)
    first_week_after = weekly_overlap(a, b, date(2027, 3, 28), date(2027, 4, 3))
    assert first_week_after.sample_windows == (Window(*expected_utc_after),)


def test_reykjavik_keeps_utc_so_the_overlap_with_lisbon_shrinks_and_the_least_week_counts():
    reykjavik = profile(1, "IS", "Reykjavik", slot(MONDAY, "10:00", "12:00"))
    lisbon = profile(2, "PT", "Lisbon", slot(MONDAY, "10:00", "12:00"))

    assert weekly_overlap(reykjavik, lisbon, *BEFORE).weekly_minutes == 120
    assert weekly_overlap(reykjavik, lisbon, *AFTER).weekly_minutes == 60  # Lisbon 10:00 is now 09:00 UTC
    across = weekly_overlap(reykjavik, lisbon, date(2027, 3, 15), date(2027, 4, 11))
    assert across.weekly_minutes == 60
    assert across.sample_windows == (Window(utc(2027, 3, 29, 10), utc(2027, 3, 29, 11)),)
    assert local_spans(across, lisbon.timezone) == {(MONDAY, "11:00", "12:00")}

    settings = Settings(min_live_minutes=90)
    assert hard_violations(reykjavik, lisbon, settings) == [Violation("live_overlap", {"minutes": 60, "needed": 90})]
    assert hard_violations(reykjavik, replace(lisbon, period_end=date(2027, 3, 27)), settings) == []


def test_a_slot_in_the_skipped_hour_starts_when_the_clocks_jump():
    # Berlin skips 02:00-03:00 on 28 March 2027; a 02:30-04:00 slot really lasts 03:00-04:00.
    assert slot_utc("Europe/Berlin", SUMMER_TIME_2027, slot(SUNDAY, "02:30", "04:00")) == [
        (utc(2027, 3, 28, 1), utc(2027, 3, 28, 2))
    ]
    berlin = profile(1, "DE", "Berlin", slot(SUNDAY, "02:30", "04:00"))
    reykjavik = profile(2, "IS", "Reykjavik", slot(SUNDAY, "00:00", "05:00"))
    assert weekly_overlap(berlin, reykjavik, date(2027, 3, 22), date(2027, 3, 28)).weekly_minutes == 60


def test_a_slot_in_the_repeated_hour_happens_twice():
    # Berlin lives 02:00-03:00 twice on 31 October 2027 (CEST, then CET).
    assert slot_utc("Europe/Berlin", date(2027, 10, 31), slot(SUNDAY, "02:10", "02:40")) == [
        (utc(2027, 10, 31, 0, 10), utc(2027, 10, 31, 0, 40)),
        (utc(2027, 10, 31, 1, 10), utc(2027, 10, 31, 1, 40)),
    ]
    assert slot_utc("Europe/Berlin", date(2027, 10, 31), slot(SUNDAY, "01:00", "04:00")) == [
        (utc(2027, 10, 30, 23), utc(2027, 10, 31, 3))
    ]


@pytest.mark.parametrize(
    ("first", "second", "minutes"),
    [
        # Tuesday 00:00-02:00 in Helsinki is Monday 22:00-24:00 UTC, Lisbon's Monday evening.
        (("FI", "Helsinki", slot(TUESDAY, "00:00", "02:00")), ("PT", "Lisbon", slot(MONDAY, "22:00", "24:00")), 120),
        # Istanbul (UTC+3 all year) after midnight meets Reykjavik (UTC+0) the evening before.
        (("TR", "Istanbul", slot(TUESDAY, "00:30", "01:30")), ("IS", "Reykjavik", slot(MONDAY, "21:00", "23:00")), 60),
        # Istanbul's Sunday night falls into Reykjavik's Sunday evening, across the end of the week.
        (("TR", "Istanbul", slot(MONDAY, "00:00", "02:00")), ("IS", "Reykjavik", slot(SUNDAY, "20:00", "22:00")), 60),
    ],
)
def test_slots_near_midnight_meet_across_utc_days(first, second, minutes):
    a = profile(1, *first, period_start=date(2027, 1, 4), period_end=date(2027, 2, 28))
    b = profile(2, *second, period_start=date(2027, 1, 4), period_end=date(2027, 2, 28))

    overlap = weekly_overlap(a, b, date(2027, 1, 4), date(2027, 2, 28))
    assert overlap.weekly_minutes == minutes
    assert weekly_overlap(b, a, date(2027, 1, 4), date(2027, 2, 28)) == overlap


def test_slots_either_side_of_midnight_merge_into_one_window():
    lisbon = profile(1, "PT", "Lisbon", slot(MONDAY, "23:00", "24:00"), slot(TUESDAY, "00:00", "01:00"))
    helsinki = profile(2, "FI", "Helsinki", slot(TUESDAY, "01:00", "03:00"))

    overlap = weekly_overlap(lisbon, helsinki, date(2027, 1, 4), date(2027, 1, 17))
    assert overlap.weekly_minutes == 120
    assert len(overlap.sample_windows) == 1


def test_a_common_period_shorter_than_a_week_counts_as_one_short_week():
    lisbon = profile(1, "PT", "Lisbon", slot(MONDAY, "10:00", "12:00"), slot(WEDNESDAY, "10:00", "12:00"))
    dublin = profile(2, "IE", "Dublin", slot(MONDAY, "10:00", "12:00"), slot(WEDNESDAY, "10:00", "12:00"))

    assert weekly_overlap(lisbon, dublin, date(2027, 1, 4), date(2027, 1, 10)).weekly_minutes == 240
    assert weekly_overlap(lisbon, dublin, date(2027, 1, 4), date(2027, 1, 5)).weekly_minutes == 120
    assert weekly_overlap(lisbon, dublin, date(2027, 1, 5), date(2027, 1, 4)).weekly_minutes == 0


@pytest.mark.parametrize(
    ("first", "second", "similarity"),
    [
        ("1013", "1013", 1.0),  # same detailed field
        ("0715", "0716", 0.6),  # same narrow field: engineering and engineering trades
        ("0715", "0721", 0.3),  # same broad field: engineering, manufacturing and construction
        ("1013", "0715", 0.0),
    ],
)
def test_field_similarity_follows_the_isced_hierarchy(first, second, similarity):
    assert field_similarity(first, second) == field_similarity(second, first) == similarity
    a = profile(1, "PT", "Lisbon", isced=first, wants_live=False)
    b = profile(2, "FI", "Helsinki", isced=second, wants_live=False)
    assert score_pair(a, b, Settings()).part("field").value == similarity


def test_distance_lisbon_helsinki_is_the_great_circle_distance():
    lisbon, helsinki = profile(1, "PT", "Lisbon"), profile(2, "FI", "Helsinki")

    assert distance_km(lisbon, helsinki) == pytest.approx(3361, abs=5)
    assert distance_km(helsinki, lisbon) == distance_km(lisbon, helsinki)


def test_distance_limit_applies_to_blended_exchanges_only():
    blended = dict(mode="blended", can_send=True, can_host=True, wants_live=False)
    lisbon = profile(1, "PT", "Lisbon", max_distance_km=3000, **blended)
    helsinki = profile(2, "FI", "Helsinki", **blended)

    [violation] = hard_violations(lisbon, helsinki, Settings())
    assert violation.code == "distance"
    assert violation.params["limit"] == 3000 and violation.params["km"] == pytest.approx(3361, abs=5)
    virtual = dict(mode="virtual", wants_live=False)
    assert (
        hard_violations(
            profile(1, "PT", "Lisbon", max_distance_km=3000, **virtual),
            profile(2, "FI", "Helsinki", **virtual),
            Settings(),
        )
        == []
    )


def test_score_parts_and_total():
    a = profile(1, "PT", "Lisbon", slot(TUESDAY, "11:00", "13:00"), size=20, themes=frozenset({"green_skills"}))
    b = profile(2, "FI", "Helsinki", slot(TUESDAY, "13:00", "15:00"), size=25, themes=frozenset({"green_skills"}))
    score = score_pair(a, b, Settings())

    assert {part.name for part in score.parts} == {"field", "eqf", "language", "themes", "size", "live"}
    assert score.part("size").value == pytest.approx(0.8)
    assert score.part("live").value == pytest.approx(120 / 180)
    applicable = sum(part.weight for part in score.parts)
    assert score.total == pytest.approx(sum(part.points for part in score.parts) / applicable)
    again = score_pair(a, replace(b, past_partner_class_ids=frozenset({1})), Settings())
    assert again.penalty == 0.15 and again.total == pytest.approx(score.total - 0.15)


def test_settings_come_from_the_app_config(app):
    settings = Settings.from_config(app.config)

    assert settings.min_language_rank == CEFR_RANK[app.config["MATCH_MIN_LANGUAGE_LEVEL"]] == CEFR_RANK["A2"]
    assert settings.min_live_minutes == app.config["MATCH_MIN_LIVE_MINUTES"]
    assert settings.live_target_minutes == app.config["MATCH_LIVE_TARGET_MINUTES"]
    assert settings.min_common_days == app.config["MATCH_MIN_COMMON_DAYS"]
    assert settings.repeat_penalty == app.config["MATCH_REPEAT_PENALTY"]
    assert settings.weights == app.config["MATCH_WEIGHTS"] == DEFAULT_WEIGHTS


def test_settings_from_config_override_the_defaults():
    settings = Settings.from_config({"MATCH_MIN_LANGUAGE_LEVEL": "B1", "MATCH_WEIGHTS": {"field": 0.5}})

    assert settings.min_language_rank == CEFR_RANK["B1"]
    assert settings.weights == {**DEFAULT_WEIGHTS, "field": 0.5}
    assert settings.min_live_minutes == Settings().min_live_minutes
