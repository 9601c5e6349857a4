"""Matching rounds: the pairing of opted-in classes with the highest total score.

Every edge of the graph is a pair that passes all hard constraints, weighted by its soft
score; rustworkx's maximum-weight matching (Rust) picks the pairs. A class left without a
partner gets the reason: no compatible class at all (with the constraint that ruled out
most), or compatible classes that were better paired with others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import rustworkx

from app.modules.matching.scoring import Profile, Settings, hard_violations, score_pair

# rustworkx matches on integer weights: scores in millionths keep six decimals.
WEIGHT_SCALE = 1_000_000
PARTNERS_TAKEN = "partners_taken"


@dataclass
class PairingResult:
    pairs: list[tuple[int, int, float]]  # (class id, class id, score)
    unmatched: dict[int, str] = field(default_factory=dict)  # class id -> reason code

    @property
    def total_score(self) -> float:
        return sum(score for _a, _b, score in self.pairs)


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


def pair_classes(profiles: Sequence[Profile], settings: Settings) -> PairingResult:
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
