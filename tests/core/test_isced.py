"""The ISCED-F 2013 list, and reading a field out of what a teacher once typed."""

from __future__ import annotations

import pytest

from app.core.isced import field_label, is_detailed_field, isced_detailed_fields, isced_names, match_field


def test_the_list_has_every_level_and_the_detailed_fields_a_class_picks_from():
    names = isced_names()
    assert names["07"] == "Engineering, manufacturing and construction"
    assert names["071"] == "Engineering and engineering trades"
    assert names["0713"] == "Electricity and energy"
    detailed = dict(isced_detailed_fields())
    assert len(detailed) > 70 and all(len(code) == 4 for code in detailed)
    assert field_label("1013") == "Hotel, restaurants and catering (1013)"
    assert is_detailed_field("0713") and not is_detailed_field("071") and not is_detailed_field("1234")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Electricity and energy", "0713"),
        ("  electricity & energy ", "0713"),
        ("Hotel restaurants and catering", "1013"),
        ("Mechanics and metal trade", "0715"),
        ("0716 Motor vehicles", "0716"),
        ("(0611)", "0611"),
        ("Cooking and catering", None),  # close to 1013 in meaning, not in words: left to the teacher
        ("Automotive", None),
        ("Kochen", None),
        ("", None),
        (None, None),
        ("071 Engineering", None),  # a narrow field is not a class's detailed field
    ],
)
def test_free_text_is_mapped_only_when_it_clearly_names_a_field(text, code):
    assert match_field(text) == code
