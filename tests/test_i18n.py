"""Every visible string is ready for translation, and the German catalogue is complete and used."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CATALOGUE = ROOT / "translations" / "de" / "LC_MESSAGES" / "messages.po"

# Text that is the same in every language.
UNTRANSLATED = {"CrossClass", "CrossClass ·", "· CrossClass"}
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_TAG = re.compile(r"<[^>]*>", re.DOTALL)
_ATTRIBUTE_TEXT = re.compile(r'\b(?:alt|title|placeholder|aria-label)="([^"{]*[A-Za-z][^"{]*)"')


def _visible_text(template: str) -> list[str]:
    without_jinja = _JINJA.sub(" ", template)
    without_tags = _TAG.sub("\n", without_jinja)
    chunks = (chunk.strip() for chunk in without_tags.splitlines())
    return [chunk for chunk in chunks if re.search(r"[A-Za-z]{2,}", chunk) and chunk not in UNTRANSLATED]


def test_templates_have_no_unwrapped_text():
    unwrapped = {}
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text()
        found = _visible_text(source) + _ATTRIBUTE_TEXT.findall(_JINJA.sub(" ", source))
        if found:
            unwrapped[str(path.relative_to(ROOT))] = found
    assert unwrapped == {}, "wrap these with {{ _('…') }}"


def test_german_catalogue_is_complete():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    missing = [message.id for message in catalogue if message.id and not _translated(message)]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert missing == [] and fuzzy == []


def _translated(message) -> bool:
    if isinstance(message.string, tuple):
        return all(message.string)
    return bool(message.string)


def test_pages_are_served_in_the_chosen_language(client):
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    german = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Log in" in english
    assert '<html lang="de">' in german and "Anmelden" in german and "Log in</h1>" not in german
