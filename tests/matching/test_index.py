"""The vectorised table and the suggestions index: the table never rules out an allowed pair
and never scores below score_pair; its live-time masks bound scoring.weekly_overlap from
above and equal it away from clock changes; suggestions equal a brute-force ranking."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.modules.matching.index import PartnerIndex, ProfileTable
from app.modules.matching.scoring import Settings, Slot, common_period, hard_violations, score_pair, weekly_overlap
from tests.matching.test_pairing import PLACES, make_profile, random_profiles


def brute_force(target, profiles, settings, limit, filters=None):
    ranked = []
    for other in profiles:
        if other.class_id == target.class_id or hard_violations(target, other, settings):
            continue
        if filters and not (
            other.isced.startswith(filters.get("isced", ""))
            and other.country == filters.get("country", other.country)
            and (not filters.get("language") or filters["language"] in other.languages)
        ):
            continue
        ranked.append((score_pair(target, other, settings).total, other.class_id))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return ranked[:limit]


@pytest.mark.parametrize("seed", range(6))
def test_table_never_rules_out_an_allowed_pair_nor_underscores(seed):
    settings = Settings()
    profiles = random_profiles(seed, 40, dense=seed % 2 == 0)
    table = ProfileTable(profiles, settings)
    everyone = np.arange(len(profiles))
    allowed, bound = table.score_block(everyone, everyone)
    for i, a in enumerate(profiles):
        for j, b in enumerate(profiles):
            if i == j:
                continue
            broken = hard_violations(a, b, settings)
            if not broken:
                assert allowed[i, j], (a, b)
                assert bound[i, j] >= score_pair(a, b, settings).total - 1e-9
            elif not allowed[i, j]:
                continue
            else:  # let through only for want of an exact live bound
                assert [v.code for v in broken] == ["live_overlap"]


@pytest.mark.parametrize("seed", range(8))
def test_reasons_name_real_violations(seed):
    settings = Settings()
    profiles = random_profiles(seed, 25)
    table = ProfileTable(profiles, settings)
    broken: dict = {}
    everyone = np.arange(len(profiles))
    table.score_block(everyone, everyone, broken)
    for i, a in enumerate(profiles):
        for j, b in enumerate(profiles):
            if i != j:
                codes = {v.code for v in hard_violations(a, b, settings)}
                flagged = {code for code, flags in broken.items() if flags[i, j]}
                assert flagged <= codes


def live_pair(rng, zone_a, zone_b, start, days):
    def slots():
        result = []
        for _ in range(int(rng.integers(1, 5))):
            begin = int(rng.choice([0, 30, 60, 120, 180, 480, 600, 720, 900, 1380, 1410]))
            result.append(Slot(int(rng.integers(0, 7)), begin, min(1440, begin + int(rng.integers(1, 10)) * 30)))
        return tuple(result)

    a = make_profile(1, timezone=zone_a, slots=slots(), period_start=start, period_end=start + timedelta(days))
    b = make_profile(
        2, country="FI", timezone=zone_b, slots=slots(), period_start=start, period_end=start + timedelta(days)
    )
    return a, b


ZONES = [place[1] for place in PLACES]


@pytest.mark.parametrize("seed", range(10))
def test_live_masks_bound_the_exact_overlap_across_clock_changes(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(40):
        start = [date(2026, 10, 25), date(2027, 3, 28)][int(rng.integers(2))] + timedelta(int(rng.integers(-30, 10)))
        a, b = live_pair(rng, ZONES[rng.integers(6)], ZONES[rng.integers(6)], start, int(rng.integers(13, 60)))
        table = ProfileTable([a, b], Settings())
        first, last = common_period(a, b)
        days = np.array([(last - first).days + 1])
        bound = table.live_cells(np.array([0]), np.array([1]), np.array([first.toordinal()]), days)[0] * table.cell
        exact = weekly_overlap(a, b, first, last).weekly_minutes
        assert bound >= exact
        checked += not np.isinf(bound)
    assert checked > 20


@pytest.mark.parametrize("seed", range(10))
def test_live_masks_equal_the_exact_overlap_between_clock_changes(seed):
    rng = np.random.default_rng(seed)
    for _ in range(30):
        start = date(2026, 11, 2) + timedelta(int(rng.integers(0, 60)))
        a, b = live_pair(rng, ZONES[rng.integers(6)], ZONES[rng.integers(6)], start, int(rng.integers(7, 80)))
        table = ProfileTable([a, b], Settings())
        first, last = common_period(a, b)
        days = np.array([(last - first).days + 1])
        bound = table.live_cells(np.array([0]), np.array([1]), np.array([first.toordinal()]), days)[0] * table.cell
        assert bound == weekly_overlap(a, b, first, last).weekly_minutes


@pytest.mark.parametrize("seed", range(6))
def test_suggestions_equal_the_brute_force_ranking(seed):
    settings = Settings()
    profiles = random_profiles(seed, 60, dense=True)
    index = PartnerIndex(profiles, settings)
    for target in profiles[:15]:
        got = index.suggest(target, limit=5)
        want = brute_force(target, profiles, settings, 5)
        assert [(round(s.total, 9), p.class_id) for p, s in got] == [(round(t, 9), c) for t, c in want]
        for partner, scored in got:
            assert hard_violations(target, partner, settings) == []
            assert scored == score_pair(target, partner, settings)


def test_suggestions_for_a_class_outside_the_index():
    settings = Settings()
    profiles = random_profiles(11, 50, dense=True)
    index = PartnerIndex(profiles[1:], settings)
    target = profiles[0]
    got = [(p.class_id, s.total) for p, s in index.suggest(target, limit=8)]
    assert got == [(c, t) for t, c in brute_force(target, profiles[1:], settings, 8)]


@pytest.mark.parametrize(
    "filters", [{"isced": "10"}, {"isced": "0715"}, {"country": "FI"}, {"language": "de"}, {"country": "XX"}]
)
def test_suggestions_respect_filters(filters):
    settings = Settings()
    profiles = random_profiles(5, 80, dense=True)
    index = PartnerIndex(profiles, settings)
    for target in profiles[:10]:
        got = index.suggest(target, limit=10, filters=filters)
        assert [p.class_id for p, _s in got] == [c for _t, c in brute_force(target, profiles, settings, 10, filters)]
        for partner, _scored in got:
            assert partner.isced.startswith(filters.get("isced", ""))
            assert partner.country == filters.get("country", partner.country)
            assert not filters.get("language") or filters["language"] in partner.languages


def test_suggest_edge_cases():
    helsinki = make_profile(2, country="FI", timezone="Europe/Helsinki", slots=(Slot(0, 720, 840),))
    index = PartnerIndex([make_profile(1), helsinki], Settings())
    assert index.suggest(make_profile(1), limit=0) == []
    assert [p.class_id for p, _s in index.suggest(make_profile(1))] == [2]
    assert PartnerIndex([], Settings()).suggest(make_profile(1)) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), count=st.integers(1, 40), dense=st.booleans(), limit=st.integers(1, 8))
def test_no_suggestion_ever_breaks_a_hard_constraint(seed, count, dense, limit):
    rules = Settings()
    profiles = random_profiles(seed, count, dense)
    index = PartnerIndex(profiles, rules)
    for target in profiles[:5]:
        got = index.suggest(target, limit=limit)
        assert len(got) <= limit
        assert len({p.class_id for p, _s in got}) == len(got)
        totals = [scored.total for _p, scored in got]
        assert totals == sorted(totals, reverse=True)
        for partner, _scored in got:
            assert partner.class_id != target.class_id
            assert hard_violations(target, partner, rules) == []
