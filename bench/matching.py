"""Partner matching at scale: pairing rounds of 1k-100k classes, quality, suggestion latency.

Run by hand, never as a test:

    .venv/bin/python bench/matching.py                      # everything
    .venv/bin/python bench/matching.py --sizes 1000,10000   # a subset of pairing sizes
    .venv/bin/python bench/matching.py --quality 1000 --suggest 0

Profiles are synthetic but shaped like the real thing: countries with their own time zones
and plausible numbers of VET classes, a national language plus English (most common) and
sometimes a third language at plausible CEFR levels, fields in VET proportions, EQF 3 to 5,
periods inside one school year (so many cross the October and March clock changes), one to
four weekly slots in school hours.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.modules.matching.index import PartnerIndex
from app.modules.matching.pairing import exact_pairing, pair_classes
from app.modules.matching.scoring import BLENDED, VIRTUAL, Profile, Settings, Slot

# country: (zone, national language, relative number of VET classes, latitude, longitude)
COUNTRIES = {
    "DE": ("Europe/Berlin", "de", 14, 51.2, 10.4),
    "FR": ("Europe/Paris", "fr", 12, 46.6, 2.4),
    "IT": ("Europe/Rome", "it", 11, 42.8, 12.5),
    "ES": ("Europe/Madrid", "es", 9, 40.4, -3.7),
    "PL": ("Europe/Warsaw", "pl", 8, 52.1, 19.4),
    "NL": ("Europe/Amsterdam", "nl", 5, 52.2, 5.3),
    "RO": ("Europe/Bucharest", "ro", 5, 45.9, 24.9),
    "TR": ("Europe/Istanbul", "tr", 6, 39.0, 35.0),
    "PT": ("Europe/Lisbon", "pt", 4, 39.6, -8.0),
    "CZ": ("Europe/Prague", "cs", 4, 49.8, 15.5),
    "AT": ("Europe/Vienna", "de", 4, 47.6, 14.1),
    "BE": ("Europe/Brussels", "nl", 3, 50.6, 4.6),
    "HU": ("Europe/Budapest", "hu", 3, 47.2, 19.5),
    "GR": ("Europe/Athens", "el", 3, 39.1, 22.9),
    "SE": ("Europe/Stockholm", "sv", 3, 60.1, 15.6),
    "FI": ("Europe/Helsinki", "fi", 2, 62.2, 25.7),
    "IE": ("Europe/Dublin", "en", 2, 53.4, -7.7),
    "DK": ("Europe/Copenhagen", "da", 2, 56.0, 10.0),
    "SK": ("Europe/Bratislava", "sk", 2, 48.7, 19.7),
    "BG": ("Europe/Sofia", "bg", 2, 42.7, 25.5),
    "HR": ("Europe/Zagreb", "hr", 2, 45.1, 15.2),
    "SI": ("Europe/Ljubljana", "sl", 1, 46.1, 14.8),
    "LT": ("Europe/Vilnius", "lt", 1, 55.2, 23.9),
    "LV": ("Europe/Riga", "lv", 1, 56.9, 24.6),
    "EE": ("Europe/Tallinn", "et", 1, 58.6, 25.0),
    "IS": ("Atlantic/Reykjavik", "is", 1, 64.9, -18.6),
}
FOREIGN = {"en": 70, "de": 12, "fr": 10, "es": 8, "it": 5, "ru": 3}  # second/third language shares
FIELDS = {
    "1013": 16, "0715": 10, "0716": 10, "0713": 8, "0714": 6, "0611": 8, "0732": 7, "0913": 6, "0922": 5,
    "0416": 6, "0413": 5, "1012": 5, "0721": 5, "0812": 4, "0414": 2, "1015": 2, "0722": 1,
}  # fmt: skip
THEMES = ["green", "digital", "entrepreneurship", "health_safety", "heritage", "citizenship", "inclusion"]
FREE_TAGS = ["robotics", "food_waste", "tourism", "3d_printing", "solar", "cybersecurity", "elderly_care", "design"]
SCHOOL_YEAR = date(2026, 9, 1)


def make_profiles(count: int, seed: int) -> list[Profile]:
    rng = random.Random(seed)  # noqa: S311 (reproducible test data)
    countries = list(COUNTRIES)
    weights = [COUNTRIES[c][2] for c in countries]
    fields, field_weights = list(FIELDS), list(FIELDS.values())
    profiles = []
    for class_id in range(1, count + 1):
        country = rng.choices(countries, weights)[0]
        zone, native, _share, lat, lon = COUNTRIES[country]
        languages = {native: 6}
        for _ in range(rng.choices([1, 2], [75, 25])[0]):
            other = rng.choices(list(FOREIGN), list(FOREIGN.values()))[0]
            if other not in languages:
                languages[other] = rng.choices([1, 2, 3, 4, 5], [5, 30, 40, 20, 5])[0]
        eqf = rng.choices([3, 4, 5], [35, 50, 15])[0]
        age_min = {3: 15, 4: 16, 5: 18}[eqf] + rng.choice([0, 0, 1])
        begin = SCHOOL_YEAR + timedelta(days=rng.randrange(0, 200))
        length = rng.choice([42, 56, 84, 112, 140, 180])
        end = min(begin + timedelta(days=length), date(2027, 6, 30))
        slots = set()
        for _ in range(rng.choice([1, 2, 2, 3, 3, 4])):
            start = rng.randrange(8 * 4, 15 * 4) * 15
            slots.add(Slot(rng.randrange(5), start, start + rng.choice([45, 60, 90, 120])))
        mode = BLENDED if rng.random() < 0.25 else VIRTUAL
        themes = set(rng.sample(THEMES, rng.choice([1, 2, 2, 3])))
        if rng.random() < 0.2:
            themes.add(rng.choice(FREE_TAGS))
        profiles.append(
            Profile(
                class_id=class_id,
                country=country,
                timezone=zone,
                latitude=lat + rng.uniform(-2, 2),
                longitude=lon + rng.uniform(-3, 3),
                isced=rng.choices(fields, field_weights)[0],
                eqf=eqf,
                age_min=age_min,
                age_max=age_min + rng.choice([2, 3, 4]),
                size=rng.randint(8, 30),
                languages=languages,
                period_start=begin,
                period_end=end,
                mode=mode,
                can_send=mode == BLENDED and rng.random() < 0.7,
                can_host=mode == BLENDED and rng.random() < 0.7,
                wants_live=rng.random() < 0.85,
                slots=tuple(sorted(slots, key=lambda s: (s.weekday, s.start_minute))),
                themes=frozenset(themes),
                excluded_countries=frozenset(rng.sample(countries, 1)) if rng.random() < 0.05 else frozenset(),
                preferred_countries=frozenset(rng.sample(countries, 2)) if rng.random() < 0.15 else frozenset(),
                max_distance_km=rng.choice([None, 1500, 2500]) if mode == BLENDED else None,
                allows_mixed_ages=rng.random() < 0.3,
            )
        )
    return profiles


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_pairing(size: int, seed: int, settings: Settings) -> None:
    """One size, in this process: meant to run in a fresh child so that max RSS is its own."""
    began = time.perf_counter()
    profiles = make_profiles(size, seed)
    made = time.perf_counter() - began
    base_rss = peak_rss_mib()
    began = time.perf_counter()
    result = pair_classes(profiles, settings)
    elapsed = time.perf_counter() - began
    reasons: dict[str, int] = {}
    for reason in result.unmatched.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    print(
        f"pairing n={size:>6}: {elapsed:7.2f} s  max RSS {peak_rss_mib():7.1f} MiB (profiles alone {base_rss:.0f} MiB,"
        f" made in {made:.1f} s)  pairs {len(result.pairs):>6}  total score {result.total_score:10.3f}"
    )
    stages = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.stats.items())
    print(f"    stages: {stages}\n    unmatched: {reasons}", flush=True)


def bench_quality(size: int, seed: int, settings: Settings) -> None:
    profiles = make_profiles(size, seed)
    began = time.perf_counter()
    fast = pair_classes(profiles, settings)
    fast_time = time.perf_counter() - began
    began = time.perf_counter()
    exact = exact_pairing(profiles, settings)
    exact_time = time.perf_counter() - began
    ratio = fast.total_score / exact.total_score if exact.total_score else 1.0
    print(
        f"quality n={size:>5}: fast {fast.total_score:.3f} ({len(fast.pairs)} pairs, {fast_time:.2f} s)  "
        f"exact {exact.total_score:.3f} ({len(exact.pairs)} pairs, {exact_time:.1f} s)  ratio {ratio:.5f}"
    )


def bench_sparse(size: int, seed: int, settings: Settings) -> None:
    """How much the split matching of big components loses against one exact matching of the
    same candidate graph (totals of the vectorised bound scores)."""
    import numpy as np
    import rustworkx

    from app.modules.matching import pairing
    from app.modules.matching.index import ProfileTable

    table = ProfileTable(make_profiles(size, seed), settings)
    low, high, bound = pairing.candidate_graph(table)
    weight = dict(zip(zip(low.tolist(), high.tolist(), strict=True), bound.tolist(), strict=True))
    began = time.perf_counter()
    split = sum(weight[pair] for pair in pairing.match_graph(size, low, high, bound, table.field))
    split_time = time.perf_counter() - began
    graph = rustworkx.PyGraph()
    graph.add_nodes_from(range(size))
    graph.add_edges_from(list(zip(low.tolist(), high.tolist(), np.rint(bound * 1e6).astype(int).tolist(), strict=True)))
    began = time.perf_counter()
    chosen = rustworkx.max_weight_matching(graph, weight_fn=int)
    exact = sum(weight[(min(u, v), max(u, v))] for u, v in chosen)
    print(
        f"sparse graph n={size}: {len(low)} edges; split matching {split:.3f} ({split_time:.2f} s), "
        f"one exact matching {exact:.3f} ({time.perf_counter() - began:.1f} s), ratio {split / exact:.5f}"
    )


def bench_suggest(size: int, seed: int, settings: Settings, targets: int) -> None:
    profiles = make_profiles(size, seed)
    began = time.perf_counter()
    index = PartnerIndex(profiles, settings)
    built = time.perf_counter() - began
    rng = random.Random(seed + 1)  # noqa: S311
    latencies = []
    for target in rng.sample(profiles, targets):
        began = time.perf_counter()
        index.suggest(target, limit=20)
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"suggest n={size}: index built in {built:.1f} s; {targets} targets, limit 20: "
        f"median {statistics.median(latencies):.1f} ms  p95 {p95:.1f} ms  max {latencies[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="pairing sizes, comma-separated ('' for none)")
    parser.add_argument("--quality", default="1000,2000", help="sizes compared with the exact optimum")
    parser.add_argument("--suggest", type=int, default=100000, help="classes in the suggestion index (0: skip)")
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--sparse", default="", help="sizes whose candidate graph is also matched exactly in one piece")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single pairing size, in a child
    args = parser.parse_args()
    settings = Settings()
    if args.one:
        bench_pairing(args.one, args.seed, settings)
        return
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}  seed {args.seed}")
    for size in [int(s) for s in args.quality.split(",") if s]:
        bench_quality(size, args.seed, settings)
    for size in [int(s) for s in args.sizes.split(",") if s]:
        subprocess.run([sys.executable, __file__, "--one", str(size), "--seed", str(args.seed)], check=True)
    for size in [int(s) for s in args.sparse.split(",") if s]:
        bench_sparse(size, args.seed, settings)
    if args.suggest:
        bench_suggest(args.suggest, args.seed, settings, args.targets)


if __name__ == "__main__":
    main()
