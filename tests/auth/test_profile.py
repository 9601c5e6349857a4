"""Everyone edits their own name, language and time zone; the pages follow them."""

import pytest

from app.extensions import db
from tests.auth.conftest import field_error, text_of
from tests.conftest import log_in, post_form


def save_profile(client, **fields):
    data = {"display_name": "Ana Ribeiro", "locale": "", "timezone": "", **fields}
    return post_form(client, "/account/profile", data, page="/account/profile")


def test_a_teacher_saves_name_language_and_time_zone(client, make):
    teacher = make.teacher(make.school(timezone="Europe/Lisbon"))
    log_in(client, teacher)
    assert "Times are shown in Europe/Lisbon." in text_of(client.get("/dashboard"))

    response = save_profile(client, display_name="  Ana M. Ribeiro ", locale="de", timezone="Europe/Helsinki")

    assert response.status_code == 302
    db.session.refresh(teacher)
    assert (teacher.display_name, teacher.locale, teacher.timezone) == ("Ana M. Ribeiro", "de", "Europe/Helsinki")
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Europe/Helsinki" in page


def test_clearing_the_time_zone_goes_back_to_the_school_one(client, make):
    teacher = make.teacher(make.school(timezone="Europe/Lisbon"), timezone="Europe/Helsinki")
    log_in(client, teacher)

    assert save_profile(client, timezone="").status_code == 302

    db.session.refresh(teacher)
    assert teacher.timezone is None
    assert teacher.zone_name == "Europe/Lisbon"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"display_name": "   "}, "display_name", "This field is required."),
        ({"display_name": "x" * 121}, "display_name", "Field cannot be longer than 120 characters."),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Not a valid choice."),
        ({"timezone": "America/New_York"}, "timezone", "Not a valid choice."),
        ({"locale": "xx"}, "locale", "Not a valid choice."),
    ],
)
def test_a_bad_profile_is_explained_and_not_saved(client, make, fields, field, message):
    teacher = make.teacher(display_name="Ana Ribeiro")
    log_in(client, teacher)

    response = save_profile(client, **{"locale": "de", **fields})

    assert response.status_code == 400
    assert message in field_error(response, field)
    db.session.refresh(teacher)
    assert (teacher.display_name, teacher.locale, teacher.timezone) == ("Ana Ribeiro", None, None)
