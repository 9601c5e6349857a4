"""Matching rounds: the pairing of opted-in classes with the highest total score.

`pair_classes` is the fast pipeline: the vectorised `ProfileTable` scores classes in blocks
(all pairs while that is cheap, within the same detailed field beyond), each class keeps its
best `NEIGHBOURS` candidates, and rustworkx's maximum-weight matching (Rust) runs on each
connected component of that sparse graph; a component too big for it is matched exactly
within each detailed field, then across them for the classes left over. Every chosen pair is then checked
with scoring.hard_violations and scored with scoring.score_pair, so no pair breaks a hard
constraint and every reported number is an exact score.

`exact_pairing` is the slow reference (every pair scored exactly, one matching over all of
them); the benchmark and the tests measure the fast pipeline against it.

A class left without a partner gets the reason: compatible classes that were better paired
with others ("partners_taken"), or no compatible class at all, with the constraint that
ruled out most.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import rustworkx

from app.modules.matching.index import ProfileTable
from app.modules.matching.scoring import Profile, Settings, hard_violations, score_pair

# rustworkx matches on integer weights: scores in millionths keep six decimals.
WEIGHT_SCALE = 1_000_000
PARTNERS_TAKEN = "partners_taken"
NEIGHBOURS = 12  # candidates kept per class
ALL_PAIRS_LIMIT = 30_000_000  # below this many ordered pairs every pair is scored
BLOCK_COLUMNS = 3_000  # in a bigger field block, each row meets this many sampled columns
BLOCK_ELEMENTS = 1_500_000  # rows x columns scored in one numpy step
WIDE_COLUMNS = 10_000  # classes short of partners in their field look this wide (sampled beyond)
REASON_COLUMNS = 1_000  # classes an unmatched class's reason is counted against (sampled beyond)
EXACT_COMPONENT = 3_000  # nodes up to which a component gets rustworkx's exact matching as a whole
EXACT_GROUP = 16_000  # beyond this a piece of a bigger component is matched greedily
VERIFY_ROUNDS = 4  # re-matching rounds after pairs are refused by the exact check


@dataclass
class PairingResult:
    pairs: list[tuple[int, int, float]]  # (class id, class id, score)
    unmatched: dict[int, str] = field(default_factory=dict)  # class id -> reason code
    stats: dict = field(default_factory=dict)

    @property
    def total_score(self) -> float:
        return sum(score for _a, _b, score in self.pairs)


# -- the exact reference -------------------------------------------------------------------


def candidate_edges(profiles: Sequence[Profile], settings: Settings) -> tuple[list[tuple[int, int, float]], dict]:
    """Every allowed pair (by index) with its score, and per class the violations seen."""
    edges = []
    violations: dict[int, Counter] = {index: Counter() for index in range(len(profiles))}
    for i, a in enumerate(profiles):
        for j in range(i + 1, len(profiles)):
            b = profiles[j]
            broken = hard_violations(a, b, settings)
            if broken:
                for violation in broken:
                    violations[i][violation.code] += 1
                    violations[j][violation.code] += 1
                continue
            edges.append((i, j, score_pair(a, b, settings).total))
    return edges, violations


def best_matching(node_count: int, edges: Sequence[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The maximum-weight matching of the graph (indices and scores)."""
    graph = rustworkx.PyGraph()
    graph.add_nodes_from(range(node_count))
    graph.add_edges_from([(i, j, round(score * WEIGHT_SCALE)) for i, j, score in edges])
    chosen = rustworkx.max_weight_matching(graph, max_cardinality=False, weight_fn=int)
    score_of = {(i, j): score for i, j, score in edges}
    return [(min(i, j), max(i, j), score_of[(min(i, j), max(i, j))]) for i, j in chosen]


def exact_pairing(profiles: Sequence[Profile], settings: Settings) -> PairingResult:
    """The optimum over every allowed pair, scored pair by pair: slow, for reference."""
    edges, violations = candidate_edges(profiles, settings)
    matched = best_matching(len(profiles), edges)
    result = PairingResult([(profiles[i].class_id, profiles[j].class_id, score) for i, j, score in matched])
    paired = {index for i, j, _score in matched for index in (i, j)}
    has_candidate = {index for i, j, _score in edges for index in (i, j)}
    for index, profile in enumerate(profiles):
        if index in paired:
            continue
        if index in has_candidate:
            result.unmatched[profile.class_id] = PARTNERS_TAKEN
        else:
            most_common = violations[index].most_common(1)
            result.unmatched[profile.class_id] = most_common[0][0] if most_common else "no_other_class"
    return result


# -- the fast pipeline ---------------------------------------------------------------------


