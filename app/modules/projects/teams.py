"""Splitting the pupils of the partner classes into mixed-country teams (pure, no database)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MIN_TEAM_SIZE = 2
MAX_TEAM_SIZE = 12


def team_count(class_sizes: Sequence[int], team_size: int) -> int:
    """As many teams as the wished size gives, but never more than the smallest class has
    pupils, so that every team can hold someone of every class."""
    total = sum(class_sizes)
    if total == 0:
        return 0
    wished = max(1, round(total / team_size))
    smallest = min((n for n in class_sizes if n > 0), default=0)
    return max(1, min(wished, smallest))


def split_into_teams(students_by_class: Mapping[int, Sequence[int]], team_size: int) -> list[list[int]]:
    """Teams of pupil ids: each class dealt round-robin, the deal carried on from one class to
    the next, so that per class and overall the team sizes differ by at most one."""
    classes = [list(students) for students in students_by_class.values()]
    count = team_count([len(students) for students in classes], team_size)
    teams: list[list[int]] = [[] for _ in range(count)]
    position = 0
    for students in classes:
        for student in students:
            teams[position % count].append(student)
            position += 1
    return teams
