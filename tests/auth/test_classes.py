"""A teacher's classes: created and edited with checked input, seen only by those who manage them."""

import pytest

from app.auth.models import ClassLanguage, SchoolClass
from app.extensions import db
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import log_in, post_form


def class_fields(**fields) -> dict:
    return {
        "name": "Cozinha 11A",
        "isced_code": "1013",
        "eqf_level": "4",
        "size": "22",
        "age_min": "16",
        "age_max": "18",
        "language_1": "pt",
        "level_1": "C2",
        "language_2": "en",
        "level_2": "B1",
        "language_3": "",
        "level_3": "A2",
        **fields,
    }


def test_a_teacher_creates_a_class(client, make):
    teacher = make.teacher()
    log_in(client, teacher)

    response = post_form(client, "/classes/new", class_fields(name="  Cozinha 11A "), page="/classes/new")

    assert response.status_code == 302
    school_class = db.session.query(SchoolClass).filter_by(teacher_id=teacher.id).one()
    assert response.headers["Location"].endswith(f"/classes/{school_class.id}")
    assert (school_class.name, school_class.isced_code) == ("Cozinha 11A", "1013")
    assert school_class.vocational_field == "Hotel, restaurants and catering"
    assert (school_class.eqf_level, school_class.size, school_class.age_min, school_class.age_max) == (4, 22, 16, 18)
    assert school_class.school_id == teacher.school_id
    assert {(lang.language, lang.cefr_level) for lang in school_class.languages} == {("pt", "C2"), ("en", "B1")}
    assert school_class.join_code_active and len(school_class.join_code) == 8
    page = text_of(client.get(f"/classes/{school_class.id}"))
    assert "Cozinha 11A" in page
    assert school_class.join_code in page
    assert "Cozinha 11A" in text_of(client.get("/classes"))


BAD_CLASS_INPUT = [
    ({"age_min": "19", "age_max": "16"}, "age_max", "The youngest age cannot be above the oldest."),
    ({"language_1": "", "language_2": ""}, "language_1", "This field is required."),
    ({"language_2": "pt"}, None, "Each language can be listed once."),
    ({"size": "0"}, "size", "Number must be between 1 and 60."),
    ({"size": "61"}, "size", "Number must be between 1 and 60."),
    ({"size": "many"}, "size", "Not a valid integer value."),
    ({"age_min": "12"}, "age_min", "Number must be between 14 and 99."),
    ({"name": "   "}, "name", "This field is required."),
    ({"isced_code": ""}, "isced_code", "Choose the vocational field from the list."),
    ({"isced_code": "10"}, "isced_code", "Not a valid choice."),
    ({"isced_code": "Cooking"}, "isced_code", "Not a valid choice."),
    ({"eqf_level": "9"}, "eqf_level", "Not a valid choice."),
    ({"level_1": "D1"}, "level_1", "Not a valid choice."),
    ({"language_2": "xx"}, "language_2", "Not a valid choice."),
]


@pytest.mark.parametrize(("fields", "field", "message"), BAD_CLASS_INPUT)
def test_bad_class_input_is_explained_and_creates_nothing(client, make, fields, field, message):
    teacher = make.teacher()
    log_in(client, teacher)
    classes, languages = count(SchoolClass), count(ClassLanguage)

    response = post_form(client, "/classes/new", class_fields(**fields), page="/classes/new")

    assert response.status_code == 400
    shown = field_error(response, field) if field else text_of(response)
    assert message in shown
    assert (count(SchoolClass), count(ClassLanguage)) == (classes, languages)


@pytest.mark.parametrize(("fields", "field", "message"), BAD_CLASS_INPUT)
def test_bad_class_edit_is_explained_and_changes_nothing(client, make, fields, field, message):
    teacher = make.teacher()
    school_class = make.school_class(teacher, name="Mecânica 10B", size=20, age_min=16, age_max=18)
    log_in(client, teacher)
    # The rest of the form is a valid change: nothing of it may be saved alongside the error.
    change = class_fields(**{"name": "Renamed", "size": "25", "level_1": "A1", "level_2": "C1", **fields})

    response = post_form(client, f"/classes/{school_class.id}/edit", change, page=f"/classes/{school_class.id}/edit")

    assert response.status_code == 400
    shown = field_error(response, field) if field else text_of(response)
    assert message in shown
    db.session.expire_all()
    assert (school_class.name, school_class.size, school_class.age_min, school_class.age_max) == (
        "Mecânica 10B",
        20,
        16,
        18,
    )
    assert [(lang.language, lang.cefr_level) for lang in school_class.languages] == [("en", "B1")]


