"""The shared list of exchange themes: class profiles (matching) choose from it and exchange
projects keep it, so it lives below both modules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

THEMES = (
    "green_skills",
    "digital_skills",
    "entrepreneurship",
    "health_and_safety",
    "cultural_heritage",
    "european_citizenship",
    "inclusion",
)


def theme_labels() -> dict[str, str]:
    return {
        "green_skills": _l("Green skills"),
        "digital_skills": _l("Digital skills"),
        "entrepreneurship": _l("Entrepreneurship"),
        "health_and_safety": _l("Health and safety"),
        "cultural_heritage": _l("Cultural heritage"),
        "european_citizenship": _l("European citizenship"),
        "inclusion": _l("Inclusion"),
    }


def theme_label(theme: str) -> str:
    """A theme of the list by its label; a teacher's own theme as they wrote it."""
    return str(theme_labels().get(theme, theme))
