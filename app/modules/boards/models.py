"""Boards, their columns and cards.

Positions are floats: a card or column put between two others takes the midpoint of their
positions (boards.operations.position_between), so no other row is ever renumbered and two
people placing things at once touch no shared rows.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import UTCDateTime, enum_column, utcnow
from app.extensions import db
from app.modules.uploads.models import Upload


class BoardLayout(enum.StrEnum):
    SHELF = "shelf"  # columns side by side
    WALL = "wall"  # a free grid of cards


class WhoMayAdd(enum.StrEnum):
    EVERYONE = "everyone"
    TEACHERS = "teachers"


class ReactionKind(enum.StrEnum):
    # Stored now, used when reactions come (issue 13).
    NONE = "none"
    LIKE = "like"
    VOTE = "vote"
    STAR = "star"


# A fixed palette: colours are keys that the style sheet maps to colours with enough contrast
# for dark text, never colours a user types.
COLOURS = ("white", "yellow", "green", "blue", "pink", "orange", "purple", "grey")

TITLE_LIMIT = 120
DESCRIPTION_LIMIT = 2000
COLUMN_TITLE_LIMIT = 80
CARD_TITLE_LIMIT = 200
CARD_BODY_LIMIT = 4000
LINK_LIMIT = 500


class Board(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    # A team's board is seen by that team's pupils and the teachers only. No cascade: when the
    # teams are formed anew, boards.operations.keep_boards_of_replaced_teams first turns the
    # old teams' boards into history (a delete that finds a board still pointing fails).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    # Set on a board of a team that was replaced: only the teachers see it, until one of them
    # gives it to the whole exchange or to a new team.
    former_team_name: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(TITLE_LIMIT))
    description: Mapped[str] = mapped_column(Text, default="")
    layout: Mapped[BoardLayout] = mapped_column(enum_column(BoardLayout, "board_layout"))
    background: Mapped[str] = mapped_column(String(20), default="white")
    who_may_add: Mapped[WhoMayAdd] = mapped_column(enum_column(WhoMayAdd, "board_who_may_add"))
    reaction_kind: Mapped[ReactionKind] = mapped_column(enum_column(ReactionKind, "board_reaction_kind"))
    position: Mapped[float] = mapped_column(Float, default=0.0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    created_by: Mapped[User] = relationship()


class BoardColumn(db.Model):
    __tablename__ = "board_column"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(COLUMN_TITLE_LIMIT))
    position: Mapped[float] = mapped_column(Float)


class Card(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    # Null on a wall; on a shelf, the column the card is in.
    column_id: Mapped[int | None] = mapped_column(ForeignKey("board_column.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(CARD_TITLE_LIMIT), default="")
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # cleaned (app/core/sanitize.py)
    link_url: Mapped[str | None] = mapped_column(String(LINK_LIMIT))
    colour: Mapped[str] = mapped_column(String(20), default="white")
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id", ondelete="SET NULL"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    position: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # A deleted card keeps its row (a tombstone) for moderation and, later, history and replay.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[User] = relationship()
    upload: Mapped[Upload | None] = relationship()

    __table_args__ = (Index("ix_card_board_position", "board_id", "position"),)
