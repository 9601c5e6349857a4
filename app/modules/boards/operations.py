"""Creating and changing boards, columns and cards. Each operation checks what it may do,
flushes and leaves the commit to the caller; an error raised half-way is rolled back by
the caller, so nothing is half-written (a card whose file was refused is not kept)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth.models import User
from app.core import signals
from app.core.db import utcnow
from app.core.errors import InvalidInput, PermissionDenied
from app.core.sanitize import render_markdown
from app.extensions import db
from app.modules.boards.models import (
    CARD_BODY_LIMIT,
    CARD_TITLE_LIMIT,
    COLOURS,
    COLUMN_TITLE_LIMIT,
    DESCRIPTION_LIMIT,
    LINK_LIMIT,
    TITLE_LIMIT,
    Board,
    BoardColumn,
    BoardLayout,
    Card,
    ReactionKind,
    WhoMayAdd,
)
from app.modules.boards.queries import BoardAccess, columns_of
from app.modules.projects.links import is_http_link
from app.modules.projects.models import Project, Team
from app.modules.projects.queries import require_open
from app.modules.uploads.operations import save_upload

UPLOAD_OWNER_KIND = "board_card"
MAX_COLUMNS = 20


def position_between(before: float | None, after: float | None) -> float:
    """A position between two neighbours (None: no neighbour on that side); nothing else moves."""
    if before is None and after is None:
        return 1.0
    if before is None:
        return after - 1.0
    if after is None:
        return before + 1.0
    return (before + after) / 2.0


def require_manager(access: BoardAccess) -> None:
    require_open(access.project)
    if not access.is_teacher:
        raise PermissionDenied(_("Only the teachers of this exchange can do this."))


def _text(value: str | None, limit: int, field: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("Please fill this in."), field=field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(limit)d characters.", limit=limit), field=field)
    return value


def _colour(value: str | None, field: str) -> str:
    if value not in COLOURS:
        raise InvalidInput(_("Please choose one of the colours offered."), field=field)
    return value


# ---- boards ---------------------------------------------------------------------------------


def _board_fields(access: BoardAccess, fields: dict) -> dict:
    team_id = fields.get("team_id") or None
    if team_id is not None:
        team = db.session.get(Team, team_id)
        if team is None or team.project_id != access.project.id:
            raise InvalidInput(_("Please choose one of the teams of this exchange."), field="team_id")
    return {
        "title": _text(fields.get("title"), TITLE_LIMIT, "title", required=True),
        "description": _text(fields.get("description"), DESCRIPTION_LIMIT, "description"),
        "layout": BoardLayout(fields["layout"]),
        "background": _colour(fields.get("background"), "background"),
        "who_may_add": WhoMayAdd(fields["who_may_add"]),
        "reaction_kind": ReactionKind(fields.get("reaction_kind") or ReactionKind.NONE),
        "team_id": team_id,
    }


def create_board(access: BoardAccess, user: User, first_column: str, **fields) -> Board:
    require_manager(access)
    values = _board_fields(access, fields)
    last = db.session.scalar(select(func.max(Board.position)).where(Board.project_id == access.project.id))
    board = Board(project_id=access.project.id, created_by_id=user.id, position=position_between(last, None), **values)
    db.session.add(board)
    db.session.flush()
    if board.layout == BoardLayout.SHELF:
        # A shelf without a column could hold no card; the first one is named by the teacher.
        title = _text(first_column, COLUMN_TITLE_LIMIT, "first_column") or _("Ideas")
        db.session.add(BoardColumn(board_id=board.id, title=title, position=position_between(None, None)))
        db.session.flush()
    return board


def update_board(access: BoardAccess, **fields) -> Board:
    require_manager(access)
    values = _board_fields(access, fields)
    board = access.board
    for name, value in values.items():
        setattr(board, name, value)
    board.former_team_name = None  # a teacher chose who sees it now
    if board.layout == BoardLayout.SHELF and not columns_of(board):
        db.session.add(BoardColumn(board_id=board.id, title=_("Ideas"), position=position_between(None, None)))
    db.session.flush()
    return board


# ---- columns --------------------------------------------------------------------------------


def add_column(access: BoardAccess, title: str) -> BoardColumn:
    require_manager(access)
    title = _text(title, COLUMN_TITLE_LIMIT, "title", required=True)
    columns = columns_of(access.board)
    if len(columns) >= MAX_COLUMNS:
        raise InvalidInput(_("A board has at most %(count)d columns.", count=MAX_COLUMNS), field="title")
    column = BoardColumn(
        board_id=access.board.id,
        title=title,
        position=position_between(columns[-1].position if columns else None, None),
    )
    db.session.add(column)
    db.session.flush()
    return column


def rename_column(access: BoardAccess, column_id: int, title: str) -> BoardColumn:
    require_manager(access)
    column = _column_of(access, column_id)
    column.title = _text(title, COLUMN_TITLE_LIMIT, "title", required=True)
    db.session.flush()
    return column


def _column_of(access: BoardAccess, column_id: int | None) -> BoardColumn:
    column = db.session.get(BoardColumn, column_id) if column_id else None
    if column is None or column.board_id != access.board.id:
        raise InvalidInput(_("Please choose one of the columns of this board."), field="column_id")
    return column


# ---- cards ----------------------------------------------------------------------------------


def _card_fields(access: BoardAccess, fields: dict) -> dict:
    link = (fields.get("link_url") or "").strip()
    if len(link) > LINK_LIMIT:
        raise InvalidInput(_("At most %(limit)d characters.", limit=LINK_LIMIT), field="link_url")
    if link and not is_http_link(link):
        raise InvalidInput(_("Please enter a web address starting with https:// or http://."), field="link_url")
    body = _text(fields.get("body"), CARD_BODY_LIMIT, "body")
    column_id = None
    if access.board.layout == BoardLayout.SHELF:
        column_id = _column_of(access, fields.get("column_id")).id
    return {
        "title": _text(fields.get("title"), CARD_TITLE_LIMIT, "title"),
        "body_source": body,
        "body_html": render_markdown(body) if body else "",
        "link_url": link or None,
        "colour": _colour(fields.get("colour"), "colour"),
        "column_id": column_id,
    }


def require_card_writer(access: BoardAccess) -> None:
    require_open(access.project)
    if not access.may_write:
        raise PermissionDenied(_("You can read this board but not add to it."))
    if not access.may_add_cards:
        raise PermissionDenied(_("Only the teachers of this exchange can add cards to this board."))


def add_card(access: BoardAccess, user: User, file=None, **fields) -> Card:
    require_card_writer(access)
    values = _card_fields(access, fields)
    has_file = file is not None and bool(getattr(file, "filename", ""))
    if not (values["title"] or values["body_source"] or values["link_url"] or has_file):
        raise InvalidInput(_("A card needs a title, a text, a link or a file."))
    last = db.session.scalar(
        select(func.max(Card.position)).where(Card.board_id == access.board.id, Card.column_id == values["column_id"])
        if values["column_id"] is not None
        else select(func.max(Card.position)).where(Card.board_id == access.board.id)
    )
    card = Card(board_id=access.board.id, author_id=user.id, position=position_between(last, None), **values)
    db.session.add(card)
    db.session.flush()
    if has_file:
        upload = save_upload(
            file, owner_kind=UPLOAD_OWNER_KIND, owner_id=card.id, project=access.project, uploader=user
        )
        card.upload_id = upload.id
        db.session.flush()
    return card


def update_card(access: BoardAccess, card: Card, **fields) -> Card:
    require_open(access.project)
    if not access.may_change(card):
        raise PermissionDenied(_("Only its author and the teachers can change this card."))
    values = _card_fields(access, fields)
    if not (values["title"] or values["body_source"] or values["link_url"] or card.upload_id):
        raise InvalidInput(_("A card needs a title, a text, a link or a file."))
    if values["column_id"] != card.column_id and values["column_id"] is not None:
        # Moved to another column: it goes to the end there.
        last = db.session.scalar(
            select(func.max(Card.position)).where(Card.board_id == card.board_id, Card.column_id == values["column_id"])
        )
        card.position = position_between(last, None)
    for name, value in values.items():
        setattr(card, name, value)
    db.session.flush()
    return card


def delete_card(access: BoardAccess, card: Card) -> None:
    """Leaves a tombstone: the row stays, marked deleted, and the card leaves the board. Its
    file stays stored (moderation may need it) but nobody may read it any more."""
    require_open(access.project)
    if not access.may_change(card):
        raise PermissionDenied(_("Only its author and the teachers can delete this card."))
    card.deleted_at = utcnow()
    db.session.flush()


@signals.teams_replacing.connect
def keep_boards_of_replaced_teams(project: Project, team_ids=(), **_details) -> None:
    """The boards of teams about to be replaced become history that only the teachers see,
    as chat does with team channels: what pupils made stays, and a new team (which SQLite may
    give an old team's id) never finds another team's board."""
    if not team_ids:
        return
    boards = db.session.scalars(
        select(Board).where(Board.project_id == project.id, Board.team_id.in_(list(team_ids)))
    ).all()
    names = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(list(team_ids)))).all())
    for board in boards:
        board.former_team_name = names.get(board.team_id, "")
        board.team_id = None
    db.session.flush()
