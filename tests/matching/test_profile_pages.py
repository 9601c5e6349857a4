"""The class partner profile and the suggestions page: checked input, ranked partners that
break no hard constraint, reasons in plain words, and access for the class's own people only."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.auth.models import ClassLanguage, Role
from app.extensions import db
from app.modules.matching.models import AvailabilitySlot, ClassProfile, ExchangeMode
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import FreshContextClient, log_in, post_form

SPRING = (date(2027, 2, 1), date(2027, 5, 28))
SCHOOL_HOURS = [(1, 9 * 60, 12 * 60), (3, 13 * 60, 16 * 60)]
PLACES = {
    "PT": ("Porto", "Europe/Lisbon", 41.15, -8.61),
    "ES": ("Valencia", "Europe/Madrid", 39.47, -0.38),
    "FI": ("Helsinki", "Europe/Helsinki", 60.17, 24.94),
    "DE": ("Nuremberg", "Europe/Berlin", 49.45, 11.08),
    "IT": ("Bologna", "Europe/Rome", 44.49, 11.34),
}


def client_for(app, user):
    """A browser of its own, logged in as this person."""
    app.test_client_class = FreshContextClient
    client = app.test_client()
    log_in(client, user)
    return client


def class_in(make, country: str, teacher=None, **fields):
    """A class at a school of that country (a new school unless a teacher is given)."""
    if teacher is None:
        city, zone, lat, lon = PLACES[country]
        school = make.school(country=country, city=city, timezone=zone, latitude=lat, longitude=lon)
        teacher = make.teacher(school)
    return make.school_class(teacher, **fields)


def add_profile(school_class, isced="1013", slots=SCHOOL_HOURS, **fields) -> ClassProfile:
    profile = ClassProfile(
        class_id=school_class.id,
        isced_code=isced,
        qualification=fields.pop("qualification", "Cook"),
        period_start=fields.pop("period_start", SPRING[0]),
        period_end=fields.pop("period_end", SPRING[1]),
        mode=fields.pop("mode", ExchangeMode.VIRTUAL),
        themes=fields.pop("themes", ["green_skills"]),
        free_tags=[],
        preferred_countries=fields.pop("preferred_countries", []),
        excluded_countries=fields.pop("excluded_countries", []),
        is_searchable=fields.pop("is_searchable", True),
        slots=[AvailabilitySlot(weekday=d, start_minute=s, end_minute=e) for d, s, e in slots],
        **fields,
    )
    db.session.add(profile)
    db.session.flush()
    return profile


def profile_fields(**fields) -> dict:
    data = {
        "qualification": "Cook",
        "period_start": "2027-02-01",
        "period_end": "2027-05-28",
        "mode": "virtual",
        "wants_live": "y",
        "slot_1_day": "1",
        "slot_1_from": "09:00",
        "slot_1_to": "12:00",
        "slot_2_day": "3",
        "slot_2_from": "13:00",
        "slot_2_to": "16:00",
        "themes": ["green_skills", "cultural_heritage"],
        "free_tags": "baking, HACCP , baking",
        "preferred_countries": ["FI"],
        "is_searchable": "y",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


# ---- the profile form ---------------------------------------------------------------------


def test_a_teacher_saves_a_partner_profile(client, make):
    school_class = class_in(make, "PT")
    log_in(client, school_class.teacher)
    page = text_of(client.get(f"/partners/classes/{school_class.id}/profile"))
    # The field is the class's own, shown, not asked again.
    assert 'data-class-field="1013">' in page and "Hotel, restaurants and catering (1013)" in page
    assert 'name="isced_code"' not in page

    path = f"/partners/classes/{school_class.id}/profile"
    # A field sent anyway (an old form, a forged one) is not taken.
    response = post_form(client, path, profile_fields(isced_code="0713"), page=path)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/partners/classes/{school_class.id}/suggestions")
    db.session.expire_all()
    profile = db.session.query(ClassProfile).filter_by(class_id=school_class.id).one()
    assert (profile.isced_code, profile.qualification, profile.mode) == ("1013", "Cook", ExchangeMode.VIRTUAL)
    assert (profile.period_start, profile.period_end) == SPRING
    assert [(s.weekday, s.start_minute, s.end_minute) for s in profile.slots] == SCHOOL_HOURS
    assert profile.themes == ["green_skills", "cultural_heritage"]
    assert profile.free_tags == ["baking", "HACCP"]
    assert profile.preferred_countries == ["FI"] and profile.excluded_countries == []
    assert profile.wants_live and profile.is_searchable and not profile.allows_mixed_ages
    assert not (profile.can_send or profile.can_host)

    # Editing shows what was saved, and replaces the slots.
    form = text_of(client.get(path))
    assert 'value="Cook"' in form and 'value="09:00"' in form
    response = post_form(
        client,
        path,
        profile_fields(slot_2_day="", slot_2_from="", slot_2_to="", mode="blended", can_host="y"),
        page=path,
    )
    assert response.status_code == 302
    db.session.expire_all()
    profile = db.session.query(ClassProfile).filter_by(class_id=school_class.id).one()
    assert [(s.weekday, s.start_minute) for s in profile.slots] == [(1, 540)]
    assert (profile.mode, profile.can_send, profile.can_host) == (ExchangeMode.BLENDED, False, True)


BAD_PROFILES = [
    ({"period_end": "2027-01-01"}, "period_end", "The end cannot be before the start."),
    ({"period_start": ""}, "period_start", "Enter a date."),
    ({"slot_1_to": "08:00"}, "slot_1_to", "The end must be after the start."),
    ({"slot_2_day": "1", "slot_2_from": "11:00", "slot_2_to": "13:00"}, "slot_2_to", "This overlaps slot 1."),
    ({"slot_3_day": "2"}, "slot_3_day", "Choose a day, a start and an end, or leave the row empty."),
    ({"mode": "blended"}, "can_send", "A blended exchange needs sending, hosting or both."),
    ({"excluded_countries": ["FI"]}, "excluded_countries", "A country cannot be preferred and left out at once."),
    ({"free_tags": ",".join(f"tag{n}" for n in range(11))}, "free_tags", "At most 10 topics."),
    ({"free_tags": "x" * 31}, "free_tags", "Each topic can have at most 30 characters."),
    ({"preferred_countries": ["XX"]}, "preferred_countries", "'XX' is not a valid choice for this field."),
    ({"qualification": "  "}, "qualification", "This field is required."),
    ({"mode": "blended", "can_send": "y", "max_distance_km": "0"}, "max_distance_km", "Number must be between"),
]


@pytest.mark.parametrize(("change", "field_id", "message"), BAD_PROFILES)
def test_bad_profile_input_shows_the_error_and_writes_nothing(client, make, change, field_id, message):
    school_class = class_in(make, "PT")
    log_in(client, school_class.teacher)
    path = f"/partners/classes/{school_class.id}/profile"

    response = post_form(client, path, profile_fields(**change), page=path)

    assert response.status_code == 400
    assert message in field_error(response, field_id)
    assert "Please correct the marked fields." in text_of(response)
    assert count(ClassProfile) == 0
    assert count(AvailabilitySlot) == 0


def test_the_profile_takes_the_class_field_and_follows_when_it_changes(client, make):
    school_class = class_in(make, "PT", isced_code="1013")
    profile = add_profile(school_class, isced="1013")
    log_in(client, school_class.teacher)
    edit = f"/classes/{school_class.id}/edit"
    change = {
        "name": school_class.name,
        "isced_code": "0713",
        "eqf_level": "4",
        "size": "20",
        "age_min": "16",
        "age_max": "18",
        "language_1": "en",
        "level_1": "B1",
        **{f"{part}_{slot}": value for slot in (2, 3) for part, value in (("language", ""), ("level", "A2"))},
    }

    assert post_form(client, edit, change, page=edit).status_code == 302

    db.session.expire_all()
    assert profile.isced_code == school_class.isced_code == "0713"
    page = text_of(client.get(f"/partners/classes/{school_class.id}/profile"))
    assert "Electricity and energy (0713)" in page


def test_a_class_without_a_field_from_the_list_is_sent_to_choose_one_first(client, make):
    school_class = class_in(make, "PT", vocational_field="Konditorei", isced_code=None)
    log_in(client, school_class.teacher)
    path = f"/partners/classes/{school_class.id}/profile"

    page = text_of(client.get(path))
    assert "This class has no field from the list yet (it says “Konditorei”)." in page
    assert f'href="/classes/{school_class.id}/edit">Choose its vocational field first' in page

    response = post_form(client, path, profile_fields(), page=path)
    assert response.status_code == 400
    assert "Choose the class's vocational field from the list first" in text_of(response)
    assert count(ClassProfile) == 0


def test_country_choices_are_checkbox_chips_not_a_multiple_select(client, make):
    school_class = class_in(make, "PT")
    add_profile(school_class, preferred_countries=["FI"], excluded_countries=["IT"])
    log_in(client, school_class.teacher)

    page = text_of(client.get(f"/partners/classes/{school_class.id}/profile"))

    assert "<select multiple" not in page and "multiple>" not in page
    assert "Hold Ctrl" not in page
    for name in ("preferred_countries", "excluded_countries"):
        assert f'<fieldset class="subform chip-group" id="{name}" data-chip-filter=' in page
    assert (
        'checked id="preferred_countries-' in page and 'name="preferred_countries" type="checkbox" value="FI"' in page
    )
    assert 'name="excluded_countries" type="checkbox" value="IT"' in page


def test_a_bad_edit_keeps_the_saved_profile_whole(client, make):
    school_class = class_in(make, "PT")
    add_profile(school_class, qualification="Cook")
    log_in(client, school_class.teacher)
    path = f"/partners/classes/{school_class.id}/profile"

    response = post_form(
        client, path, profile_fields(qualification="Chef", slot_1_from="12:00", slot_1_to="10:00"), page=path
    )

    assert response.status_code == 400
    db.session.expire_all()
    profile = db.session.query(ClassProfile).filter_by(class_id=school_class.id).one()
    assert profile.qualification == "Cook" and len(profile.slots) == 2


def test_the_profile_is_for_the_class_teacher_and_the_school_coordinator(app, client, make):
    school_class = class_in(make, "PT")
    path = f"/partners/classes/{school_class.id}/profile"
    colleague = make.teacher(school_class.school)
    log_in(client, colleague)
    assert client.get(path).status_code == 403
    assert post_form(client, path, profile_fields(), page="/partners").status_code == 403
    assert count(ClassProfile) == 0

    coordinator = make.coordinator(school_class.school)
    assert client_for(app, coordinator).get(path).status_code == 200


# ---- suggestions --------------------------------------------------------------------------


@pytest.fixture
def cooks(make):
    """A Porto cooking class and possible partners around Europe."""
    mine = class_in(make, "PT", name="Cozinha 11A")
    add_profile(mine, isced="1013", themes=["green_skills", "cultural_heritage"])
    same_field = class_in(make, "ES", name="Cocina 1")
    add_profile(same_field, isced="1013", themes=["green_skills", "cultural_heritage"])
    near_field = class_in(make, "FI", name="Hotel Helsinki")
    add_profile(near_field, isced="1015")  # travel, tourism and leisure: same narrow field 101
    far_field = class_in(make, "DE", name="Kfz 11")
    add_profile(far_field, isced="0716", themes=[])
    same_country = class_in(make, "PT", name="Restaurante 12B")  # a perfect match, but in Portugal
    add_profile(same_country, isced="1013", themes=["green_skills", "cultural_heritage"])
    hidden = class_in(make, "IT", name="Hidden Cucina")
    add_profile(hidden, isced="1013", is_searchable=False)
    no_time = class_in(make, "IT", name="Cucina Evening")
    add_profile(no_time, isced="1013", slots=[(4, 20 * 60, 21 * 60)])
    return {
        "mine": mine,
        "same_field": same_field,
        "near_field": near_field,
        "far_field": far_field,
        "same_country": same_country,
        "hidden": hidden,
        "no_time": no_time,
    }


def _listed(response) -> list[str]:
    return re.findall(r'<li class="card suggestion">\s*<div class="page-head">\s*<h2>(.*?)</h2>', text_of(response))


def _scores(response) -> list[int]:
    return [int(n) for n in re.findall(r"Score (\d+) of 100", text_of(response))]


def test_suggestions_rank_partners_and_never_break_a_hard_constraint(client, make, cooks):
    log_in(client, cooks["mine"].teacher)

    response = client.get(f"/partners/classes/{cooks['mine'].id}/suggestions")

    assert response.status_code == 200
    assert _listed(response) == ["Cocina 1", "Hotel Helsinki", "Kfz 11"]
    scores = _scores(response)
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)
    page = text_of(response)
    for never in ("Restaurante 12B", "Hidden Cucina", "Cucina Evening"):
        assert never not in page
    # Reasons in plain words, and the live windows in both local times.
    assert "Same vocational field: Hotel, restaurants and catering (ISCED 1013)" in page
    assert "Shared themes: cultural heritage, green skills" in page
    assert "Tuesday 09:00–11:00 in Porto = Tuesday 10:00–12:00 in Valencia" in page
    assert f'href="/partners/classes/{cooks["mine"].id}/invite/{cooks["same_field"].id}"' in page


def test_the_points_of_a_suggestion_add_up_to_its_score(client, make, cooks):
    log_in(client, cooks["mine"].teacher)
    page = text_of(client.get(f"/partners/classes/{cooks['mine'].id}/suggestions"))
    first = page[page.index('<li class="card suggestion">') : page.index("</details>")]
    points = [int(n) for n in re.findall(r'class="points">(-?\d+) points?<', first)]
    assert sum(points) == int(re.search(r"Score (\d+) of 100", first).group(1))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("field=10", ["Cocina 1", "Hotel Helsinki"]),
        ("field=101", ["Cocina 1", "Hotel Helsinki"]),
        ("field=07", ["Kfz 11"]),
        ("country=FI", ["Hotel Helsinki"]),
        ("language=fi", []),
        ("q=kfz", ["Kfz 11"]),
    ],
)
def test_suggestions_filter_by_field_country_language_and_text(client, make, cooks, query, expected):
    cooks["near_field"].languages.append(ClassLanguage(language="fi", cefr_level="C2"))
    db.session.flush()
    if query == "language=fi":
        expected = ["Hotel Helsinki"]
    log_in(client, cooks["mine"].teacher)
    response = client.get(f"/partners/classes/{cooks['mine'].id}/suggestions?{query}")
    assert response.status_code == 200
    assert _listed(response) == expected


def test_without_a_profile_the_page_asks_for_one(client, make):
    school_class = class_in(make, "PT")
    log_in(client, school_class.teacher)
    page = text_of(client.get(f"/partners/classes/{school_class.id}/suggestions"))
    assert "No partner profile yet" in page
    assert f'href="/partners/classes/{school_class.id}/profile"' in page


def test_when_no_partner_fits_the_page_says_why(client, make):
    mine = class_in(make, "PT")
    add_profile(mine)
    compatriot = class_in(make, "PT")
    add_profile(compatriot)
    late = class_in(make, "ES")
    add_profile(late, period_start=date(2027, 9, 1), period_end=date(2027, 12, 1))
    log_in(client, mine.teacher)

    page = text_of(client.get(f"/partners/classes/{mine.id}/suggestions"))

    assert "No partner class found" in page
    assert "2 classes were checked, but each breaks a requirement:" in page
    assert "Both classes are in the same country. (1 class)" in page
    assert "The exchange periods do not overlap long enough. (1 class)" in page


@pytest.mark.parametrize("who", ["colleague", "other_coordinator", "student", "partner_teacher"])
def test_suggestions_are_only_for_the_class_teacher_and_its_coordinator(client, make, cooks, who):
    mine = cooks["mine"]
    people = {
        "colleague": lambda: make.teacher(mine.school),
        "other_coordinator": lambda: make.coordinator(cooks["same_field"].school),
        "student": lambda: make.student(mine),
        "partner_teacher": lambda: cooks["same_field"].teacher,
    }
    user = people[who]()
    if user.role == Role.STUDENT:
        user.must_change_password = False
    log_in(client, user)
    assert client.get(f"/partners/classes/{mine.id}/suggestions").status_code == 403


def test_the_school_coordinator_sees_suggestions_but_cannot_invite(client, make, cooks):
    coordinator = make.coordinator(cooks["mine"].school)
    log_in(client, coordinator)
    response = client.get(f"/partners/classes/{cooks['mine'].id}/suggestions")
    assert response.status_code == 200
    assert _listed(response)[0] == "Cocina 1"
    assert "Only the class's own teacher can invite." in text_of(response)
