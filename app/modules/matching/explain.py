"""Plain-word reasons for a partner suggestion, for teachers.

Every number a sentence mentions comes from the PairScore it explains (minutes, kilometres,
levels), and the points of the reasons add up to the 0 to 100 score shown beside them. Names
of languages, countries, cities and weekdays come localised from Babel's CLDR data; the
sentences themselves from the message catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_timezone_location
from babel.numbers import format_decimal
from flask_babel import get_locale, lazy_gettext, ngettext
from flask_babel import gettext as _

from app.modules.matching.scoring import (
    CEFR_LEVELS,
    Overlap,
    PairScore,
    Profile,
    Violation,
    field_similarity,
    isced_names,
)

THEME_LABELS = {
    "green_skills": lazy_gettext("green skills"),
    "digital_skills": lazy_gettext("digital skills"),
    "entrepreneurship": lazy_gettext("entrepreneurship"),
    "health_and_safety": lazy_gettext("health and safety"),
    "cultural_heritage": lazy_gettext("cultural heritage"),
    "european_citizenship": lazy_gettext("European citizenship"),
    "inclusion": lazy_gettext("inclusion"),
}

# Erasmus+ travel distance bands, one-way km (docs: /work/shared/FACTS.md); None = no upper end.
DISTANCE_BANDS = ((10, 99), (100, 499), (500, 1999), (2000, 2999), (3000, 3999), (4000, 7999), (8000, None))


@dataclass(frozen=True)
class Reason:
    """One line of the score breakdown: `part` is a PairScore part name or "repeat"."""

    part: str
    text: str
    points: int  # share of the 0 to 100 score; negative for the repeat penalty


def theme_label(code: str) -> str:
    """A theme's label in the current language; a free tag is shown as typed."""
    label = THEME_LABELS.get(code)
    return str(label) if label is not None else code


def score_percent(score: PairScore) -> int:
    """The score as teachers see it, 0 to 100."""
    return round(score.total * 100)


def explain_pair(score: PairScore, a: Profile, b: Profile) -> list[Reason]:
    """The reasons behind a pair's score, in the order of its parts, then the repeat penalty.

    The points of the parts are their weighted share of the 0 to 100 score, rounded so that
    they and the penalty add up exactly to score_percent(score) (largest remainders); only
    a score clipped at 0 by the penalty differs.
    """
    points = _part_points(score)
    reasons = [Reason(part.name, _part_text(part.name, score, a, b), points[part.name]) for part in score.parts]
    if score.penalty:
        penalty = round(score.penalty * 100)
        text = ngettext(
            "They worked together before (−%(num)d point)", "They worked together before (−%(num)d points)", penalty
        )
        reasons.append(Reason("repeat", text, -penalty))
    return reasons


def _part_points(score: PairScore) -> dict[str, int]:
    applicable = sum(part.weight for part in score.parts)
    if not applicable:
        return {part.name: 0 for part in score.parts}
    shares = {part.name: part.points / applicable * 100 for part in score.parts}
    target = score_percent(score) + round(score.penalty * 100)
    if score.total == 0 and score.penalty:  # clipped at 0: show each part as it is
        target = round(sum(shares.values()))
    floors = {name: math.floor(share) for name, share in shares.items()}
    missing = target - sum(floors.values())
    by_remainder = sorted(shares, key=lambda name: (floors[name] - shares[name], name))
    for name in by_remainder[: max(0, min(missing, len(by_remainder)))]:
        floors[name] += 1
    return floors


def _part_text(name: str, score: PairScore, a: Profile, b: Profile) -> str:
    if name == "field":
        return field_text(a.isced, b.isced)
    if name == "eqf":
        return _("EQF %(first)d and %(second)d", first=a.eqf, second=b.eqf)
    if name == "language":
        if not score.shared_languages:
            return _("No shared working language")
        code, rank_a, rank_b = score.shared_languages[0]
        return _(
            "Both work in %(language)s (%(first)s and %(second)s)",
            language=language_name(code),
            first=CEFR_LEVELS[rank_a - 1],
            second=CEFR_LEVELS[rank_b - 1],
        )
    if name == "live":
        minutes = score.overlap.weekly_minutes if score.overlap else 0
        if not minutes:
            return _("No shared live time in the week")
        return _("%(duration)s of shared live time every week", duration=format_minutes(minutes))
    if name == "themes":
        if not score.shared_themes:
            return _("No shared themes")
        return _("Shared themes: %(themes)s", themes=", ".join(theme_label(code) for code in score.shared_themes))
    if name == "size":
        return _("Class sizes %(first)d and %(second)d", first=a.size, second=b.size)
    if name == "distance":
        return distance_text(score.distance_km)
    if name == "preferred_country":
        return _preferred_text(a, b)
    return name


def field_text(code_a: str, code_b: str) -> str:
    names = isced_names()
    similarity = field_similarity(code_a, code_b)
    if similarity == 1.0:
        return _("Same vocational field: %(field)s (ISCED %(code)s)", field=names.get(code_a, code_a), code=code_a)
    first, second = names.get(code_a, code_a), names.get(code_b, code_b)
    if similarity > 0:
        common = code_a[:3] if code_a[:3] == code_b[:3] else code_a[:2]
        return _(
            "Related fields: %(first)s and %(second)s (both in %(common)s)",
            first=first,
            second=second,
            common=names.get(common, common),
        )
    return _("Different fields: %(first)s and %(second)s", first=first, second=second)


