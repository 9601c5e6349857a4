"""Splitting the pupils of the partner schools into teams (pure, no database).

The pupils come grouped by side: one group per partner school (the caller merges two classes
of the same school, since a team of them would not be an exchange). The teacher asks for a
team size and picks what matters more when the groups are of very unequal size:

- ``MIXED`` ("every team mixed"): every team holds pupils of at least two schools. A team can
  only be mixed if it gets a pupil from outside the largest school, so there are at most as
  many teams as the other schools have pupils together; the teams grow beyond the size asked
  when that limit bites.
- ``SIZE_FIRST`` ("team size first"): the number of teams whose sizes lie closest to the size
  asked; the pupils of the smaller schools go one per team as far as they go, so some teams
  may have pupils of one school only.

Both modes deal the pupils out the same way, so these hold for every plan (tested as
properties in tests/projects/test_teams.py):

1. every pupil is in exactly one team, no team is empty, and there are no teams without pupils;
2. team sizes differ by at most one;
3. per school, the number of its pupils in any two teams differs by at most one (so a school
   with no more pupils than there are teams has at most one pupil per team);
4. ``SIZE_FIRST``: no other number of teams would bring the sizes closer to the size asked
   (measured by the largest distance of a team's size from it); in particular, whenever some
   number of teams gives sizes all within ±1 of the size asked, these sizes are (7 pupils at 5
   per team cannot be: one team of 7 or two of 3 and 4); among equally close counts, none that
   leaves a pupil alone in a team;
5. ``MIXED``: when pupils of at least two schools are present, every team holds pupils of at
   least two schools, and there are as many teams as ``SIZE_FIRST`` would make unless that
   would break the mixing, in which case there are as many as the mixing allows.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

MIN_TEAM_SIZE = 2
MAX_TEAM_SIZE = 12


class TeamMode(enum.StrEnum):
    MIXED = "mixed"
    SIZE_FIRST = "size_first"


@dataclass(frozen=True)
class TeamPlan:
    """The teams and the numbers a summary needs (counts only: no pupil is named)."""

    mode: TeamMode
    asked_size: int
    teams: tuple[tuple[int, ...], ...]
    mixed_teams: int  # teams with pupils of at least two schools
    smallest_school_pupils: int  # pupils of the present school with fewest pupils
    smallest_school_teams: int  # teams that hold at least one of them
    school_count: int  # schools with at least one pupil

    @property
    def smallest_size(self) -> int:
        return min(map(len, self.teams), default=0)

    @property
    def largest_size(self) -> int:
        return max(map(len, self.teams), default=0)

    @property
    def unmixed_teams(self) -> int:
        return len(self.teams) - self.mixed_teams


def _size_deviation(total: int, count: int, size: int) -> tuple[int, bool, float, int]:
    """How far `total` pupils in `count` teams are from `size`, to be minimised: the worst team
    first, then whether a pupil would be alone in a team, then the average, then fewer teams
    (fewer video calls to run)."""
    low, high = total // count, -(-total // count)
    return max(abs(low - size), abs(high - size)), low < min(MIN_TEAM_SIZE, total), abs(total / count - size), count


def size_first_count(total: int, size: int) -> int:
    """The number of teams whose sizes come closest to `size` (see the module docstring, 4)."""
    if total <= 0:
        return 0
    # Beyond total // size + 1 teams, every team is smaller than `size` and more teams only
    # take it further away.
    return min(range(1, total // size + 2), key=lambda count: _size_deviation(total, count, size))


def mixed_limit(group_sizes: Sequence[int]) -> int:
    """The most teams that can all be mixed; 0 when fewer than two groups have pupils.

    More teams than the pupils outside the largest group leave a team of that group alone, and
    more than half the pupils leave a team of one. Up to both limits, dealing the largest group
    first and the others after it (as plan_teams does) mixes every team.
    """
    present = sorted((n for n in group_sizes if n > 0), reverse=True)
    if len(present) < 2:
        return 0
    return min(sum(present[1:]), sum(present) // 2)


def team_count(group_sizes: Sequence[int], size: int, mode: TeamMode) -> int:
    total = sum(group_sizes)
    count = size_first_count(total, size)
    limit = mixed_limit(group_sizes)
    if mode == TeamMode.MIXED and limit:
        count = min(count, limit)
    return count


def plan_teams(
    students_by_group: Mapping[Hashable, Sequence[int]],
    size: int,
    mode: TeamMode = TeamMode.MIXED,
    rng: random.Random | None = None,
) -> TeamPlan:
    """Teams of pupil ids for the wished `size` in the given mode.

    The groups are dealt round-robin, the largest first and the deal carried on from one group
    to the next: so team sizes differ by at most one, each group is spread as evenly as it can
    be, and the small groups land in the teams the largest one left shorter. With `rng` the
    pupils are shuffled within their group first (pass a seeded one for the same teams again);
    without it they keep the order given.
    """
    groups = [list(students) for students in students_by_group.values() if students]
    if rng is not None:
        for students in groups:
            rng.shuffle(students)
    # Stable: equal groups keep the caller's order, so a plan is reproducible.
    groups.sort(key=len, reverse=True)
    count = team_count([len(g) for g in groups], size, mode)
    teams: list[list[int]] = [[] for _ in range(count)]
    group_of: dict[int, int] = {}
    position = 0
    for index, students in enumerate(groups):
        for student in students:
            teams[position % count].append(student)
            group_of[student] = index
            position += 1
    smallest = groups[-1] if groups else []
    smallest_ids = set(smallest)
    return TeamPlan(
        mode=mode,
        asked_size=size,
        teams=tuple(tuple(team) for team in teams),
        mixed_teams=sum(1 for team in teams if len({group_of[s] for s in team}) >= 2),
        smallest_school_pupils=len(smallest),
        smallest_school_teams=sum(1 for team in teams if smallest_ids.intersection(team)),
        school_count=len(groups),
    )