def _best_of_rows(table: ProfileTable, rows: np.ndarray, cols: np.ndarray, keep: int) -> tuple[np.ndarray, ...]:
    """For each row, its `keep` best allowed columns: (row, column, bound score) arrays."""
    found = []
    step = max(1, BLOCK_ELEMENTS // max(1, len(cols)))
    for begin in range(0, len(rows), step):
        chunk = rows[begin : begin + step]
        allowed, score = table.score_block(chunk, cols)
        score = np.where(allowed, score, -1.0)
        k = min(keep, len(cols))
        top = (
            np.argpartition(-score, k - 1, axis=1)[:, :k]
            if k < len(cols)
            else np.tile(np.arange(len(cols)), (len(chunk), 1))
        )
        best = np.take_along_axis(score, top, axis=1)
        ok = best >= 0
        found.append((np.repeat(chunk, k)[ok.ravel()], cols[top][ok], best[ok]))
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))


def candidate_graph(table: ProfileTable, keep: int = NEIGHBOURS, seed: int = 0) -> tuple[np.ndarray, ...]:
    """The sparse candidate graph: each class's best `keep` partners by the vectorised bound.

    Small rounds score every pair. Large ones score within the detailed field: a very big
    field first against a seeded sample of itself, then, for classes that found fewer than
    `keep` partners in the sample, against the whole field; a class still short of `keep`
    partners is scored against everyone (a seeded sample of WIDE_COLUMNS in big rounds).
    """
    n = len(table.profiles)
    everyone = np.arange(n)
    if n * n <= ALL_PAIRS_LIMIT:
        rows, cols, scores = _best_of_rows(table, everyone, everyone, keep)
    else:
        rng = np.random.default_rng(seed)
        parts = []
        for value in np.unique(table.field):
            members = np.flatnonzero(table.field == value)
            if len(members) <= BLOCK_COLUMNS:
                parts.append(_best_of_rows(table, members, members, keep))
                continue
            step = max(1, BLOCK_ELEMENTS // BLOCK_COLUMNS)
            sampled = []
            for begin in range(0, len(members), step):
                sample = np.sort(rng.choice(members, BLOCK_COLUMNS, replace=False))
                sampled.append(_best_of_rows(table, members[begin : begin + step], sample, keep))
            sampled = tuple(np.concatenate(p) for p in zip(*sampled, strict=True))
            found = np.bincount(sampled[0], minlength=n)[members]
            full = found < keep
            kept = np.isin(sampled[0], members[~full])
            parts.append(tuple(part[kept] for part in sampled))
            parts.append(_best_of_rows(table, members[full], members, keep))
        rows, cols, scores = (np.concatenate(p) for p in zip(*parts, strict=True))
        alone = np.flatnonzero(np.bincount(rows, minlength=n) < keep)
        if len(alone):
            others = everyone if n <= WIDE_COLUMNS else np.sort(rng.choice(n, WIDE_COLUMNS, replace=False))
            more = _best_of_rows(table, alone, others, keep)
            rows, cols, scores = (np.concatenate(p) for p in zip((rows, cols, scores), more, strict=True))
    low, high = np.minimum(rows, cols), np.maximum(rows, cols)
    _key, first = np.unique(low.astype(np.int64) * n + high, return_index=True)
    return low[first], high[first], scores[first]


def _matching_of(graph: rustworkx.PyGraph, nodes: list[int]) -> list[tuple[int, int]]:
    """Exact matching of the subgraph on `nodes` per component; greedy for a component too big."""
    pairs = []
    sub = graph.subgraph(nodes)
    for component in rustworkx.connected_components(sub):
        if len(component) < 2:
            continue
        if len(component) <= EXACT_GROUP:
            part = sub.subgraph(sorted(component))
            pairs += [(part[u], part[v]) for u, v in rustworkx.max_weight_matching(part, weight_fn=int)]
            continue
        edges = [(sub[u], sub[v], w) for u, v, w in sub.weighted_edge_list() if u in component]
        taken: set[int] = set()
        for u, v, _w in sorted(edges, key=lambda edge: -edge[2]):
            if u not in taken and v not in taken:
                taken.update((u, v))
                pairs.append((u, v))
    return pairs


def match_graph(
    n: int, low: np.ndarray, high: np.ndarray, weight: np.ndarray, group: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Maximum-weight matching per connected component of the candidate graph.

    A component bigger than EXACT_COMPONENT is matched exactly within each `group` (the
    detailed field: most good edges lie inside one), then the classes left over are
    matched exactly over every edge among them. Only a piece bigger than EXACT_GROUP falls
    back to greedy.
    """
    graph = rustworkx.PyGraph()
    graph.add_nodes_from(range(n))
    integer = np.rint(weight * WEIGHT_SCALE).astype(np.int64)
    graph.add_edges_from(list(zip(low.tolist(), high.tolist(), integer.tolist(), strict=True)))
    pairs: list[tuple[int, int]] = []
    for component in rustworkx.connected_components(graph):
        if len(component) < 2:
            continue
        nodes = np.array(sorted(component))
        if len(nodes) <= EXACT_COMPONENT:
            pairs += _matching_of(graph, nodes.tolist())
            continue
        keys = group[nodes] if group is not None else np.zeros(len(nodes), dtype=np.int64)
        found = []
        for key in np.unique(keys):
            found += _matching_of(graph, nodes[keys == key].tolist())
        taken = {u for pair in found for u in pair}
        found += _matching_of(graph, [u for u in nodes.tolist() if u not in taken])
        pairs += found
    return [(min(u, v), max(u, v)) for u, v in pairs]


def _reasons(table: ProfileTable, rows: np.ndarray) -> dict[int, str]:
    """The most common hard-constraint code of each row against the other classes.

    Counted against everyone up to REASON_COLUMNS classes, beyond that against a seeded sample.
    """
    reasons: dict[int, str] = {}
    n = len(table.profiles)
    if not len(rows):
        return reasons
    sample = np.random.default_rng(1).choice(n, min(n, REASON_COLUMNS), replace=False)
    others = np.arange(n) if n <= REASON_COLUMNS else np.sort(sample)
    step = max(1, BLOCK_ELEMENTS // len(others))
    for begin in range(0, len(rows), step):
        chunk = rows[begin : begin + step]
        broken: dict[str, np.ndarray] = {}
        table.score_block(chunk, others, broken)
        itself = chunk[:, None] == others[None, :]
        codes = list(broken)
        counts = np.stack([(broken[code] & ~itself).sum(axis=1) for code in codes], axis=1)
        for k, row in enumerate(chunk):
            best = int(np.argmax(counts[k]))
            reasons[int(row)] = codes[best] if counts[k, best] else "no_other_class"
    return reasons


def _settle_unknown(table: ProfileTable, low: np.ndarray, high: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Check exactly the few edges whose live time the masks cannot bound (no whole week of
    the common period clear of a clock change); returns which edges may be used, and puts
    the exact score in `bound` for those that pass."""
    usable = np.ones(len(low), dtype=bool)
    start = np.maximum(table.start[low], table.start[high])
    days = np.minimum(table.end[low], table.end[high]) - start + 1
    unknown = table.wants_live[low] & table.wants_live[high]
    unknown[unknown] = np.isinf(table.live_cells(low[unknown], high[unknown], start[unknown], days[unknown]))
    profiles, settings = table.profiles, table.settings
    for e in np.flatnonzero(unknown):
        a, b = profiles[low[e]], profiles[high[e]]
        if hard_violations(a, b, settings):
            usable[e] = False
        else:
            bound[e] = score_pair(a, b, settings).total
    return usable


def pair_classes(profiles: Sequence[Profile], settings: Settings) -> PairingResult:
    """The pairing with (nearly) the highest total score; every pair checked and scored exactly."""
    clock = time.perf_counter()
    stats: dict = {}
    table = ProfileTable(profiles, settings)
    low, high, bound = candidate_graph(table)
    stats["candidates_s"], clock = time.perf_counter() - clock, time.perf_counter()
    stats["edges"] = len(low)
    usable = _settle_unknown(table, low, high, bound)
    edge_of = {}
    result = PairingResult([], stats=stats)
    paired = np.zeros(len(profiles), dtype=bool)
    group = table.field
    matched = match_graph(len(profiles), low[usable], high[usable], bound[usable], group)
    stats["matching_s"] = time.perf_counter() - clock
    verify = 0.0
    for _attempt in range(VERIFY_ROUNDS):
        clock = time.perf_counter()
        dropped = 0
        for i, j in matched:
            a, b = profiles[i], profiles[j]
            if hard_violations(a, b, settings):
                # the vectorised bound let a pair through that the exact check refuses (a week
                # across a clock change can offer less live time); drop it and re-match the freed
                if not edge_of:
                    edge_of.update(
                        ((u, v), e) for e, (u, v) in enumerate(zip(low.tolist(), high.tolist(), strict=True))
                    )
                usable[edge_of[(i, j)]] = False
                dropped += 1
                continue
            result.pairs.append((a.class_id, b.class_id, score_pair(a, b, settings).total))
            paired[[i, j]] = True
        verify += time.perf_counter() - clock
        stats["dropped"] = stats.get("dropped", 0) + dropped
        if not dropped:
            break
        # match again among classes still free, over edges not yet refused
        open_edges = usable & ~paired[low] & ~paired[high]
        matched = match_graph(len(profiles), low[open_edges], high[open_edges], bound[open_edges], group)
    stats["verify_s"] = verify
    clock = time.perf_counter()
    has_candidate = np.zeros(len(profiles), dtype=bool)
    has_candidate[low[usable]] = has_candidate[high[usable]] = True  # refused edges do not count
    reasons = _reasons(table, np.flatnonzero(~paired & ~has_candidate))
    for k, profile in enumerate(profiles):
        if not paired[k]:
            result.unmatched[profile.class_id] = reasons.get(k, PARTNERS_TAKEN)
    stats["reasons_s"] = time.perf_counter() - clock
    return result
