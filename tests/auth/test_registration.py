"""Teachers register themselves, with a school from the list or a new one."""

import pytest

from app.auth.models import AccountStatus, Role, School, User
from app.auth.passwords import verify_password
from app.extensions import db
from tests.auth.conftest import count, field_error, text_of
from tests.conftest import post_form

NEW_PASSWORD = "chalk-and-board-7"
OID_MESSAGE = "An Erasmus organisation ID is an E followed by 8 digits."


def registration(**fields) -> dict:
    return {
        "display_name": "Marta Sousa",
        "email": "marta.sousa@example.eu",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "school_id": "",
        "school_name": "",
        "country": "",
        "city": "",
        "kind": "vet_school",
        "erasmus_oid": "",
        **fields,
    }


def register(client, **fields):
    return post_form(client, "/register", registration(**fields), page="/register")


def test_teacher_registers_with_a_listed_school_and_waits_for_validation(client, make):
    school = make.school(name="Escola Profissional do Porto")
    page = client.get("/register").get_data(as_text=True)
    assert "Escola Profissional do Porto" in page

    response = register(client, school_id=str(school.id), email="  Marta.Sousa@Example.EU ")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/register/sent")
    teacher = db.session.query(User).filter_by(email="marta.sousa@example.eu").one()
    assert teacher.username == "marta.sousa@example.eu"
    assert teacher.role == Role.TEACHER
    assert teacher.status == AccountStatus.PENDING
    assert teacher.school_id == school.id
    assert verify_password(teacher.password_hash, NEW_PASSWORD)
    # The new teacher can log in at once, and sees that validation is pending.
    post_form(client, "/login", {"login": "marta.sousa@example.eu", "password": NEW_PASSWORD})
    dashboard = text_of(client.get("/dashboard"))
    assert "Your registration is waiting for validation" in dashboard
    assert "Escola Profissional do Porto" in dashboard


def test_teacher_registers_a_new_school_placed_by_its_town(client):
    response = register(
        client,
        school_id="new",
        school_name="Escola de Hotelaria Nova",
        country="PT",
        city="porto",
        kind="vet_school",
        erasmus_oid="e10012345",
    )

    assert response.status_code == 302
    school = db.session.query(School).filter_by(name="Escola de Hotelaria Nova").one()
    assert (school.country, school.city, school.timezone) == ("PT", "Porto", "Europe/Lisbon")
    assert school.latitude == pytest.approx(41.15, abs=0.1)
    assert school.longitude == pytest.approx(-8.61, abs=0.1)
    assert school.erasmus_oid == "E10012345"
    assert not school.is_verified  # an admin confirms a new school
    teacher = db.session.query(User).filter_by(email="marta.sousa@example.eu").one()
    assert teacher.school_id == school.id
    assert teacher.status == AccountStatus.PENDING


def test_a_new_school_in_an_unknown_town_is_refused_beside_the_town(client):
    users, schools = count(User), count(School)

    response = register(client, school_id="new", school_name="Escola Fantasma", country="PT", city="Atlantis")

    assert response.status_code == 400
    assert "We do not know a town called Atlantis in this country" in field_error(response, "city")
    assert (count(User), count(School)) == (users, schools)


def test_a_listed_school_that_is_not_verified_cannot_be_chosen(client, make):
    unverified = make.school(name="Unverified School", is_verified=False)
    users = count(User)

    response = register(client, school_id=str(unverified.id))

    assert response.status_code == 400
    assert field_error(response, "school_id")
    assert count(User) == users


def test_an_email_already_registered_gets_the_same_answer_and_creates_nothing(client, make):
    school = make.school()
    existing = make.teacher(school, username="taken@example.eu")
    original_hash = existing.password_hash

    fresh = register(client, school_id=str(school.id), email="fresh@example.eu")
    users, schools = count(User), count(School)
    taken = register(client, school_id=str(school.id), email="TAKEN@example.eu", display_name="Impostor")
    taken_with_new_school = register(
        client, school_id="new", school_name="Brand New School", country="PT", city="Braga", email="taken@example.eu"
    )

    for response in (taken, taken_with_new_school):
        assert response.status_code == fresh.status_code == 302
        assert response.headers["Location"] == fresh.headers["Location"]
    assert (count(User), count(School)) == (users, schools)
    db.session.refresh(existing)
    assert existing.display_name != "Impostor"
    assert existing.password_hash == original_hash


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "not-an-address"}, "email", "Enter a valid e-mail address."),
        ({"confirm": "chalk-and-board-8"}, "confirm", "The two passwords are not the same."),
        ({"password": "short1", "confirm": "short1"}, "password", "between 8 and 128 characters"),
        ({"password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa"}, "password", "This password is too easy to guess."),
        ({"school_id": ""}, "school_id", "This field is required."),
        ({"school_id": "new", "school_name": ""}, "school_name", "This field is required for a new school."),
        ({"school_id": "new", "country": ""}, "country", "This field is required for a new school."),
        ({"school_id": "new", "country": "US"}, "country", "Not a valid choice."),
        ({"school_id": "new", "erasmus_oid": "E123"}, "erasmus_oid", OID_MESSAGE),
        ({"school_id": "new", "erasmus_oid": "X12345678"}, "erasmus_oid", OID_MESSAGE),
        ({"school_id": "new", "erasmus_oid": "E1234567890"}, "erasmus_oid", OID_MESSAGE),
    ],
)
def test_bad_registration_input_is_explained_and_saves_nothing(client, make, fields, field, message):
    listed_school = {"school_id": str(make.school().id)}
    new_school = {"school_name": "Escola Nova", "country": "PT", "city": "Porto"}
    data = {**(new_school if fields.get("school_id") == "new" else listed_school), **fields}
    users, schools = count(User), count(School)

    response = register(client, **data)

    assert response.status_code == 400
    assert message in field_error(response, field)
    assert 'role="alert"' in text_of(response)  # the summary above the form, read out by screen readers
    assert (count(User), count(School)) == (users, schools)


def test_a_school_with_a_taken_erasmus_id_is_refused(client, make):
    make.school(erasmus_oid="E10000001")
    users, schools = count(User), count(School)

    response = register(
        client, school_id="new", school_name="Other School", country="PT", city="Porto", erasmus_oid="E10000001"
    )

    assert response.status_code == 400
    assert "already registered" in field_error(response, "erasmus_oid")
    assert (count(User), count(School)) == (users, schools)


def test_a_school_waiting_for_validation_is_not_registered_twice(client, make):
    make.school(name="Escola Nova do Porto", is_verified=False)
    users, schools = count(User), count(School)

    response = register(client, school_id="new", school_name="escola nova do porto", country="PT", city="Porto")

    assert response.status_code == 400
    assert "waits for a CrossClass administrator" in field_error(response, "school_name")
    assert (count(User), count(School)) == (users, schools)


def test_a_logged_in_user_is_sent_to_the_dashboard_instead_of_registering(client, make):
    from tests.conftest import log_in

    log_in(client, make.teacher())
    assert client.get("/register").headers["Location"].endswith("/dashboard")


def test_city_search_offers_towns_of_the_country(client):
    found = client.get("/api/cities?country=PT&q=por").get_json()["cities"]
    assert found[0]["name"] == "Porto"
    assert found[0]["timezone"] == "Europe/Lisbon"
    refused = client.get("/api/cities?country=ZZ&q=por")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "invalid_country"