def test_a_teacher_edits_a_class_and_its_languages(client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher)
    log_in(client, teacher)
    form_page = text_of(client.get(f"/classes/{school_class.id}/edit"))
    assert school_class.name in form_page

    response = post_form(
        client,
        f"/classes/{school_class.id}/edit",
        class_fields(name="Cozinha 12A", language_1="en", level_1="B2", language_2="fr", level_2="A2"),
        page=f"/classes/{school_class.id}/edit",
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert school_class.name == "Cozinha 12A"
    assert [(lang.language, lang.cefr_level) for lang in school_class.languages] == [("en", "B2"), ("fr", "A2")]
    assert count(ClassLanguage, ClassLanguage.class_id == school_class.id) == 2


def test_another_teacher_cannot_see_or_manage_the_class(client, make):
    owner = make.teacher()
    school_class = make.school_class(owner)
    colleague = make.teacher(owner.school)
    log_in(client, colleague)

    assert client.get(f"/classes/{school_class.id}").status_code == 403
    assert client.get(f"/classes/{school_class.id}/edit").status_code == 403
    token_page = "/classes"
    edit = post_form(client, f"/classes/{school_class.id}/edit", class_fields(name="Taken over"), page=token_page)
    students = post_form(client, f"/classes/{school_class.id}/students", {"count": "3"}, page=token_page)
    code = post_form(client, f"/classes/{school_class.id}/join-code", {"action": "disable"}, page=token_page)
    assert edit.status_code == students.status_code == code.status_code == 403
    assert school_class.name not in text_of(client.get("/classes"))

    db.session.expire_all()
    assert school_class.name != "Taken over"
    assert school_class.join_code_active
    assert school_class.memberships == []


def test_a_class_that_does_not_exist_is_not_found(client, make):
    log_in(client, make.teacher())
    assert client.get("/classes/999999").status_code == 404


def test_the_coordinator_of_the_school_manages_its_classes(client, make):
    owner = make.teacher()
    school_class = make.school_class(owner, name="Elettrotecnica 3B")
    coordinator = make.coordinator(owner.school)
    log_in(client, coordinator)

    assert "Elettrotecnica 3B" in text_of(client.get(f"/classes/{school_class.id}"))
    response = post_form(
        client,
        f"/classes/{school_class.id}/edit",
        class_fields(name="Elettrotecnica 4B"),
        page=f"/classes/{school_class.id}/edit",
    )
    assert response.status_code == 302
    db.session.refresh(school_class)
    assert school_class.name == "Elettrotecnica 4B"
    assert school_class.teacher_id == owner.id


def test_a_coordinator_of_another_school_gets_no_access(client, make):
    school_class = make.school_class()
    outsider = make.coordinator(make.school(country="IT", city="Bologna", timezone="Europe/Rome"))
    log_in(client, outsider)

    assert client.get(f"/classes/{school_class.id}").status_code == 403
    assert client.get(f"/classes/{school_class.id}/edit").status_code == 403


@pytest.mark.parametrize("role", ["student", "admin"])
def test_class_pages_are_for_teachers(client, make, role):
    school_class = make.school_class()
    user = make.student(school_class) if role == "student" else make.admin()
    log_in(client, user)

    for path in ("/classes", "/classes/new", f"/classes/{school_class.id}"):
        assert client.get(path).status_code == 403


def test_class_pages_need_a_login(client, make):
    school_class = make.school_class()
    for path in ("/classes", "/classes/new", f"/classes/{school_class.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_the_class_form_offers_the_isced_f_fields_to_pick_from(client, make):
    log_in(client, make.teacher())

    page = client.get("/classes/new").get_data(as_text=True)

    # A plain <select> (works without JavaScript) that pickers.js turns into a filterable combobox.
    start = page.rindex("<select", 0, page.index('name="isced_code"'))
    picker = page[start : page.index(">", start)]
    assert 'data-combobox=""' in picker and 'name="isced_code"' in picker and "required" in picker
    assert '<option value="0713">Electricity and energy (0713)</option>' in page
    assert '<optgroup label="Engineering, manufacturing and construction">' in page
    assert 'src="/static/js/pickers.js"' in page


def test_changing_the_field_stores_the_code_and_its_name(client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher)
    log_in(client, teacher)

    response = post_form(
        client,
        f"/classes/{school_class.id}/edit",
        class_fields(isced_code="0713"),
        page=f"/classes/{school_class.id}/edit",
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert (school_class.isced_code, school_class.vocational_field) == ("0713", "Electricity and energy")
    assert "Electricity and energy" in text_of(client.get(f"/classes/{school_class.id}"))


def test_a_class_saved_before_the_list_shows_its_old_text_until_a_field_is_chosen(client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher, vocational_field="Konditorei und Bäckerei", isced_code=None)
    log_in(client, teacher)

    assert "Konditorei und Bäckerei" in text_of(client.get(f"/classes/{school_class.id}"))
    form_page = client.get(f"/classes/{school_class.id}/edit").get_data(as_text=True)
    assert "Saved before the list existed: “Konditorei und Bäckerei”" in form_page
    picker = form_page[
        form_page.index('name="isced_code"') : form_page.index("</select>", form_page.index('name="isced_code"'))
    ]
    assert "selected" not in picker  # nothing guessed for the teacher: the list starts at "Choose a field…"

    response = post_form(
        client,
        f"/classes/{school_class.id}/edit",
        class_fields(isced_code="0721"),
        page=f"/classes/{school_class.id}/edit",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (school_class.isced_code, school_class.vocational_field) == ("0721", "Food processing")
