"""What a new exchange starts from: the period both classes' profiles cover, the languages,
themes and weekly times they share; all editable, shown in each school's own time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.auth.models import ClassLanguage
from app.extensions import db
from app.modules.projects.models import Project, ProjectClass
from app.modules.projects.setup import (
    WeeklySlot,
    ordered_themes,
    period_overlap,
    slot_in_zone,
    windows_to_slots,
)
from tests.auth.conftest import text_of
from tests.conftest import post_form
from tests.matching.test_profile_pages import add_profile, class_in, client_for
from tests.projects.conftest import plain_text
from tests.projects.test_invites import _make_link

D = date


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        ([(D(2027, 2, 1), D(2027, 5, 28)), (D(2027, 3, 1), D(2027, 6, 30))], (D(2027, 3, 1), D(2027, 5, 28))),
        ([(D(2027, 3, 1), D(2027, 6, 30)), (D(2027, 2, 1), D(2027, 5, 28))], (D(2027, 3, 1), D(2027, 5, 28))),
        ([(D(2027, 2, 1), D(2027, 6, 30)), (D(2027, 3, 1), D(2027, 3, 31))], (D(2027, 3, 1), D(2027, 3, 31))),
        ([(D(2027, 2, 1), D(2027, 3, 1)), (D(2027, 3, 1), D(2027, 6, 30))], (D(2027, 3, 1), D(2027, 3, 1))),  # a day
        ([(D(2027, 2, 1), D(2027, 2, 28)), (D(2027, 3, 1), D(2027, 6, 30))], None),  # apart by a day
        ([(D(2027, 9, 1), D(2028, 6, 30)), (D(2027, 2, 1), D(2027, 6, 30))], None),
        (
            [(D(2027, 2, 1), D(2027, 6, 30)), (D(2027, 3, 1), D(2027, 7, 31)), (D(2027, 1, 1), D(2027, 4, 30))],
            (D(2027, 3, 1), D(2027, 4, 30)),
        ),
        ([], None),
    ],
)
def test_the_period_is_the_days_every_class_covers(periods, expected):
    assert period_overlap(periods) == expected


days = st.dates(min_value=D(2026, 1, 1), max_value=D(2029, 12, 31))


@given(st.lists(st.tuples(days, days).map(sorted).map(tuple), min_size=1, max_size=4), days)
def test_a_day_is_in_the_overlap_exactly_when_every_period_covers_it(periods, day):
    overlap = period_overlap(periods)
    covered = all(start <= day <= end for start, end in periods)
    assert covered == (overlap is not None and overlap[0] <= day <= overlap[1])


def test_shared_themes_come_first_then_the_rest():
    mine = ["green_skills", "inclusion", "baking"]
    theirs = ["inclusion", "digital_skills", "HACCP", "baking"]
    assert ordered_themes(mine, theirs) == ("inclusion", "baking", "green_skills", "digital_skills", "HACCP")
    assert ordered_themes(["inclusion"], []) == ("inclusion",)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_shared_windows_become_weekly_slots_in_a_school_time():
    # Tuesday 2 Mar 2027, 09:00 to 11:00 UTC: the same in Porto (winter time), 11:00 to 13:00 in Helsinki.
    windows = [(utc(2027, 3, 2, 9), utc(2027, 3, 2, 11))]
    assert windows_to_slots(windows, "Europe/Lisbon") == (WeeklySlot(1, 540, 660),)
    assert windows_to_slots(windows, "Europe/Helsinki") == (WeeklySlot(1, 660, 780),)
    # Across midnight in Helsinki: Monday 23:00 to Tuesday 01:00 there.
    late = [(utc(2027, 3, 1, 21), utc(2027, 3, 1, 23))]
    assert windows_to_slots(late, "Europe/Helsinki") == (WeeklySlot(0, 1380, 1440), WeeklySlot(1, 0, 60))


def test_a_weekly_slot_read_on_another_clock():
    monday_ten = WeeklySlot(0, 600, 660)
    assert slot_in_zone(monday_ten, "Europe/Lisbon", "Europe/Helsinki", D(2027, 3, 3)) == (WeeklySlot(0, 720, 780),)
    # New York changes its clocks two weeks before Europe: that week the gap is 4 hours, not 5.
    assert slot_in_zone(monday_ten, "Europe/Lisbon", "America/New_York", D(2027, 3, 16)) == (WeeklySlot(0, 360, 420),)
    assert slot_in_zone(monday_ten, "Europe/Lisbon", "America/New_York", D(2027, 4, 6)) == (WeeklySlot(0, 300, 360),)


# ---- in the app ------------------------------------------------------------------------------


def classes_with_profiles(make, **theirs_fields):
    porto = class_in(make, "PT", name="Cozinha 11A")
    helsinki = class_in(make, "FI", name="Kokki 2B")
    porto.languages[0].cefr_level = "B2"  # English, as the factory gives every class
    porto.languages.append(ClassLanguage(language="pt", cefr_level="C2"))
    helsinki.languages.append(ClassLanguage(language="fi", cefr_level="C2"))
    mine = add_profile(porto, themes=["green_skills", "inclusion"], slots=[(0, 10 * 60, 12 * 60)])
    mine.free_tags = ["baking"]
    add_profile(
        helsinki,
        themes=["inclusion", "digital_skills"],
        slots=[(0, 11 * 60, 14 * 60)],  # Helsinki time: 09:00 to 12:00 in Porto
        period_start=theirs_fields.pop("period_start", D(2027, 3, 1)),
        period_end=theirs_fields.pop("period_end", D(2027, 6, 30)),
    )
    db.session.flush()
    return porto, helsinki


def test_an_exchange_started_with_a_known_partner_is_filled_from_both_profiles(app, make):
    porto, helsinki = classes_with_profiles(make)
    teacher = client_for(app, porto.teacher)
    response = post_form(teacher, "/exchanges/new", {"class_id": str(porto.id), "title": ""}, page="/exchanges/new")
    assert response.status_code == 302
    project = db.session.query(ProjectClass).filter_by(class_id=porto.id).one().project
    assert project.period_start is None and project.themes == []  # one class: nothing in common yet

    class Exchange:
        path = f"/exchanges/{project.id}"

    link = _make_link(teacher, Exchange, "partner_class")
    partner = client_for(app, helsinki.teacher)
    assert post_form(partner, link, {"class_id": str(helsinki.id)}, page=link).status_code == 302

    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert (project.period_start, project.period_end) == (D(2027, 3, 1), D(2027, 5, 28))
    assert project.languages == ["en"]
    assert project.themes == ["inclusion", "green_skills", "digital_skills", "baking"]
    assert project.weekly_slots == [{"weekday": 0, "start": 600, "end": 720}] and project.slot_zone == "Europe/Lisbon"
    page = plain_text(partner.get(Exchange.path))
    assert "English (Cozinha 11A B2, Kokki 2B B1)" in page
    assert "Inclusion, Green skills, Digital skills, baking" in page
    assert "In Porto: Monday 10:00–12:00" in page and "In Helsinki: Monday 12:00–14:00" in page


def test_what_the_teacher_already_set_is_kept_when_the_partner_comes_in(app, make):
    porto, helsinki = classes_with_profiles(make)
    teacher = client_for(app, porto.teacher)
    post_form(teacher, "/exchanges/new", {"class_id": str(porto.id), "title": ""}, page="/exchanges/new")
    project = db.session.query(ProjectClass).filter_by(class_id=porto.id).one().project
    path = f"/exchanges/{project.id}"
    edit = {"title": "Ours", "languages": ["pt"], "period_start": "2027-04-01", "period_end": "2027-04-30"}
    assert post_form(teacher, f"{path}/edit", edit, page=f"{path}/edit").status_code == 302

    class Exchange:
        pass

    Exchange.path = path
    link = _make_link(teacher, Exchange, "partner_class")
    post_form(client_for(app, helsinki.teacher), link, {"class_id": str(helsinki.id)}, page=link)
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.languages == ["pt"] and project.period_start == D(2027, 4, 1)
    assert project.themes == ["inclusion", "green_skills", "digital_skills", "baking"]  # still empty: filled


def test_teachers_edit_themes_and_weekly_times_in_their_own_time(app, make, exchange):
    path = exchange.path
    porto = client_for(app, exchange.porto.teacher)
    form = {
        "title": "Food waste",
        "themes": ["digital_skills", "inclusion"],
        "other_themes": "baking,  HACCP , Baking",
        "slot_1_day": "2",
        "slot_1_from": "09:30",
        "slot_1_to": "11:00",
        "slot_2_day": "0",
        "slot_2_from": "14:00",
        "slot_2_to": "15:00",
    }
    assert post_form(porto, f"{path}/edit", form, page=f"{path}/edit").status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, exchange.project.id)
    assert project.themes == ["digital_skills", "inclusion", "baking", "HACCP"]
    assert project.weekly_slots == [
        {"weekday": 0, "start": 840, "end": 900},
        {"weekday": 2, "start": 570, "end": 660},
    ]
    assert project.slot_zone == "Europe/Lisbon"

    # The Helsinki teacher sees and edits them in Helsinki time.
    helsinki = client_for(app, exchange.helsinki.teacher)
    page = plain_text(helsinki.get(path))
    assert "In Porto: Monday 14:00–15:00, Wednesday 09:30–11:00" in page
    assert "In Helsinki: Monday 16:00–17:00, Wednesday 11:30–13:00" in page
    edit_page = text_of(helsinki.get(f"{path}/edit"))
    assert re.search(r'id="slot_1_from"[^>]*value="16:00"', edit_page)
    assert 'value="baking, HACCP"' in edit_page
    form = {
        "title": "Food waste",
        "themes": ["inclusion"],
        "slot_1_day": "0",
        "slot_1_from": "16:00",
        "slot_1_to": "17:00",
    }
    assert post_form(helsinki, f"{path}/edit", form, page=f"{path}/edit").status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, exchange.project.id)
    assert project.themes == ["inclusion"]
    assert project.weekly_slots == [{"weekday": 0, "start": 960, "end": 1020}]
    assert project.slot_zone == "Europe/Helsinki"
    assert "In Porto: Monday 14:00–15:00" in plain_text(porto.get(path))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slot_1_day": "1", "slot_1_from": "10:00"}, "Choose a day, a start and an end, or leave the row empty."),
        ({"slot_1_day": "1", "slot_1_from": "10:00", "slot_1_to": "09:00"}, "The end must be after the start."),
        ({"slot_1_day": "9", "slot_1_from": "10:00", "slot_1_to": "11:00"}, "Not a valid choice."),
        (
            {
                "slot_1_day": "1",
                "slot_1_from": "10:00",
                "slot_1_to": "11:00",
                "slot_2_day": "1",
                "slot_2_from": "10:30",
                "slot_2_to": "12:00",
            },
            "Two time slots overlap.",
        ),
        ({"other_themes": ", ".join(f"theme {n}" for n in range(13))}, "An exchange has at most 12 themes."),
    ],
)
def test_bad_times_and_themes_are_refused_and_change_nothing(app, exchange, fields, message):
    client = client_for(app, exchange.porto.teacher)
    path = exchange.path
    response = post_form(client, f"{path}/edit", {"title": "Changed", **fields}, page=f"{path}/edit")
    assert response.status_code == 400
    assert message in text_of(response)
    db.session.expire_all()
    project = db.session.get(Project, exchange.project.id)
    assert project.title != "Changed" and project.weekly_slots == [] and project.themes == []
