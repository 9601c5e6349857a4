"""What a socket event's arguments may be, checked before any handler sees them.

A client's malformed event (a lone surrogate, a NUL, a thousand nested lists, an extra
argument) is answered with a specific refusal ack, never a traceback; see docs/realtime.md.
"""

from __future__ import annotations

import json
import math
import re

# Deeper than any payload the app sends (a chat message is two levels) by a wide margin.
MAX_NESTING_DEPTH = 32

# A NUL (PostgreSQL refuses it in text) or half of a UTF-16 surrogate pair (not Unicode:
# neither the database nor the JSON sent back to other browsers can carry it).
_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_EVENT_NAME = re.compile(r'\s*\[\s*("(?:[^"\\]|\\.)*")')


class UndecodablePayload:
    """Stands in for an event's arguments that JSON could not decode (nested too deeply for
    the decoder's recursion, an integer of thousands of digits, broken JSON), so the event
    still reaches its handler's checks: it counts against the rate limit and gets its
    refusal ack."""

    def __repr__(self) -> str:
        return "<undecodable payload>"


UNDECODABLE = UndecodablePayload()


class WireJSON:
    """The JSON module of the Socket.IO server (its `json` option): the standard one, except
    that a packet it cannot decode becomes [event name, UNDECODABLE] instead of an error
    (a RecursionError for deep nesting) logged with its traceback for every such packet,
    before any rate limit."""

    @staticmethod
    def dumps(*args, **kwargs):
        return json.dumps(*args, **kwargs)

    @staticmethod
    def loads(text, *args, **kwargs):
        try:
            return json.loads(text, *args, **kwargs)
        except (RecursionError, ValueError):
            match = _EVENT_NAME.match(text if isinstance(text, str) else text.decode("utf-8", "replace"))
            if match is None:
                raise ValueError("undecodable Socket.IO payload") from None
            return [json.loads(match.group(1)), UNDECODABLE]


def shape_problem(args: tuple) -> str | None:
    """Why `args` cannot be an event's arguments (a short reason for the log), or None.

    Walks the arguments without recursion, so the depth limit itself cannot overflow.
    """
    pending = [(value, 1) for value in args]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_NESTING_DEPTH:
            return "nested too deeply"
        if value is None or isinstance(value, (bool, int)):
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                return "number out of range"
            continue
        if isinstance(value, str):
            if _UNSTORABLE_CHARACTER.search(value):
                return "NUL or lone surrogate in a string"
            continue
        if isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or _UNSTORABLE_CHARACTER.search(key):
                    return "bad object key"
                pending.append((item, depth + 1))
            continue
        if value is UNDECODABLE:
            return "undecodable JSON"
        return f"type {type(value).__name__} not allowed"
    return None
