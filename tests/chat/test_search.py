"""Search in an exchange's chat: only readable channels, never removed messages, safe highlighting."""

from __future__ import annotations

from app.extensions import db
from app.modules.chat import operations, search
from app.modules.chat.models import Message
from app.modules.chat.queries import channel_for_user
from tests.chat.conftest import new_client_id


def say(user, channel, body):
    message, _duplicate = operations.send_message(user, channel_for_user(channel.id, user), new_client_id(), body)
    db.session.flush()
    return message


def find(exchange, user, text, page=1):
    return search.search_messages(exchange.project, user, text, page)


def test_finds_case_insensitively_and_only_in_readable_channels(exchange):
    say(exchange.ana, exchange.channel, "We cook BACALHAU on Friday")
    say(exchange.teacher, exchange.teachers_channel, "Bacalhau for the teachers too")
    say(exchange.ben, exchange.channel, "Nothing about fish")

    pupil = find(exchange, exchange.ben, "bacalhau")
    assert [hit.message.body_source for hit in pupil.hits] == ["We cook BACALHAU on Friday"]
    teacher = find(exchange, exchange.teacher, "bacalhau")
    assert len(teacher.hits) == 2  # teachers read the teachers' channel too
    assert find(exchange, exchange.ben, "b").hits == []  # one character is too short


def test_removed_messages_are_never_found(exchange):
    gone = say(exchange.ana, exchange.channel, "secret recipe")
    hidden = say(exchange.ben, exchange.channel, "another secret")
    operations.delete_message(exchange.ana, channel_for_user(exchange.channel.id, exchange.ana), gone)
    operations.hide_message(exchange.teacher, channel_for_user(exchange.channel.id, exchange.teacher), hidden)
    db.session.flush()
    assert find(exchange, exchange.teacher, "secret").hits == []


def test_wildcards_are_plain_characters(exchange):
    say(exchange.ana, exchange.channel, "100% done")
    say(exchange.ana, exchange.channel, "1000 done")
    say(exchange.ana, exchange.channel, "snake_case and snakeXcase")
    assert [h.message.body_source for h in find(exchange, exchange.ben, "0%").hits] == ["100% done"]
    assert [h.message.body_source for h in find(exchange, exchange.ben, "e_c").hits] == ["snake_case and snakeXcase"]
    assert find(exchange, exchange.ben, "%%").hits == []


def test_highlight_escapes_first_then_marks():
    snippet = search.highlight("<script>alert(1)</script> cook <b>COOK</b>", "cook")
    assert str(snippet) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>cook</mark> &lt;b&gt;<mark>COOK</mark>&lt;/b&gt;"
    )
    long = search.highlight("x" * 200 + " needle " + "y" * 200, "needle")
    assert str(long).startswith("…") and str(long).endswith("…") and "<mark>needle</mark>" in str(long)


def test_results_come_in_pages_newest_first(exchange, monkeypatch):
    monkeypatch.setattr(search, "RESULTS_PER_PAGE", 2)
    for n in range(5):
        say(exchange.ana, exchange.channel, f"pizza {n}")
    first = find(exchange, exchange.ben, "pizza")
    assert [h.message.body_source for h in first.hits] == ["pizza 4", "pizza 3"] and first.has_more
    last = find(exchange, exchange.ben, "pizza", page=3)
    assert [h.message.body_source for h in last.hits] == ["pizza 0"] and not last.has_more


def test_the_search_page(exchange, browsers, make):
    message = say(exchange.ana, exchange.channel, "Meet at <the> kitchen")
    say(exchange.teacher, exchange.teachers_channel, "kitchen plans of teachers")
    http = browsers.http(exchange.ben)
    page = http.get(f"/exchanges/{exchange.project.id}/chat/search?q=KITCHEN")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Meet at &lt;the&gt; <mark>kitchen</mark>" in html and "teachers" not in html.split("search-results")[1]
    link = f"/exchanges/{exchange.project.id}/chat/{exchange.channel.id}?around={message.seq}"
    assert link in html
    short = http.get(f"/exchanges/{exchange.project.id}/chat/search?q=k").get_data(as_text=True)
    assert "at least 2 characters" in short
    assert http.get(f"/exchanges/{exchange.project.id}/chat/search?q=kitchen&page=0").status_code == 404
    outsider = browsers.http(make.student(make.school_class()))
    assert outsider.get(f"/exchanges/{exchange.project.id}/chat/search?q=kitchen").status_code == 403
    assert db.session.get(Message, message.id) is not None
