"""The ISCED-F 2013 fields of education and training, the list a class's vocational field comes from.

It lives in core, below auth (a class chooses its field) and matching (which scores fields),
so that both read the one list.
"""

from __future__ import annotations

import csv
import difflib
import unicodedata
from functools import lru_cache
from pathlib import Path

ISCED_FILE = Path(__file__).with_name("isced_f_2013.csv")
DETAILED_LENGTH = 4  # 2 digits: broad field, 3: narrow, 4: detailed (the one a class picks)
# How alike a free-text name must be to a field's name to be taken for it ("Electricity &
# energy" is; "Cooking and catering" is not "Hotel, restaurants and catering").
NEAR_NAME = 0.85


@lru_cache(maxsize=1)
def isced_names() -> dict[str, str]:
    """Every ISCED-F 2013 code (broad 2-digit, narrow 3-digit, detailed 4-digit) and its name."""
    with ISCED_FILE.open(newline="") as handle:
        return {row["code"]: row["name"] for row in csv.DictReader(handle)}


def isced_detailed_fields() -> list[tuple[str, str]]:
    return [(code, name) for code, name in isced_names().items() if len(code) == DETAILED_LENGTH]


def is_detailed_field(code: str | None) -> bool:
    return bool(code) and len(code) == DETAILED_LENGTH and code in isced_names()


def field_label(code: str) -> str:
    """The name first (a list is searched by name), the code after: "Electricity and energy (0713)"."""
    return f"{isced_names()[code]} ({code})"


def _comparable(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.casefold().replace("&", " and ").replace(",", " ").split())


def match_field(text: str | None) -> str | None:
    """The detailed field a free-text name stands for, when it is that field's code or (nearly)
    its name; None when in doubt, so that a guess never replaces what a teacher wrote."""
    text = (text or "").strip()
    if not text:
        return None
    head = text.split()[0].strip("():")
    if is_detailed_field(head):
        return head
    by_name = {_comparable(name): code for code, name in isced_detailed_fields()}
    wanted = _comparable(text)
    if wanted in by_name:
        return by_name[wanted]
    near = difflib.get_close_matches(wanted, list(by_name), n=1, cutoff=NEAR_NAME)
    return by_name[near[0]] if near else None
