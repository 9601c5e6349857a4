"""Fast pairing rounds (pair_classes): optimal on small rounds, never a broken hard constraint,
one partner per class, sensible reasons for the unmatched.

The profile factories here are shared with test_index.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.modules.matching import pairing
from app.modules.matching.pairing import PARTNERS_TAKEN, PairingResult, exact_pairing, pair_classes
from app.modules.matching.scoring import BLENDED, VIRTUAL, Profile, Settings, Slot, hard_violations, score_pair

PLACES = [
    ("PT", "Europe/Lisbon", 38.72, -9.14),
    ("FI", "Europe/Helsinki", 60.17, 24.94),
    ("IE", "Europe/Dublin", 53.35, -6.26),
    ("PL", "Europe/Warsaw", 52.23, 21.01),
    ("IS", "Atlantic/Reykjavik", 64.15, -21.94),
    ("TR", "Europe/Istanbul", 41.01, 28.98),
]
ANCHORS = [date(2026, 10, 25), date(2027, 3, 28), date(2026, 12, 1)]
FIELDS = ["1013", "1015", "0715", "0716", "0722", "0413"]


def make_profile(class_id: int, **changes) -> Profile:
    values = dict(
        class_id=class_id,
        country="PT",
        timezone="Europe/Lisbon",
        latitude=38.72,
        longitude=-9.14,
        isced="1013",
        eqf=4,
        age_min=16,
        age_max=18,
        size=20,
        languages={"en": 3},
        period_start=date(2026, 11, 2),
        period_end=date(2027, 2, 26),
        slots=(Slot(0, 600, 720), Slot(2, 600, 720)),
        themes=frozenset({"green"}),
    )
    values.update(changes)
    return Profile(**values)


def random_profiles(seed: int, count: int, dense: bool = False) -> list[Profile]:
    """`dense` keeps most constraints loose so that many pairs are allowed."""
    rng = np.random.default_rng(seed)
    profiles = []
    for class_id in range(1, count + 1):
        country, zone, lat, lon = PLACES[rng.integers(len(PLACES))]
        start = ANCHORS[rng.integers(len(ANCHORS))] + timedelta(days=int(rng.integers(-25, 10)))
        slots = []
        for _ in range(int(rng.integers(1 if dense else 0, 5))):
            begin = int(rng.choice([0, 60, 120, 480, 540, 600, 660, 720, 840, 1380])) + int(rng.choice([0, 15, 30]))
            slots.append(
                Slot(int(rng.integers(0, 5 if dense else 7)), begin, min(1440, begin + int(rng.integers(1, 9)) * 30))
            )
        mode = BLENDED if rng.random() < 0.3 else VIRTUAL
        languages = {"en": int(rng.integers(2 if dense else 1, 7))}
        if rng.random() < 0.5:
            languages[str(rng.choice(["de", "fr", "pt"]))] = int(rng.integers(1, 7))
        age_min = int(rng.integers(15, 17)) if dense else int(rng.integers(14, 20))
        profiles.append(
            Profile(
                class_id=class_id,
                country=country,
                timezone=zone,
                latitude=lat + float(rng.uniform(-1, 1)),
                longitude=lon + float(rng.uniform(-1, 1)),
                isced=str(rng.choice(FIELDS)),
                eqf=int(rng.integers(3, 6)),
                age_min=age_min,
                age_max=age_min + int(rng.integers(0, 3 if dense else 6)),
                size=int(rng.integers(5, 30)),
                languages=languages,
                period_start=start,
                period_end=start + timedelta(days=int(rng.integers(20 if dense else 0, 90))),
                mode=mode,
                can_send=bool(rng.random() < 0.6),
                can_host=bool(rng.random() < 0.6),
                wants_live=bool(rng.random() < 0.8),
                slots=tuple(slots),
                themes=frozenset(str(t) for t in rng.choice(["green", "digital", "inclusion", "robots"], 2)),
                preferred_countries=frozenset({"FI"}) if rng.random() < 0.2 else frozenset(),
                excluded_countries=frozenset({"TR"}) if rng.random() < 0.1 else frozenset(),
                max_distance_km=int(rng.choice([1500, 3000])) if rng.random() < 0.5 else None,
                allows_mixed_ages=bool(rng.random() < 0.5),
                past_partner_class_ids=frozenset({int(rng.integers(1, count + 1))})
                if rng.random() < 0.2
                else frozenset(),
            )
        )
    return profiles


# -- the tests ------------------------------------------------------------------------------


def allowed_edges(profiles: list[Profile], settings: Settings) -> dict[tuple[int, int], float]:
    return {
        (a.class_id, b.class_id): score_pair(a, b, settings).total
        for k, a in enumerate(profiles)
        for b in profiles[k + 1 :]
        if not hard_violations(a, b, settings)
    }


def brute_force_best(ids: list[int], edges: dict[tuple[int, int], float]) -> float:
    """The best total over every matching, by trying each partner (or none) for the first class."""
    if len(ids) < 2:
        return 0.0
    first, rest = ids[0], ids[1:]
    best = brute_force_best(rest, edges)
    for other in rest:
        score = edges.get((first, other))
        if score is not None:
            best = max(best, score + brute_force_best([i for i in rest if i != other], edges))
    return best


def assert_valid(result: PairingResult, profiles: list[Profile], settings: Settings) -> None:
    by_id = {p.class_id: p for p in profiles}
    seen = [class_id for a, b, _score in result.pairs for class_id in (a, b)]
    assert len(seen) == len(set(seen)), "a class is paired twice"
    for a, b, score in result.pairs:
        assert hard_violations(by_id[a], by_id[b], settings) == []
        assert score == score_pair(by_id[a], by_id[b], settings).total
    assert set(result.unmatched) == set(by_id) - set(seen)


@pytest.mark.parametrize("seed", range(12))
def test_small_rounds_are_optimal(seed):
    settings = Settings()
    profiles = random_profiles(seed, 10, dense=True)
    edges = allowed_edges(profiles, settings)
    result = pair_classes(profiles, settings)
    assert_valid(result, profiles, settings)
    assert result.total_score == pytest.approx(brute_force_best([p.class_id for p in profiles], edges), abs=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_the_exact_reference(seed):
    settings = Settings()
    profiles = random_profiles(100 + seed, 40, dense=True)
    fast, exact = pair_classes(profiles, settings), exact_pairing(profiles, settings)
    assert_valid(fast, profiles, settings)
    assert fast.total_score == pytest.approx(exact.total_score, abs=1e-5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), count=st.integers(0, 30), dense=st.booleans())
def test_no_pair_ever_breaks_a_hard_constraint(seed, count, dense):
    rules = Settings()
    profiles = random_profiles(seed, count, dense)
    assert_valid(pair_classes(profiles, rules), profiles, rules)


def test_unmatched_reasons():
    settings = Settings()
    profiles = [
        make_profile(1, country="PT"),
        make_profile(2, country="FI", timezone="Europe/Helsinki"),
        make_profile(3, country="PL", timezone="Europe/Warsaw"),  # three compatible: one is left over
        make_profile(4, country="IE", timezone="Europe/Dublin", languages={"ga": 6}),
        make_profile(5, country="IE", timezone="Europe/Dublin", languages={"en": 3}, slots=(Slot(4, 1200, 1260),)),
    ]
    result = pair_classes(profiles, settings)
    assert_valid(result, profiles, settings)
    assert len(result.pairs) == 1
    assert result.unmatched[4] == "no_shared_language"
    assert result.unmatched[5] == "live_overlap"
    leftover = ({1, 2, 3} - {i for pair in result.pairs for i in pair[:2]}).pop()
    assert result.unmatched[leftover] == PARTNERS_TAKEN
    alone = pair_classes([make_profile(9)], settings)
    assert alone.pairs == [] and alone.unmatched == {9: "no_other_class"}
    assert pair_classes([], settings).pairs == []


def test_same_country_is_the_reason_when_everyone_is_local():
    profiles = [make_profile(k, latitude=38 + k / 10) for k in range(1, 5)]
    result = pair_classes(profiles, Settings())
    assert result.pairs == [] and set(result.unmatched.values()) == {"same_country"}


def test_large_round_paths_stay_valid(monkeypatch):
    """Sampled field blocks, big components split by group, greedy for pieces too big."""
    monkeypatch.setattr(pairing, "ALL_PAIRS_LIMIT", 100)
    monkeypatch.setattr(pairing, "BLOCK_COLUMNS", 12)
    monkeypatch.setattr(pairing, "WIDE_COLUMNS", 30)
    monkeypatch.setattr(pairing, "EXACT_COMPONENT", 6)
    monkeypatch.setattr(pairing, "EXACT_GROUP", 8)
    rules = Settings()
    profiles = random_profiles(7, 120, dense=True)
    result = pair_classes(profiles, rules)
    assert_valid(result, profiles, rules)
    exact = exact_pairing(profiles, rules)
    assert result.total_score >= 0.5 * exact.total_score  # greedy forced on tiny pieces
