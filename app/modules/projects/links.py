"""What a stored link (a live session's meeting link) may be: checked by the form and the
operation, and again before the link goes into a calendar file."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Whitespace anywhere (a link has none; a newline in one broke every participant's .ics)
# and control characters, C0 and C1.
_NOT_IN_A_LINK = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def has_http_scheme(value: str) -> bool:
    return value.lower().startswith(("https://", "http://"))


def is_http_link(value: str | None) -> bool:
    """An http(s) URL with a host and no whitespace or control characters."""
    if not value or not has_http_scheme(value) or _NOT_IN_A_LINK.search(value):
        return False
    try:
        return bool(urlsplit(value).hostname)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
