"""Searching the messages of an exchange: only in channels the reader may read, never removed ones."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.extensions import db
from app.modules.chat.models import Channel, Message
from app.modules.chat.queries import channels_for
from app.modules.projects.models import Project

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
RESULTS_PER_PAGE = 50
MAX_PAGE = 20  # 1,000 results: past that, a narrower search is the better answer
CONTEXT_CHARS = 60  # shown on each side of the first match


@dataclass(frozen=True)
class SearchHit:
    message: Message
    channel: Channel
    snippet: Markup


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    has_more: bool


def normalize_query(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_QUERY_LENGTH]


def like_pattern(text: str) -> str:
    """A LIKE pattern matching the text anywhere; % and _ in it match only themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_messages(project: Project, user: User, text: str, page: int = 1) -> SearchPage:
    """Messages containing the text (case-insensitive), newest first, RESULTS_PER_PAGE per page.

    Case folding is the database's: PostgreSQL's ILIKE folds all letters, SQLite's only A to Z.
    """
    if len(text) < MIN_QUERY_LENGTH:
        return SearchPage([], False)
    channels = {channel.id: channel for channel in channels_for(project, user)}
    if not channels:
        return SearchPage([], False)
    page = min(max(page, 1), MAX_PAGE)
    rows = list(
        db.session.scalars(
            select(Message)
            .where(
                Message.channel_id.in_(list(channels)),
                Message.deleted_at.is_(None),
                Message.hidden_at.is_(None),
                Message.body_source.ilike(like_pattern(text), escape="\\"),
            )
            .options(selectinload(Message.author))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .offset((page - 1) * RESULTS_PER_PAGE)
            .limit(RESULTS_PER_PAGE + 1)
        )
    )
    hits = [SearchHit(m, channels[m.channel_id], highlight(m.body_source, text)) for m in rows[:RESULTS_PER_PAGE]]
    return SearchPage(hits, len(rows) > RESULTS_PER_PAGE and page < MAX_PAGE)


def highlight(source: str, text: str) -> Markup:
    """An excerpt around the first match, escaped, with every match in it wrapped in <mark>."""
    flat = " ".join(source.split())
    pattern = re.compile(re.escape(text), re.IGNORECASE)
    first = pattern.search(flat)
    if first is None:  # the database folded case where Python does not (or the reverse)
        start, end = 0, min(len(flat), 2 * CONTEXT_CHARS)
    else:
        start, end = max(0, first.start() - CONTEXT_CHARS), min(len(flat), first.end() + CONTEXT_CHARS)
    excerpt = flat[start:end]
    parts: list[str | Markup] = ["…"] if start > 0 else []
    position = 0
    for match in pattern.finditer(excerpt):
        parts.append(escape(excerpt[position : match.start()]))
        parts.append(Markup("<mark>%s</mark>") % match.group(0))
        position = match.end()
    parts.append(escape(excerpt[position:]))
    if end < len(flat):
        parts.append("…")
    return Markup("").join(parts)
