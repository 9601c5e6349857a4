"""Vectorised partner scoring over many profiles at once, and the suggestions index.

`ProfileTable` turns profiles into numpy columns and scores a block of rows against a block
of columns in one go: every hard constraint is applied exactly except the weekly live
overlap, for which it uses an upper bound (see `ProfileTable.live_cells`); every soft part
is the same formula as `scoring.score_pair`. So the vectorised score is never below the
exact one, which lets the suggestions index rank by it and confirm the head of the ranking
with the exact functions of scoring.py (a threshold algorithm): the result equals the
pair-by-pair ranking, at the cost of a few exact checks.

Weekly availability is a bitmask over one week in UTC, one per *epoch* (a stretch of dates
in which no zone of the data changes its offset, one day kept clear on each side of a
change). In a week that lies inside one epoch the shared live time is exactly the popcount
of the two masks; a week that straddles a change may offer less, so the least over the
epochs that hold a whole week of the common period bounds the exact figure from above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from app.modules.matching.scoring import (
    ADULT_AGE,
    BLENDED,
    EARTH_RADIUS_KM,
    MINOR_AGE,
    VIRTUAL,
    PairScore,
    Profile,
    Settings,
    hard_violations,
    score_pair,
)

WEEK_MINUTES = 7 * 1440
DEFAULT_DISTANCE_REACH = 4000  # score_pair's reach when neither class sets a limit
SCORE_SLACK = 1e-9  # float noise between the vectorised and the exact formula


@lru_cache(maxsize=65536)
def _noon_offset(timezone: str, day: date) -> int:
    """UTC offset in minutes at local noon; constant over a day unless the clocks change on it."""
    offset = ZoneInfo(timezone).utcoffset(datetime.combine(day, time(12)))
    return int(offset.total_seconds() // 60)


def _epochs(timezones: Sequence[str], first: date, last: date) -> list[tuple[int, int, dict[str, int]]]:
    """Maximal runs of days (as ordinals) on which no zone changes offset, with a day of margin.

    Returns (first ordinal, last ordinal, offset per zone) for each run.
    """
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    offsets = {zone: [_noon_offset(zone, day) for day in days] for zone in timezones}
    touched = np.zeros(len(days), dtype=bool)
    for values in offsets.values():
        changes = np.flatnonzero(np.diff(values)) + 1  # first day with the new offset
        for change in changes:
            touched[change - 1 : change + 1] = True  # it falls on day change-1 (after noon) or change
    epochs = []
    k = 0
    while k < len(days):
        if touched[k]:
            k += 1
            continue
        start = k
        while k < len(days) and not touched[k]:
            k += 1
        epochs.append((days[start].toordinal(), days[k - 1].toordinal(), {z: v[start] for z, v in offsets.items()}))
    return epochs


def _bits(flags: np.ndarray) -> np.ndarray:
    """Rows of booleans packed into rows of uint64 words (popcount-ready)."""
    width = max(1, -(-flags.shape[-1] // 64)) * 64
    padded = np.zeros((*flags.shape[:-1], width), dtype=bool)
    padded[..., : flags.shape[-1]] = flags
    return np.packbits(padded, axis=-1, bitorder="little").view(np.uint64)


def _popcount(a: np.ndarray, b: np.ndarray, op=np.bitwise_and) -> np.ndarray:
    """Sum over the last axis of popcount(op(a, b)), broadcasting the leading axes."""
    total = None
    for w in range(a.shape[-1]):
        count = np.bitwise_count(op(a[..., w], b[..., w])).astype(np.int32)
        total = count if total is None else total + count
    return total


class ProfileTable:
    """Columns of the profiles' features, and block scoring of rows against columns."""

    def __init__(self, profiles: Sequence[Profile], settings: Settings):
        self.profiles = list(profiles)
        self.settings = settings
        n = len(self.profiles)
        self.index_of = {p.class_id: k for k, p in enumerate(self.profiles)}
        countries = sorted(
            {p.country for p in self.profiles} | {c for p in self.profiles for c in p.excluded_countries}
        )
        countries += sorted({c for p in self.profiles for c in p.preferred_countries} - set(countries))
        self.country_id = {c: k for k, c in enumerate(countries)}
        self.country = np.array([self.country_id[p.country] for p in self.profiles], dtype=np.int32)
        excluded = np.zeros((n, len(countries)), dtype=bool)
        preferred = np.zeros((n, len(countries)), dtype=bool)
        for k, p in enumerate(self.profiles):
            excluded[k, [self.country_id[c] for c in p.excluded_countries]] = True
            preferred[k, [self.country_id[c] for c in p.preferred_countries]] = True
        self.excluded, self.preferred = excluded, preferred
        self.has_preferred = preferred.any(axis=1)
        self.any_excluded = bool(excluded.any())

        languages = sorted({code for p in self.profiles for code in p.languages})
        self.language_id = {code: k for k, code in enumerate(languages)}
        self.rank = np.zeros((n, len(languages)), dtype=np.int8)
        for k, p in enumerate(self.profiles):
            for code, rank in p.languages.items():
                self.rank[k, self.language_id[code]] = rank
        self.speaks = self.rank >= settings.min_language_rank
        self.speaks_bits = _bits(self.speaks)

        self.start = np.array([p.period_start.toordinal() for p in self.profiles], dtype=np.int32)
        self.end = np.array([p.period_end.toordinal() for p in self.profiles], dtype=np.int32)
        self.age_min = np.array([p.age_min for p in self.profiles], dtype=np.int16)
        self.age_max = np.array([p.age_max for p in self.profiles], dtype=np.int16)
        self.young = self.age_min < MINOR_AGE
        self.adult = self.age_max >= ADULT_AGE
        self.mixed_ok = np.array([p.allows_mixed_ages for p in self.profiles], dtype=bool)
        self.blended = np.array([p.mode == BLENDED for p in self.profiles], dtype=bool)
        self.virtual = np.array([p.mode == VIRTUAL for p in self.profiles], dtype=bool)
        self.can_send = np.array([p.can_send for p in self.profiles], dtype=bool)
        self.can_host = np.array([p.can_host for p in self.profiles], dtype=bool)
        self.limit = np.array(
            [math.inf if p.max_distance_km is None else p.max_distance_km for p in self.profiles], dtype=np.float64
        )
        self.lat = np.radians([p.latitude for p in self.profiles]).astype(np.float64)
        self.lon = np.radians([p.longitude for p in self.profiles]).astype(np.float64)
        self.wants_live = np.array([p.wants_live for p in self.profiles], dtype=bool)
        self.size = np.array([p.size for p in self.profiles], dtype=np.float64)
        self.eqf = np.array([p.eqf for p in self.profiles], dtype=np.float64)
        fields = {code: k for k, code in enumerate(sorted({p.isced for p in self.profiles}))}
        self.field = np.array([fields[p.isced] for p in self.profiles], dtype=np.int32)
        narrows = {code: k for k, code in enumerate(sorted({p.isced[:3] for p in self.profiles}))}
        self.narrow = np.array([narrows[p.isced[:3]] for p in self.profiles], dtype=np.int32)
        broads = {code: k for k, code in enumerate(sorted({p.isced[:2] for p in self.profiles}))}
        self.broad = np.array([broads[p.isced[:2]] for p in self.profiles], dtype=np.int32)
        themes = {t: k for k, t in enumerate(sorted({t for p in self.profiles for t in p.themes}))}
        theme_flags = np.zeros((n, len(themes)), dtype=bool)
        for k, p in enumerate(self.profiles):
            theme_flags[k, [themes[t] for t in p.themes]] = True
        self.theme_bits = _bits(theme_flags)
        n_rows = len(self.profiles)
        past = set()
        for k, p in enumerate(self.profiles):
            for other in p.past_partner_class_ids:
                if other in self.index_of:
                    past.update((k * n_rows + self.index_of[other], self.index_of[other] * n_rows + k))
        self.past_keys = np.array(sorted(past), dtype=np.int64)
        self._build_masks()

    # -- weekly availability -------------------------------------------------------------

    def _build_masks(self) -> None:
        profiles = self.profiles
        if not profiles:
            self.epochs, self.cell, self.masks = [], 1, np.zeros((0, 0, 1), dtype=np.uint64)
            self.far_zones = set()
            return
        zones = sorted({p.timezone for p in profiles})
        first = date.fromordinal(int(self.start.min()) - 2)
        last = date.fromordinal(int(self.end.max()) + 2)
        self.epochs = _epochs(zones, first, last)
        values = [1440] + [m for p in profiles for s in p.slots for m in (s.start_minute, s.end_minute)]
        values += [o for _lo, _hi, offsets in self.epochs for o in offsets.values()]
        self.cell = math.gcd(*values) or 1
        cells = WEEK_MINUTES // self.cell
        # Zones whose offsets differ by a day or more break the one-day-neighbour reading.
        spread = [(max(o.values()) - min(o.values())) for _lo, _hi, o in self.epochs] or [0]
        self.far_zones = max(spread) >= 1440
        flags = np.zeros((len(profiles), max(1, len(self.epochs)), cells), dtype=bool)
        for e, (_lo, _hi, offsets) in enumerate(self.epochs):
            for k, p in enumerate(profiles):
                shift = offsets[p.timezone]
                for slot in p.slots:
                    begin = (slot.weekday * 1440 + slot.start_minute - shift) // self.cell
                    stop = (slot.weekday * 1440 + slot.end_minute - shift) // self.cell
                    positions = np.arange(begin, stop) % cells
                    flags[k, e, positions] = True
        used = flags.any(axis=(0, 1))  # cells nobody ever uses add nothing to any popcount
        self.masks = _bits(flags[:, :, used] if used.any() else flags[:, :, :1])

    def live_cells(self, rows: np.ndarray, cols: np.ndarray, start: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Upper bound of the weekly shared time (in cells) for rows x cols; inf when unknown."""
        best = np.full(start.shape, np.inf)
        weeks = np.maximum(1, days // 7)
        for e, (lo, hi, _offsets) in enumerate(self.epochs):
            # a week k = [start+7k, start+7k+6] whose days and their neighbours lie inside the epoch
            k_lo = np.maximum(0, -((start - lo - 1) // 7))
            k_hi = np.minimum(weeks - 1, (hi - 7 - start) // 7)
            inside = (k_lo <= k_hi) & (days >= 7)
            if not inside.any():
                continue
            shared = _popcount(self.masks[rows, e], self.masks[cols, e])
            best = np.where(inside, np.minimum(best, shared), best)
        return best

    # -- scoring -------------------------------------------------------------------------

    def score_block(self, rows: np.ndarray, cols: np.ndarray, broken: dict | None = None) -> tuple[np.ndarray, ...]:
        """(allowed, score) for every row x column pair; score is an upper bound of score_pair's.

        `allowed` is False only for pairs that surely break a hard constraint. Given a dict,
        `broken` receives one boolean array per violation code of scoring.hard_violations.
        The cheap constraints are applied to the whole grid first; the costly parts are then
        computed only for the pairs still allowed (unless every violation is wanted).
        """
        r, c = rows[:, None], cols[None, :]
        allowed = self._cheap_constraints(r, c, broken)
        if broken is not None:
            pr, pc = np.broadcast_arrays(r, c)
            ok, score = self._costly_parts(pr, pc, broken)
            return allowed & ok, np.where(allowed & ok, score, -1.0)
        ii, jj = np.nonzero(allowed)
        ok, score = self._costly_parts(rows[ii], cols[jj], None)
        allowed[ii, jj] = ok
        full = np.full(allowed.shape, -1.0)
        full[ii, jj] = np.where(ok, score, -1.0)
        return allowed, full

    def _cheap_constraints(self, r: np.ndarray, c: np.ndarray, broken: dict | None) -> np.ndarray:
        s = self.settings
        allowed = (r != c) & (self.country[r] != self.country[c])
        if broken is not None:
            broken["same_country"] = self.country[r] == self.country[c]
        if self.any_excluded:
            excluded = self.excluded[r, self.country[c]] | self.excluded[c, self.country[r]]
            allowed &= ~excluded
            if broken is not None:
                broken["excluded_country"] = excluded
        shared = _popcount(self.speaks_bits[r], self.speaks_bits[c])
        allowed &= shared > 0
        if broken is not None:
            broken["no_shared_language"] = shared == 0
        days = np.minimum(self.end[r], self.end[c]) - np.maximum(self.start[r], self.start[c]) + 1
        allowed &= days >= s.min_common_days
        if broken is not None:
            broken["periods"] = days < s.min_common_days
        clash = (self.young[r] & self.adult[c]) | (self.young[c] & self.adult[r])
        clash &= ~(self.mixed_ok[r] & self.mixed_ok[c])
        allowed &= ~clash
        if broken is not None:
            broken["ages"] = clash
        both_blended = self.blended[r] & self.blended[c]
        modes = (self.virtual[r] & self.virtual[c]) | (
            both_blended & ((self.can_send[r] & self.can_host[c]) | (self.can_send[c] & self.can_host[r]))
        )
        allowed &= modes
        if broken is not None:
            broken["modes"] = ~modes
        return allowed

    def _costly_parts(self, r: np.ndarray, c: np.ndarray, broken: dict | None) -> tuple[np.ndarray, np.ndarray]:
        """Distance and live constraints, and the soft score, for pairs given as index arrays."""
        s = self.settings
        start = np.maximum(self.start[r], self.start[c])
        days = np.minimum(self.end[r], self.end[c]) - start + 1
        both_blended = self.blended[r] & self.blended[c]
        lat1, lat2, dlon = self.lat[r], self.lat[c], self.lon[c] - self.lon[r]
        h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
        distance = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        limit = np.minimum(self.limit[r], self.limit[c])
        too_far = both_blended & (distance > limit * (1 + 1e-12))
        both_live = self.wants_live[r] & self.wants_live[c]
        if self.far_zones:
            live = np.full(r.shape, np.inf)
        else:
            live = self.live_cells(r, c, start, days) * self.cell
        short = both_live & (days >= 1) & (live < s.min_live_minutes)
        if broken is not None:
            broken["distance"] = too_far
            broken["live_overlap"] = short
        ok = ~too_far & ~short

        w = s.weights
        field = np.where(
            self.field[r] == self.field[c],
            1.0,
            np.where(self.narrow[r] == self.narrow[c], 0.6, np.where(self.broad[r] == self.broad[c], 0.3, 0)),
        )
        points = w["field"] * field + w["eqf"] * np.maximum(0.0, 1 - np.abs(self.eqf[r] - self.eqf[c]) / 3)
        gap = np.full(r.shape, 5, dtype=np.int8)
        for lang in np.flatnonzero(self.speaks[r.ravel()].any(axis=0) & self.speaks[c.ravel()].any(axis=0)):
            both = self.speaks[r, lang] & self.speaks[c, lang]
            diff = np.abs(self.rank[r, lang] - self.rank[c, lang])
            gap = np.where(both, np.minimum(gap, diff), gap)
        points = points + w["language"] * np.where(gap < 5, 1 - gap / 5, 0.0)
        inter = _popcount(self.theme_bits[r], self.theme_bits[c])
        union = _popcount(self.theme_bits[r], self.theme_bits[c], np.bitwise_or)
        points = points + w["themes"] * np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        points = points + w["size"] * np.minimum(self.size[r], self.size[c]) / np.maximum(self.size[r], self.size[c])
        applicable = w["field"] + w["eqf"] + w["language"] + w["themes"] + w["size"]
        live_value = np.minimum(1.0, np.where(np.isinf(live), 1.0, live / s.live_target_minutes))
        points = points + np.where(both_live, w["live"] * live_value, 0.0)
        applicable = applicable + np.where(both_live, w["live"], 0.0)
        reach = np.where(np.isinf(limit), DEFAULT_DISTANCE_REACH, limit)
        points = points + np.where(both_blended, w["distance"] * np.maximum(0.0, 1 - distance / reach), 0.0)
        applicable = applicable + np.where(both_blended, w["distance"], 0.0)
        asks = self.has_preferred[r] | self.has_preferred[c]
        if asks.any():
            wished = self.preferred[r, self.country[c]].astype(np.float64) + self.preferred[c, self.country[r]]
            asked = self.has_preferred[r].astype(np.float64) + self.has_preferred[c]
            points = points + np.where(asks, w["preferred_country"] * wished / np.maximum(asked, 1), 0.0)
            applicable = applicable + np.where(asks, w["preferred_country"], 0.0)
        score = points / applicable
        if len(self.past_keys):
            repeated = np.isin(r.astype(np.int64) * len(self.profiles) + c, self.past_keys)
            score = np.maximum(0.0, score - np.where(repeated, s.repeat_penalty, 0.0))
        return ok, score


class PartnerIndex:
    """Built once over many profiles; answers "best partners for this class" quickly and exactly.

    The vectorised score is an upper bound of the exact one, so candidates are confirmed with
    scoring.hard_violations and scored with scoring.score_pair in the order of that bound,
    until no unconfirmed candidate can beat the last of the `limit` best exact scores.
    """

    def __init__(self, profiles: Sequence[Profile], settings: Settings):
        self.settings = settings
        self.table = ProfileTable(profiles, settings)
        self.profiles = self.table.profiles

    def _columns(self, filters: dict | None) -> np.ndarray:
        table = self.table
        mask = np.ones(len(self.profiles), dtype=bool)
        if not filters:
            return np.arange(len(self.profiles))
        if filters.get("country"):
            mask &= table.country == table.country_id.get(filters["country"], -1)
        if filters.get("language"):
            lang = table.language_id.get(filters["language"])
            mask &= (table.rank[:, lang] > 0) if lang is not None else False
        if filters.get("isced"):
            prefix = filters["isced"]
            mask &= np.array([p.isced.startswith(prefix) for p in self.profiles], dtype=bool)
        return np.flatnonzero(mask)

    def suggest(self, target: Profile, limit: int = 20, filters: dict | None = None) -> list[tuple[Profile, PairScore]]:
        cols = self._columns(filters)
        if limit <= 0 or not len(cols):
            return []
        if target.class_id in self.table.index_of and self.profiles[self.table.index_of[target.class_id]] == target:
            table, row = self.table, self.table.index_of[target.class_id]
        else:  # a profile outside the index: score it in a table of its own plus the columns
            table = ProfileTable([target, *(self.profiles[j] for j in cols)], self.settings)
            row, cols = 0, np.arange(1, len(cols) + 1)
        allowed, bound = table.score_block(np.array([row]), cols)
        allowed, bound = allowed[0], bound[0]
        keep = np.flatnonzero(allowed & (table.country[cols] != table.country[row]))
        order = keep[np.argsort(-bound[keep], kind="stable")]
        found: list[tuple[float, int, Profile, PairScore]] = []
        for q in order:
            if len(found) >= limit and bound[q] + SCORE_SLACK < found[-1][0]:
                break
            other = table.profiles[cols[q]]
            if other.class_id == target.class_id or hard_violations(target, other, self.settings):
                continue
            scored = score_pair(target, other, self.settings)
            found.append((scored.total, other.class_id, other, scored))
            found.sort(key=lambda item: (-item[0], item[1]))
            del found[limit:]
        return [(other, scored) for _total, _id, other, scored in found]
