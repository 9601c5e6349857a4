"""Towns and countries: a school is placed by choosing a real town, never by typing coordinates."""

import pytest

from app.core import geo


def test_a_town_gives_its_coordinates_and_time_zone():
    porto = geo.find_city("PT", "Porto")

    assert porto["name"] == "Porto"
    assert porto["timezone"] == "Europe/Lisbon"
    assert porto["latitude"] == pytest.approx(41.15, abs=0.05)
    assert porto["longitude"] == pytest.approx(-8.61, abs=0.05)


def test_an_unknown_town_or_a_town_of_another_country_is_not_found():
    assert geo.find_city("PT", "Atlantis") is None
    assert geo.find_city("PT", "Helsinki") is None
    assert geo.find_city("PT", "   ") is None
    assert geo.find_city("ZZ", "Porto") is None


@pytest.mark.parametrize(
    ("country", "typed", "town", "zone"),
    [
        ("PL", "wroclaw", "Wrocław", "Europe/Warsaw"),
        ("PL", "LODZ", "Łódź", "Europe/Warsaw"),
        ("NO", "tromso", "Tromsø", "Europe/Oslo"),
        ("DK", "arhus", "Århus", "Europe/Copenhagen"),
        ("IS", "Reykjavik", "Reykjavík", "Atlantic/Reykjavik"),
    ],
)
def test_accents_and_special_letters_need_not_be_typed(country, typed, town, zone):
    found = geo.find_city(country, typed)
    assert (found["name"], found["timezone"]) == (town, zone)


@pytest.mark.parametrize(
    ("country", "local_name", "town"),
    [
        ("DE", "Nürnberg", "Nuremberg"),
        ("PL", "Warszawa", "Warsaw"),
        ("PT", "Lisboa", "Lisbon"),
        ("AT", "Wien", "Vienna"),
    ],
)
def test_a_town_is_found_by_its_own_name(country, local_name, town):
    assert geo.find_city(country, local_name)["name"] == town
    assert geo.search_cities(country, local_name)[0]["name"] == town


def test_search_offers_the_biggest_towns_first():
    names = [city["name"] for city in geo.search_cities("PT", "por")]

    assert names[0] == "Porto"
    assert "Portimão" in names
    assert len(geo.search_cities("FR", "", limit=5)) == 5
    assert geo.search_cities("FR", "")[0]["name"] == "Paris"
    assert set(geo.search_cities("FR", "par")[0]) == {"id", "name", "latitude", "longitude", "timezone"}


def test_country_names_and_choices():
    assert geo.country_name("XK") == "Kosovo"
    assert geo.country_name("PT") == "Portugal"
    codes = [code for code, _name in geo.country_choices()]
    assert sorted(codes) == sorted(geo.EUROPEAN_COUNTRIES)
    assert len(codes) == len(set(codes))
    names = [name for _code, name in geo.country_choices()]
    assert names == sorted(names)


def test_every_listed_country_has_towns_to_choose_from():
    assert [code for code in geo.EUROPEAN_COUNTRIES if not geo.search_cities(code, "")] == []
