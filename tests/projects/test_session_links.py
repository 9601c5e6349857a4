"""A meeting link with a newline (or any control character or whitespace) is refused, and no
stored value, however hostile, breaks a session's .ics file."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from app.core.errors import InvalidInput
from app.extensions import db
from app.modules.projects.links import is_http_link
from app.modules.projects.models import LiveSession
from tests.auth.conftest import count, field_error
from tests.matching.test_profile_pages import client_for
from tests.projects.test_sessions import only_session, schedule


@pytest.mark.parametrize(
    "link",
    [
        "https://meet.example.eu/room\nX-INJECTED:1",
        "https://meet.example.eu/room\r\nBEGIN:VEVENT",
        "https://meet.example.eu/ro\tom",
        "https://meet.example.eu/ro\x00om",
        "https://meet.example.eu/ro\u2028om",
        "https:///no-host",
    ],
    ids=["newline", "crlf", "tab", "nul", "line-separator", "no-host"],
)
def test_the_form_refuses_a_link_with_control_characters(app, exchange, link):
    response = schedule(client_for(app, exchange.porto.teacher), exchange, meeting_url=link)
    assert response.status_code == 400
    assert "This is not a valid link." in field_error(response, "meeting_url")
    assert count(LiveSession) == 0


def test_the_link_rule():
    assert is_http_link("https://meet.example.eu/room?id=1#x")
    assert is_http_link("HTTP://meet.example.eu")
    for bad in [None, "", "meet.example.eu", "javascript:alert(1)", "https://a b.eu", "https://a.eu/\n", "https://"]:
        assert not is_http_link(bad), bad


def test_the_operation_refuses_it_too(app, exchange):
    from app.modules.projects import session_operations

    with pytest.raises(InvalidInput) as refused:
        session_operations._check_details("Europe/Lisbon", 60, "https://meet.example.eu/a\nb", None)
    assert refused.value.field == "meeting_url"


HOSTILE = "evil\r\nBEGIN:VEVENT\nUID:x\x01\x07\x1b[31m\u2028\x85 end"


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_hostile_stored_session_still_gives_a_parsing_ics(app, exchange, cancelled):
    """Values written around the checks (straight into the database) cannot break the file."""
    schedule(client_for(app, exchange.porto.teacher), exchange)
    session = only_session()
    session.meeting_url = "https://meet.example.eu/room\nX-INJECTED:1"
    session.title = HOSTILE
    session.description = HOSTILE
    if cancelled:
        session.cancelled_at = session.starts_at
        session.cancel_reason = HOSTILE
    db.session.commit()

    for viewer in (exchange.porto.teacher, exchange.helsinki_pupils[0]):
        response = client_for(app, viewer).get(f"{exchange.path}/sessions/{session.id}.ics")
        assert response.status_code == 200
        (event,) = Calendar.from_ical(response.get_data()).walk("VEVENT")
        # The bad link gives way to the session page; nothing was injected as a property.
        assert str(event["url"]) == f"http://localhost{exchange.path}/sessions/{session.id}"
        assert "X-INJECTED" not in event
        assert "BEGIN:VEVENT" in str(event["summary"])  # as text, on one line
        assert "\n" not in str(event["summary"]) and "\x01" not in str(event["description"])
    whole = client_for(app, exchange.porto.teacher).get(f"{exchange.path}/sessions.ics")
    assert whole.status_code == 200
    assert len(Calendar.from_ical(whole.get_data()).walk("VEVENT")) == 1
