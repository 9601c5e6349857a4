"""User text to safe HTML: a markdown subset rendered by markdown-it-py, then cleaned by nh3.

markdown-it-py runs with raw HTML off, so markup in the source comes out escaped; nh3 then
keeps only an explicit allowlist, so nothing the renderer (or a future plugin) emits can
carry a script, a style or an event handler into a page.
"""

from __future__ import annotations

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


def render_markdown(source: str) -> str:
    """The safe HTML of a markdown-subset text (bold, italic, code, lists, links, quotes)."""
    html = _markdown.render(source or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()
