"""Who may see and change a board, and what a board page shows.

Every board route goes through board_access(): the exchange must be the user's (403 from
projects.queries otherwise), the board must belong to it and, for a team's board, the user
must be a teacher of the exchange or a pupil of that team (404 otherwise: whether a team has
a board is not for others to learn).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.core.errors import NotFound
from app.extensions import db
from app.modules.boards.models import Board, BoardColumn, Card, WhoMayAdd
from app.modules.projects.models import TEACHER_ROLES, WRITER_ROLES, Project, ProjectRole, Team, TeamMembership
from app.modules.projects.queries import project_role, require_project_role
from app.modules.uploads.models import Upload

# Visitors (parents, coordinators, administrators) read; these roles may also write.


@dataclass
class BoardAccess:
    project: Project
    role: ProjectRole
    user: User
    board: Board | None = None

    @property
    def is_teacher(self) -> bool:
        return self.role in TEACHER_ROLES

    @property
    def may_write(self) -> bool:
        return self.role in WRITER_ROLES and not self.project.is_closed

    @property
    def may_manage(self) -> bool:
        """Create and edit boards, add and rename columns."""
        return self.is_teacher and not self.project.is_closed

    @property
    def may_add_cards(self) -> bool:
        if not self.may_write or self.board is None:
            return False
        return self.board.who_may_add == WhoMayAdd.EVERYONE or self.is_teacher

    def may_change(self, card: Card) -> bool:
        return self.may_write and (self.is_teacher or card.author_id == self.user.id)


def exchange_access(project: Project, user: User) -> BoardAccess:
    return BoardAccess(project, require_project_role(project, user), user)


def team_ids_of(project: Project, user: User) -> set[int]:
    if not user.is_student:
        return set()
    return set(
        db.session.scalars(
            select(TeamMembership.team_id).where(
                TeamMembership.project_id == project.id, TeamMembership.student_id == user.id
            )
        )
    )


def may_see_board(access: BoardAccess, board: Board, own_team_ids: set[int] | None = None) -> bool:
    if board.project_id != access.project.id:
        return False
    if access.is_teacher:
        return True
    if board.team_id is None:
        return board.former_team_name is None  # a replaced team's board: teachers only
    if access.role != ProjectRole.STUDENT:
        return False
    teams = own_team_ids if own_team_ids is not None else team_ids_of(access.project, access.user)
    return board.team_id in teams


def board_access(project: Project, board_id: int, user: User) -> BoardAccess:
    access = exchange_access(project, user)
    board = db.session.get(Board, board_id)
    if board is None or not may_see_board(access, board):
        raise NotFound(_("This board does not exist."))
    access.board = board
    return access


def boards_for(access: BoardAccess) -> list[Board]:
    boards = db.session.scalars(
        select(Board).where(Board.project_id == access.project.id).order_by(Board.position, Board.id)
    ).all()
    own_teams = team_ids_of(access.project, access.user)
    return [board for board in boards if may_see_board(access, board, own_teams)]


def teams_of(project: Project) -> list[Team]:
    return list(db.session.scalars(select(Team).where(Team.project_id == project.id).order_by(Team.position, Team.id)))


def columns_of(board: Board) -> list[BoardColumn]:
    return list(
        db.session.scalars(
            select(BoardColumn).where(BoardColumn.board_id == board.id).order_by(BoardColumn.position, BoardColumn.id)
        )
    )


def cards_of(board: Board) -> list[Card]:
    """The cards shown, in order; deleted ones (tombstones) are left out."""
    return list(
        db.session.scalars(
            select(Card)
            .where(Card.board_id == board.id, Card.deleted_at.is_(None))
            .order_by(Card.position, Card.id)
            .options(selectinload(Card.author), selectinload(Card.upload))
        )
    )


def card_of(access: BoardAccess, card_id: int) -> Card:
    card = db.session.get(Card, card_id)
    if card is None or card.board_id != access.board.id or card.deleted_at is not None:
        raise NotFound(_("This card does not exist."))
    return card


def may_read_card_upload(user: User, upload: Upload) -> bool:
    """Registered for uploads of owner kind "board_card": whoever may see the card's board."""
    card = db.session.get(Card, upload.owner_id) if upload.owner_id is not None else None
    if card is None or card.deleted_at is not None or card.upload_id != upload.id:
        return False
    board = db.session.get(Board, card.board_id)
    project = db.session.get(Project, board.project_id)
    role = project_role(project, user)
    if role is None:
        return False
    return may_see_board(BoardAccess(project, role, user), board)
