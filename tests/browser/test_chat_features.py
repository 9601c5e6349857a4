"""Chat features in real browsers: presence, typing, reactions, unread counts, search, team and direct channels."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.chat_support import (
    HELSINKI,
    LIVE,
    PORTO,
    TEACHER,
    chat_pages,
    exchange_script,
    joined,
    message,
    say,
    start_chat_server,
)
from tests.browser.conftest import PHONE, assert_accessible, screenshot

pytestmark = pytest.mark.browser

_TEAM_OF_BOTH = """
team = Team(project_id=project.id, name="Bakers", position=1, allow_direct_messages=True)
team.memberships = [TeamMembership(project_id=project.id, student_id=p.id) for p in (porto, helsinki)]
project.teams.append(team)
db.session.flush()
ensure_channels(project)
# The pupils know each other by username (a partner school's pupil); the Porto teacher
# sees the Porto pupil's display name, the Helsinki teacher the Helsinki pupil's.
print(json.dumps({
    "project": project.id,
    "porto": porto.username,
    "helsinki": helsinki.username,
    "porto_display": porto.display_name,
    "helsinki_teacher": helsinki.memberships[0].school_class.teacher.username,
    "porto_class": porto.memberships[0].school_class.id,
}))
"""
_TEAM_IMPORTS = """
from app.modules.chat.operations import ensure_channels
from app.modules.projects.models import Team, TeamMembership
"""


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    script = exchange_script("Bread and code", _TEAM_OF_BOTH, _TEAM_IMPORTS)
    server = start_chat_server(tmp_path_factory, "chat-features", script)
    yield server
    server.stop()


@pytest.fixture
def open_page(browser, chat_server):
    with chat_pages(browser, chat_server) as open_as:
        yield open_as


def test_presence_typing_and_reactions_live(open_page, chat_server):
    names = chat_server.facts
    porto = open_page(PORTO, viewport=PHONE)
    helsinki = open_page(HELSINKI)

    # Presence: each sees the other online (Porto heard Helsinki join; Helsinki asked on joining).
    for page, other in ((porto, names["helsinki"]), (helsinki, names["porto"])):
        expect(page.locator("[data-chat-presence-list] li", has_text=other)).to_have_count(1, timeout=LIVE)

    # Typing: shown to the other, gone once the message arrives.
    helsinki.get_by_label("Your message").press_sequentially("Hei")
    typing = porto.locator("[data-chat-typing]")
    expect(typing).to_have_text(f"{names['helsinki']} is typing…", timeout=LIVE)
    helsinki.get_by_label("Your message").press("Enter")
    expect(message(porto, "Hei")).to_be_visible(timeout=LIVE)
    expect(typing).to_have_text("")

    # Reactions by keyboard: open the picker, choose 👍; both see it, only Porto as "mine".
    picker = message(porto, "Hei").locator("summary", has_text="React")
    picker.focus()
    porto.keyboard.press("Enter")
    message(porto, "Hei").get_by_role("button", name="React with 👍").press("Enter")
    mine = message(porto, "Hei").locator(".chat-reaction", has_text="👍 1")
    expect(mine).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    theirs = message(helsinki, "Hei").locator(".chat-reaction", has_text="👍 1")
    expect(theirs).to_have_attribute("aria-pressed", "false", timeout=LIVE)
    theirs.click()
    expect(message(porto, "Hei").locator(".chat-reaction", has_text="👍 2")).to_be_visible(timeout=LIVE)
    assert_accessible(porto)
    screenshot(porto, "chat-features-phone")

    # Taking one's reaction off again.
    message(porto, "Hei").locator(".chat-reaction", has_text="👍 2").click()
    expect(message(helsinki, "Hei").locator(".chat-reaction", has_text="👍 1")).to_have_attribute(
        "aria-pressed", "true", timeout=LIVE
    )


def test_unread_counts_search_and_team_channel(open_page, chat_server):
    project = chat_server.facts["project"]
    helsinki = open_page(HELSINKI)
    helsinki.get_by_role("link", name="Bakers").click()
    joined(helsinki)
    expect(helsinki.get_by_role("heading", name="Bakers")).to_be_visible()

    porto = open_page(PORTO)
    say(porto, "Who brings the sourdough starter?")
    expect(message(porto, "sourdough")).to_have_attribute("data-status", "sent", timeout=LIVE)

    helsinki.reload()
    joined(helsinki)
    whole = helsinki.get_by_role("link", name="Whole exchange")
    expect(whole.locator("[data-unread-badge]")).to_have_text("1 unread message")
    whole.click()
    joined(helsinki)
    expect(message(helsinki, "sourdough")).to_be_visible()
    # Shown while visible: the read mark moves up, and the count is gone on the next page.
    expect(helsinki.locator("[data-unread-badge][hidden]").first).to_be_attached(timeout=LIVE)
    helsinki.wait_for_timeout(1500)
    helsinki.goto(f"/exchanges/{project}")
    expect(helsinki.locator("[data-chat-unread-total]")).to_have_count(0)

    # Search, then jump to the message in its channel.
    porto.get_by_label("Search the chat").fill("SOURDOUGH")
    porto.get_by_label("Search the chat").press("Enter")
    expect(porto.locator("mark", has_text="sourdough")).to_be_visible()
    assert_accessible(porto)
    porto.get_by_role("link", name="Show in the conversation").first.click()
    joined(porto)
    expect(porto.locator(".chat-message-target", has_text="sourdough")).to_be_focused(timeout=LIVE)


def test_direct_conversation_between_teammates(open_page, chat_server):
    names = chat_server.facts
    porto = open_page(PORTO, viewport=PHONE)
    porto.get_by_label("Write privately to a teammate").select_option(label=names["helsinki"])
    porto.get_by_role("button", name="Open").click()
    joined(porto)
    expect(porto.get_by_text("Teachers of the exchange can read this conversation.")).to_be_visible()
    assert_accessible(porto)
    say(porto, "Just between us and the teachers")
    helsinki = open_page(HELSINKI)
    helsinki.get_by_role("link", name=names["porto"]).click()
    joined(helsinki)
    expect(message(helsinki, "Just between us")).to_be_visible()

    teacher = open_page(TEACHER)
    teacher.get_by_role("link", name=f"{names['helsinki']} & {names['porto_display']}").or_(
        teacher.get_by_role("link", name=f"{names['porto_display']} & {names['helsinki']}")
    ).click()
    joined(teacher)
    expect(message(teacher, "Just between us")).to_be_visible()
    expect(teacher.get_by_label("Your message")).to_have_count(0)
    # Hiding needs no composer: a teacher can take a message out of a pupils' conversation.
    expect(message(teacher, "Just between us").get_by_role("button", name="Hide")).to_be_visible()

    # A teacher stops direct messages: the pupils' open pages switch their composer off at once.
    teacher.goto(f"/exchanges/{names['project']}/teams")
    teacher.get_by_role("button", name=re.compile("^Stop direct messages")).click()
    for page in (porto, helsinki):
        expect(page.get_by_label("Your message")).to_be_disabled(timeout=LIVE)
        expect(page.locator("[data-chat-error]")).to_have_text("This conversation can be read but no longer written.")
    assert_accessible(porto)


def test_a_partner_teacher_reads_a_pupils_username_and_the_own_teacher_the_display_name(open_page, chat_server):
    """A live message of the Porto pupil: her own (Porto) teacher's page shows her display
    name, from the page's roster; the Helsinki teacher's page her username, and the display
    name reached neither that page nor its socket."""
    names = chat_server.facts
    own = open_page(TEACHER)
    partner = open_page(names["helsinki_teacher"])
    porto = open_page(PORTO)
    say(porto, "Who has the rye flour?")
    expect(message(own, "rye flour").locator(".chat-meta strong")).to_have_text(names["porto_display"], timeout=LIVE)
    expect(message(partner, "rye flour").locator(".chat-meta strong")).to_have_text(names["porto"], timeout=LIVE)
    expect(partner.locator("[data-chat-presence-list] li", has_text=names["porto"])).to_have_count(1, timeout=LIVE)
    expect(own.locator("[data-chat-presence-list] li", has_text=names["porto_display"])).to_have_count(1)
    assert names["porto_display"] not in partner.content()
    assert_accessible(partner)
    # The opt-in on the class form, with what it needs said beside it.
    own.goto(f"/classes/{names['porto_class']}/edit")
    box = own.get_by_role("checkbox", name="Partner classes may see my pupils' first names")
    expect(box).not_to_be_checked()
    expect(own.locator("#partners_see_first_names-hint")).to_contain_text("agreement of the pupils and their parents")
    assert_accessible(own)
