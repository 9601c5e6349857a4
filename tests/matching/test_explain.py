"""Plain-word reasons agree with the numbers they explain, in English and in German."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.modules.matching.explain import (
    THEME_LABELS,
    distance_band,
    explain_pair,
    explain_violation,
    format_minutes,
    live_windows,
    score_percent,
)
from app.modules.matching.models import THEMES
from app.modules.matching.scoring import Settings, Violation, isced_names, score_pair
from tests.matching.test_properties import SETTINGS, profiles
from tests.matching.test_scoring import MONDAY, TUESDAY, profile, slot

BLENDED = dict(mode="blended", can_send=True, can_host=True)


def lisbon_and_helsinki(**changes):
    lisbon = profile(
        1,
        "PT",
        "Lisbon",
        slot(TUESDAY, "11:00", "13:00"),
        slot(TUESDAY, "16:00", "16:30"),
        isced="1013",
        eqf=4,
        size=20,
        languages={"en": 3, "pt": 6},
        themes=frozenset({"green_skills", "digital_skills", "tiny houses"}),
        **BLENDED,
    )
    helsinki = profile(
        2,
        "FI",
        "Helsinki",
        slot(TUESDAY, "13:00", "19:00"),
        isced="1015",
        eqf=4,
        size=24,
        languages={"en": 4, "fi": 6},
        themes=frozenset({"green_skills", "digital_skills", "inclusion"}),
        **BLENDED,
    )
    return replace(lisbon, **changes), helsinki


def minutes_in(text: str) -> int:
    found = re.search(r"(?:(\d+) h)?\s*(?:(\d+) min)?", text)
    return int(found.group(1) or 0) * 60 + int(found.group(2) or 0)


def test_every_reason_states_the_numbers_of_the_score():
    lisbon, helsinki = lisbon_and_helsinki()
    score = score_pair(lisbon, helsinki, Settings())
    reasons = {reason.part: reason for reason in explain_pair(score, lisbon, helsinki)}

    assert set(reasons) == {part.name for part in score.parts}
    names = isced_names()
    assert reasons["field"].text == (
        f"Related fields: {names['1013']} and {names['1015']} (both in {names['101']})"
    )  # Personal services
    assert reasons["eqf"].text == "EQF 4 and 4"
    assert score.shared_languages[0] == ("en", 3, 4)
    assert reasons["language"].text == "Both work in English (B1 and B2)"
    assert score.overlap.weekly_minutes == 150
    assert reasons["live"].text == "2 h 30 min of shared live time every week"
    assert minutes_in(reasons["live"].text) == score.overlap.weekly_minutes
    km = round(score.distance_km)
    assert reasons["distance"].text == f"{km:,} km apart (Erasmus+ distance band 3,000–3,999 km)"
    assert 3000 <= km <= 3999 and distance_band(score.distance_km) == (3000, 3999)
    assert score.shared_themes == ("digital_skills", "green_skills")
    assert reasons["themes"].text == "Shared themes: digital skills, green skills"
    assert reasons["size"].text == "Class sizes 20 and 24"


def test_points_add_up_to_the_score_shown():
    lisbon, helsinki = lisbon_and_helsinki(past_partner_class_ids=frozenset({2}))
    score = score_pair(lisbon, helsinki, Settings())
    reasons = explain_pair(score, lisbon, helsinki)

    assert reasons[-1].part == "repeat"
    assert reasons[-1].text == "They worked together before (−15 points)" and reasons[-1].points == -15
    assert sum(reason.points for reason in reasons) == score_percent(score) == round(score.total * 100)
    applicable = sum(part.weight for part in score.parts)
    for reason, part in zip(reasons, score.parts, strict=False):
        assert reason.part == part.name
        assert abs(reason.points - part.points / applicable * 100) < 1


@settings(**SETTINGS)
@given(profiles(1), profiles(2), st.sampled_from([0.0, 0.15, 0.5]))
def test_points_add_up_for_any_pair(a, b, penalty):
    score = score_pair(a, b, Settings(repeat_penalty=penalty))
    reasons = explain_pair(score, a, b)

    points = sum(reason.points for reason in reasons)
    if score.total > 0 or not score.penalty:
        assert points == score_percent(score)
    else:  # a score clipped at 0: every part still shows what it gave
        assert points <= 0
    assert all(reason.text for reason in reasons)


def test_shared_live_windows_are_shown_in_both_local_times():
    lisbon, helsinki = lisbon_and_helsinki()
    score = score_pair(lisbon, helsinki, Settings())

    assert live_windows(score.overlap, lisbon, helsinki) == [
        "Tuesday 11:00–13:00 in Lisbon = Tuesday 13:00–15:00 in Helsinki",
        "Tuesday 16:00–16:30 in Lisbon = Tuesday 18:00–18:30 in Helsinki",
    ]
    assert sum(window.minutes for window in score.overlap.sample_windows) == score.overlap.weekly_minutes
    assert live_windows(None, lisbon, helsinki) == []


def test_windows_across_midnight_name_each_local_day():
    helsinki = profile(1, "FI", "Helsinki", slot(TUESDAY, "00:00", "02:00"))
    lisbon = profile(2, "PT", "Lisbon", slot(MONDAY, "22:00", "24:00"))
    score = score_pair(helsinki, lisbon, Settings())

    assert live_windows(score.overlap, helsinki, lisbon) == [
        "Tuesday 00:00–02:00 in Helsinki = Monday 22:00–24:00 in Lisbon"
    ]


def test_durations_read_naturally():
    assert [format_minutes(minutes) for minutes in (45, 60, 150)] == ["45 min", "1 h", "2 h 30 min"]


@pytest.mark.parametrize(
    ("violation", "expected"),
    [
        (Violation("same_country", {"country": "PT"}), "Both classes are in the same country."),
        (Violation("no_shared_language", {"level": "A2"}), "No working language both classes speak at A2 or above."),
        (Violation("periods", {"days": 1, "needed": 14}), "The exchange periods share 1 day; at least 14 are needed."),
        (Violation("periods", {"days": 9, "needed": 14}), "The exchange periods share 9 days; at least 14 are needed."),
        (Violation("distance", {"km": 3361, "limit": 3000}), "The schools are 3,361 km apart; the limit is 3,000 km."),
        (
            Violation("live_overlap", {"minutes": 30, "needed": 45}),
            "Only 30 min of shared live time in some week; at least 45 min are needed.",
        ),
    ],
)
def test_violations_read_as_sentences_with_their_numbers(violation, expected):
    assert explain_violation(violation) == expected


@pytest.mark.parametrize(
    "code",
    [
        "same_class",
        "same_country",
        "excluded_country",
        "no_shared_language",
        "periods",
        "ages",
        "modes",
        "distance",
        "live_overlap",
        "partners_taken",
        "no_other_class",
    ],
)
def test_every_reason_code_has_its_own_sentence(code):
    sentence = explain_violation(code)

    assert sentence.endswith(".") and sentence != explain_violation("something_new")


def test_every_theme_has_a_label():
    assert set(THEME_LABELS) == set(THEMES)


def test_german_rendering(app):
    lisbon, helsinki = lisbon_and_helsinki(past_partner_class_ids=frozenset({2}))
    score = score_pair(lisbon, helsinki, Settings())

    with app.test_request_context(headers={"Accept-Language": "de"}):
        reasons = {reason.part: reason.text for reason in explain_pair(score, lisbon, helsinki)}
        windows = live_windows(score.overlap, lisbon, helsinki)
        periods = explain_violation(Violation("periods", {"days": 9, "needed": 14}))

    km = f"{round(score.distance_km):,}".replace(",", ".")
    assert reasons["distance"] == f"{km} km entfernt (Erasmus+-Entfernungsband 3.000–3.999 km)"
    assert reasons["language"] == "Beide arbeiten auf Englisch (B1 und B2)"
    assert reasons["live"] == "2 Std. 30 Min. gemeinsame Live-Zeit pro Woche"
    assert reasons["themes"] == "Gemeinsame Themen: digitale Kompetenzen, grüne Kompetenzen"
    assert reasons["repeat"] == "Die Klassen haben schon zusammengearbeitet (−15 Punkte)"
    assert windows[0] == "Dienstag 11:00–13:00 in Lissabon = Dienstag 13:00–15:00 in Helsinki"
    assert periods == "Die Austauschzeiträume haben 9 gemeinsame Tage; mindestens 14 sind nötig."


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("1013", "1013", "Same vocational field: Hotel, restaurants and catering (ISCED 1013)"),
        (
            "0715",
            "0716",
            "Related fields: Mechanics and metal trades and Motor vehicles, ships and aircraft "
            "(both in Engineering and engineering trades)",
        ),
        (
            "0715",
            "0721",
            "Related fields: Mechanics and metal trades and Food processing "
            "(both in Engineering, manufacturing and construction)",
        ),
        ("1013", "0715", "Different fields: Hotel, restaurants and catering and Mechanics and metal trades"),
    ],
)
def test_field_reasons_name_the_common_level_of_the_hierarchy(first, second, expected):
    a, b = lisbon_and_helsinki()
    a, b = replace(a, isced=first), replace(b, isced=second)
    score = score_pair(a, b, Settings())

    [reason] = [reason for reason in explain_pair(score, a, b) if reason.part == "field"]
    assert reason.text == expected


@pytest.mark.parametrize(
    ("km", "band"),
    [(9.4, None), (9.6, (10, 99)), (99.4, (10, 99)), (100, (100, 499)), (1999, (500, 1999)), (2000, (2000, 2999))]
    + [(3360.6, (3000, 3999)), (7999.4, (4000, 7999)), (8000, (8000, None)), (12000, (8000, None))],
)
def test_distance_bands_follow_the_erasmus_table(km, band):
    assert distance_band(km) == band


def test_wished_for_countries_are_named():
    a, b = lisbon_and_helsinki()
    wished = replace(a, preferred_countries=frozenset({"FI"}))
    both = replace(b, preferred_countries=frozenset({"PT"}))
    elsewhere = replace(a, preferred_countries=frozenset({"DE"}))

    def text(first, second):
        score = score_pair(first, second, Settings())
        return next(reason.text for reason in explain_pair(score, first, second) if reason.part == "preferred_country")

    assert text(wished, b) == "Finland is a wished-for country"
    assert text(wished, both) == "Each class wished for the other's country"
    assert text(elsewhere, b) == "Neither country is on the other's wish list"