def distance_band(km: float) -> tuple[int, int | None] | None:
    """The Erasmus+ distance band of a one-way distance (as shown, in whole km); None under 10 km."""
    whole = round(km)
    for low, high in DISTANCE_BANDS:
        if whole >= low and (high is None or whole <= high):
            return low, high
    return None


def distance_text(km: float) -> str:
    shown = format_number(round(km))
    band = distance_band(km)
    if band is None:
        return _("%(km)s km apart (below the Erasmus+ distance bands)", km=shown)
    low, high = band
    if high is None:
        return _("%(km)s km apart (Erasmus+ distance band %(low)s km and more)", km=shown, low=format_number(low))
    return _(
        "%(km)s km apart (Erasmus+ distance band %(low)s–%(high)s km)",
        km=shown,
        low=format_number(low),
        high=format_number(high),
    )


def _preferred_text(a: Profile, b: Profile) -> str:
    wished = (b.country in a.preferred_countries) + (a.country in b.preferred_countries)
    if wished == 2:
        return _("Each class wished for the other's country")
    if b.country in a.preferred_countries:
        return _("%(country)s is a wished-for country", country=country_name(b.country))
    if a.country in b.preferred_countries:
        return _("%(country)s is a wished-for country", country=country_name(a.country))
    return _("Neither country is on the other's wish list")


def format_minutes(minutes: int) -> str:
    """A duration as "2 h 30 min", "2 h" or "45 min"."""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)
    if hours:
        return _("%(hours)d h", hours=hours)
    return _("%(minutes)d min", minutes=rest)


def live_windows(overlap: Overlap | None, a: Profile, b: Profile) -> list[str]:
    """The shared weekly windows in both schools' local times, the first school's week order.

    E.g. "Tuesday 11:00-13:00 in Lisbon = Tuesday 13:00-15:00 in Helsinki" (with an en dash).
    """
    if overlap is None:
        return []
    zone_a, zone_b = ZoneInfo(a.timezone), ZoneInfo(b.timezone)
    windows = sorted(
        overlap.sample_windows,
        key=lambda window: (window.start.astimezone(zone_a).weekday(), window.start.astimezone(zone_a).time()),
    )
    return [
        _(
            "%(first)s in %(first_city)s = %(second)s in %(second_city)s",
            first=_local_span(window.start, window.end, zone_a),
            first_city=a.city or city_name(a.timezone),
            second=_local_span(window.start, window.end, zone_b),
            second_city=b.city or city_name(b.timezone),
        )
        for window in windows
    ]


def _local_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = weekday_name(local_start.weekday())
    end_time = local_end.strftime("%H:%M")
    if local_end.date() != local_start.date():
        if local_end.date() == local_start.date() + timedelta(days=1) and end_time == "00:00":
            end_time = "24:00"
        else:
            return f"{day} {local_start:%H:%M} – {weekday_name(local_end.weekday())} {end_time}"
    return f"{day} {local_start:%H:%M}–{end_time}"


def explain_violation(violation: Violation | str) -> str:
    """A broken hard constraint (or a pairing round's reason code) as a plain sentence."""
    if isinstance(violation, str):
        violation = Violation(violation)
    code, params = violation.code, violation.params
    if code == "same_class":
        return _("A class cannot be paired with itself.")
    if code == "same_country":
        return _("Both classes are in the same country.")
    if code == "excluded_country":
        return _("One of the classes does not want a partner from the other's country.")
    if code == "no_shared_language":
        if "level" in params:
            return _("No working language both classes speak at %(level)s or above.", level=params["level"])
        return _("No working language both classes speak well enough.")
    if code == "periods":
        if "days" in params and "needed" in params:
            return ngettext(
                "The exchange periods share %(num)d day; at least %(needed)d are needed.",
                "The exchange periods share %(num)d days; at least %(needed)d are needed.",
                params["days"],
                needed=params["needed"],
            )
        return _("The exchange periods do not overlap long enough.")
    if code == "ages":
        return _("Learners under 16 would meet adult learners, and not both teachers allow it.")
    if code == "modes":
        return _("The exchange modes do not fit: virtual with blended, or no class can travel to the other.")
    if code == "distance":
        if "km" in params and "limit" in params:
            return _(
                "The schools are %(km)s km apart; the limit is %(limit)s km.",
                km=format_number(params["km"]),
                limit=format_number(params["limit"]),
            )
        return _("The schools are farther apart than a class wants to travel.")
    if code == "live_overlap":
        if "minutes" in params and "needed" in params:
            return _(
                "Only %(minutes)s of shared live time in some week; at least %(needed)s are needed.",
                minutes=format_minutes(params["minutes"]),
                needed=format_minutes(params["needed"]),
            )
        return _("Not enough shared live time in the week.")
    if code == "partners_taken":
        return _("Every class that fits was paired with another class that fitted it better.")
    if code == "no_other_class":
        return _("No other class took part.")
    return _("The classes cannot be paired.")


def _locale() -> Locale:
    return get_locale() or Locale("en")


def format_number(number: float) -> str:
    return format_decimal(number, locale=_locale())


def language_name(code: str) -> str:
    return _locale().languages.get(code) or Locale("en").languages.get(code) or code


def country_name(code: str) -> str:
    return _locale().territories.get(code) or code


def city_name(timezone: str) -> str:
    """The zone's main city in the current language (Europe/Lisbon: "Lisbon", "Lissabon")."""
    try:
        return get_timezone_location(timezone, locale=_locale(), return_city=True)
    except LookupError:
        return timezone.rsplit("/", 1)[-1].replace("_", " ")


def weekday_name(weekday: int) -> str:
    """Monday is 0."""
    return _locale().days["format"]["wide"][weekday]
