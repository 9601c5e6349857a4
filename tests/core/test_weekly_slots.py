"""Shared weekly slots on real dates: what matching scores on and an exchange proposes from."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.weekly_slots import Slot, shared_intervals

MONDAY, TUESDAY = 0, 1


def test_three_schools_share_what_all_their_slots_cover():
    porto = ("Europe/Lisbon", (Slot(TUESDAY, 9 * 60, 12 * 60),))  # 09:00-12:00 UTC in winter
    helsinki = ("Europe/Helsinki", (Slot(TUESDAY, 10 * 60, 16 * 60),))  # 08:00-14:00 UTC
    berlin = ("Europe/Berlin", (Slot(TUESDAY, 11 * 60 + 30, 18 * 60),))  # 10:30-17:00 UTC
    start, end = datetime(2027, 3, 15, tzinfo=UTC), datetime(2027, 3, 31, tzinfo=UTC)
    assert shared_intervals([porto, helsinki, berlin], start, end) == [
        (datetime(2027, 3, 16, 10, 30, tzinfo=UTC), datetime(2027, 3, 16, 12, tzinfo=UTC)),
        (datetime(2027, 3, 23, 10, 30, tzinfo=UTC), datetime(2027, 3, 23, 12, tzinfo=UTC)),
        # After 28 March every zone is an hour earlier in UTC.
        (datetime(2027, 3, 30, 9, 30, tzinfo=UTC), datetime(2027, 3, 30, 11, tzinfo=UTC)),
    ]


def test_a_slot_near_midnight_meets_the_partners_next_day():
    lisbon = ("Europe/Lisbon", (Slot(MONDAY, 23 * 60, 24 * 60),))  # Monday 23:00-24:00 UTC in winter
    helsinki = ("Europe/Helsinki", (Slot(TUESDAY, 0, 120),))  # Tuesday 00:00-02:00 = Monday 22:00-24:00 UTC
    start, end = datetime(2027, 1, 4, tzinfo=UTC), datetime(2027, 1, 6, tzinfo=UTC)
    assert shared_intervals([lisbon, helsinki], start, end) == [
        (datetime(2027, 1, 4, 23, tzinfo=UTC), datetime(2027, 1, 5, 0, tzinfo=UTC))
    ]


def test_the_window_is_clipped_to_the_period_asked_for():
    both = ("Europe/Lisbon", (Slot(TUESDAY, 9 * 60, 12 * 60),))
    start, end = datetime(2027, 1, 5, 10, tzinfo=UTC), datetime(2027, 1, 5, 11, tzinfo=UTC)
    assert shared_intervals([both, both], start, end) == [(start, end)]
