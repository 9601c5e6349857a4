"""User text to safe HTML: a markdown subset rendered by markdown-it-py, then cleaned by nh3.

markdown-it-py runs with raw HTML off, so markup in the source comes out escaped; nh3 then
keeps only an explicit allowlist, so nothing the renderer (or a future plugin) emits can
carry a script, a style or an event handler into a page.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "br", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"

# "zero" enables nothing; switch on exactly the subset chat offers. No headings, images,
# tables or raw HTML: a message is a message, not a page.
_markdown = (
    MarkdownIt("zero", {"html": False, "linkify": True, "breaks": True})
    .enable(["emphasis", "backticks", "list", "link", "autolink", "linkify", "newline", "fence", "code", "blockquote"])
    .enable("escape")
)
_markdown.validateLink = lambda url: url.lower().startswith(("http://", "https://", "mailto:"))


# One line that no rule above can touch: it starts with a letter (no list, quote or fence),
# has no markup characters (* _ ` [ < > & \ ~ #), no line breaks, and every "." or ":" is
# followed by a space or ends it, so no URL, domain or e-mail address can hide in it for
# linkify. Such text renders as itself in one paragraph; most chat messages are like this,
# and rendering them through markdown-it and nh3 was a tenth of a send's CPU.
# tests/core/test_sanitize.py checks against the full path that the two agree on every such text.
_PLAIN_LINE = re.compile(r"[^\W\d_](?:[^\W_]|[ ,;!?'\"()\-]|[.:](?= |\Z))*(?<! )", re.UNICODE)


def render_markdown(source: str) -> str:
    """The safe HTML of a markdown-subset text (bold, italic, code, lists, links, quotes)."""
    if source and _PLAIN_LINE.fullmatch(source):
        return f"<p>{html.escape(source, quote=False)}</p>"
    return render_markdown_fully(source)


def render_markdown_fully(source: str) -> str:
    """render_markdown without its plain-text shortcut."""
    rendered = _markdown.render(source or "")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()


# Where one block of a message ends and the next begins: a space, so words do not run together.
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|li|pre|blockquote)>", re.IGNORECASE)
EXCERPT_LENGTH = 80


def plain_excerpt(safe_html: str, limit: int = EXCERPT_LENGTH) -> str:
    """The first `limit` characters of a message as plain text (no markup left at all), cut at
    a word with "…" when longer: for lists that quote a message, such as the moderation log.
    The template escapes it again, as any text."""
    text = nh3.clean(_BLOCK_END.sub(" ", safe_html or ""), tags=set(), strip_comments=True)
    text = " ".join(html.unescape(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"
