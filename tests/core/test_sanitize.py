"""User text becomes safe HTML: the markdown subset survives, markup and scripts come out inert."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.sanitize import ALLOWED_TAGS, render_markdown, render_markdown_fully

REL = 'rel="nofollow noopener noreferrer"'


def tags(html: str) -> set[str]:
    return set(re.findall(r"</?(\w+)", html))


def test_allowed_formatting_survives():
    assert render_markdown("**bold** *italic* _also_ `code`") == (
        "<p><strong>bold</strong> <em>italic</em> <em>also</em> <code>code</code></p>"
    )
    assert render_markdown("- one\n- two") == "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"
    assert render_markdown("1. first\n2. second") == "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"
    assert render_markdown("> quoted") == "<blockquote>\n<p>quoted</p>\n</blockquote>"
    assert render_markdown("```\nx < y\n```") == "<pre><code>x &lt; y\n</code></pre>"
    assert render_markdown("line one\nline two") == "<p>line one<br>\nline two</p>"


def test_links_are_made_clickable_and_marked():
    assert render_markdown("see https://example.eu/menu") == (
        f'<p>see <a href="https://example.eu/menu" {REL}>https://example.eu/menu</a></p>'
    )
    assert render_markdown("[our menu](http://example.eu)") == f'<p><a href="http://example.eu" {REL}>our menu</a></p>'
    assert render_markdown("[write](mailto:chef@example.eu)") == (
        f'<p><a href="mailto:chef@example.eu" {REL}>write</a></p>'
    )


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        '<div style="position:fixed">x</div>',
        "![img](https://example.eu/x.png)",
        "<svg onload=alert(1)>",
        "**<b onmouseover=alert(1)>hi</b>**",
    ],
)
def test_script_and_markup_payloads_come_out_inert(payload):
    html = render_markdown(payload)
    assert tags(html) <= ALLOWED_TAGS
    for tag in re.findall(r"<[^>]*>", html):  # real tags only: escaped markup is text
        assert re.fullmatch(r'</?\w+( href="(https?:|mailto:)[^"]*" rel="nofollow noopener noreferrer")?>', tag), tag


def test_headings_and_images_are_not_part_of_the_subset():
    assert render_markdown("# Big") == "<p># Big</p>"
    assert "<img" not in render_markdown("![alt](https://example.eu/a.png)")


@given(st.text(alphabet=st.sampled_from("<>\"'=/ abcdehilnoprstv:()[]*_`-#&;\n"), max_size=80))
def test_any_text_gives_only_allowed_tags(text):
    html = render_markdown(text)
    assert tags(html) <= ALLOWED_TAGS
    for tag in re.findall(r"<[^>]*>", html):
        assert re.fullmatch(r'</?\w+( href="[^"]*" rel="nofollow noopener noreferrer")?>', tag), tag


# Pieces that build plain-looking lines and the near misses around them: link schemes,
# domains, e-mail addresses, list and quote starts, markup characters, odd spaces.
_PIECES = st.sampled_from(
    [
        *"abcXYZéßжк漢0159 ,;!?'\"()-.:@/#*_`[]<>&\\~+=\u00a0\t\n",
        "http", "https", "www", "mailto", "example", "com", "de", "ftp", "//", "1.", "2)",
        "Olá", "Friday", "menu.pt", "a@b", "...", ": ", ". ", "  ",
    ]
)  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=14).map("".join))
def test_the_plain_text_shortcut_renders_exactly_as_the_full_path(text):
    """render_markdown skips markdown-it and nh3 for plain lines: it must never change the result."""
    assert render_markdown(text) == render_markdown_fully(text)


def test_the_shortcut_takes_everyday_sentences_and_leaves_links_and_markup_to_the_full_path():
    from app.core.sanitize import _PLAIN_LINE

    for plain in ["Hello from the kitchen in Porto: caldo verde. Olá!", "Wie geht's? (gut)", "Ça va, merci."]:
        assert _PLAIN_LINE.fullmatch(plain), plain
    for rich in ["see menu.pt", "mail a@b.de", "http://x.org", "**bold**", "- item", "2) two", "a\nb", "a:b", "1 a"]:
        assert not _PLAIN_LINE.fullmatch(rich), rich
