"""Routes of boards, as one flat list."""

from flask import Blueprint

from app.modules.boards import controllers as c
from app.modules.boards.operations import UPLOAD_OWNER_KIND
from app.modules.boards.queries import may_read_card_upload
from app.modules.uploads.queries import register_owner_kind

bp = Blueprint("boards", __name__)

# A card's file is read by whoever may see the card's board (app/modules/uploads).
register_owner_kind(UPLOAD_OWNER_KIND, may_read_card_upload)


@bp.app_context_processor
def _boards_link() -> dict:
    # The exchange's navigation (projects/_nav.html) shows a Boards link once this module is
    # registered; projects must not import boards.
    return {"has_boards": True}


_board = "/exchanges/<int:project_id>/boards/<int:board_id>"
bp.add_url_rule("/exchanges/<int:project_id>/boards", "index", c.index)
bp.add_url_rule("/exchanges/<int:project_id>/boards/new", "new_board", c.new_board, methods=["GET", "POST"])
bp.add_url_rule(_board, "board", c.board)
bp.add_url_rule(f"{_board}/edit", "edit_board", c.edit_board, methods=["GET", "POST"])
bp.add_url_rule(f"{_board}/columns", "add_column", c.add_column, methods=["POST"])
bp.add_url_rule(f"{_board}/columns/<int:column_id>/rename", "rename_column", c.rename_column, methods=["POST"])
bp.add_url_rule(f"{_board}/cards/new", "new_card", c.new_card, methods=["GET", "POST"])
bp.add_url_rule(f"{_board}/cards/<int:card_id>/edit", "edit_card", c.edit_card, methods=["GET", "POST"])
bp.add_url_rule(f"{_board}/cards/<int:card_id>/delete", "delete_card", c.delete_card, methods=["POST"])
