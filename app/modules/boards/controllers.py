"""Board pages of an exchange: load, check the access, call an operation, commit once."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.names import viewer_names
from app.core.errors import AppError, attach_error
from app.extensions import db
from app.modules.boards import operations, queries
from app.modules.boards.forms import BoardForm, CardForm, ColumnForm
from app.modules.boards.models import BoardLayout
from app.modules.projects.queries import project_for_user


def _page(template: str, access, status: int = 200, **context):
    return render_template(
        template,
        project=access.project,
        role=access.role,
        access=access,
        has_chat="chat.channel" in current_app.view_functions,  # for the exchange's navigation
        **context,
    ), status


def _access(project_id: int, board_id: int | None = None):
    project = project_for_user(project_id, current_user)
    if board_id is None:
        return queries.exchange_access(project, current_user)
    return queries.board_access(project, board_id, current_user)


def _board_url(access):
    return url_for("boards.board", project_id=access.project.id, board_id=access.board.id)


@login_required
def index(project_id: int):
    access = _access(project_id)
    teams = {team.id: team for team in queries.teams_of(access.project)}
    return _page("boards/list.html", access, boards=queries.boards_for(access), teams=teams)


@login_required
def board(project_id: int, board_id: int):
    access = _access(project_id, board_id)
    columns = queries.columns_of(access.board)
    cards = queries.cards_of(access.board)
    viewer_names().load(card.author for card in cards)  # for |shown_name, in one query
    by_column: dict[int | None, list] = {column.id: [] for column in columns}
    for card in cards:
        by_column.setdefault(card.column_id, []).append(card)
    team = db.session.get(queries.Team, access.board.team_id) if access.board.team_id else None
    return _page(
        "boards/board.html",
        access,
        board=access.board,
        columns=columns,
        cards=cards,
        by_column=by_column,
        team=team,
        is_shelf=access.board.layout == BoardLayout.SHELF,
        link_host=link_host,
    )


def link_host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


@login_required
def new_board(project_id: int):
    access = _access(project_id)
    operations.require_manager(access)
    form = BoardForm()
    form.set_teams(queries.teams_of(access.project))
    if form.validate_on_submit():
        try:
            created = operations.create_board(access, current_user, form.first_column.data, **_board_data(form))
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The board is ready."), "success")
            return redirect(url_for("boards.board", project_id=access.project.id, board_id=created.id))
    return _page("boards/board_form.html", access, 400 if form.is_submitted() else 200, form=form, board=None)


@login_required
def edit_board(project_id: int, board_id: int):
    access = _access(project_id, board_id)
    operations.require_manager(access)
    form = BoardForm(obj=access.board)
    form.set_teams(queries.teams_of(access.project))
    if not form.is_submitted():
        form.team_id.data = access.board.team_id or 0
        form.layout.data = access.board.layout.value
        form.who_may_add.data = access.board.who_may_add.value
        form.reaction_kind.data = access.board.reaction_kind.value
    if form.validate_on_submit():
        try:
            operations.update_board(access, **_board_data(form))
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The board is saved."), "success")
            return redirect(_board_url(access))
    return _page("boards/board_form.html", access, 400 if form.is_submitted() else 200, form=form, board=access.board)


def _board_data(form: BoardForm) -> dict:
    return {
        "title": form.title.data,
        "description": form.description.data,
        "team_id": form.team_id.data or None,
        "layout": form.layout.data,
        "background": form.background.data,
        "who_may_add": form.who_may_add.data,
        "reaction_kind": form.reaction_kind.data,
    }


@login_required
def add_column(project_id: int, board_id: int):
    access = _access(project_id, board_id)
    form = ColumnForm()
    if form.validate_on_submit():
        operations.add_column(access, form.title.data)
        db.session.commit()
        flash(_("The column is added."), "success")
    else:
        operations.require_manager(access)
        flash(_("Please give the column a name of at most 80 characters."), "error")
    return redirect(_board_url(access))


@login_required
def rename_column(project_id: int, board_id: int, column_id: int):
    access = _access(project_id, board_id)
    form = ColumnForm()
    if form.validate_on_submit():
        operations.rename_column(access, column_id, form.title.data)
        db.session.commit()
        flash(_("The column is renamed."), "success")
    else:
        operations.require_manager(access)
        flash(_("Please give the column a name of at most 80 characters."), "error")
    return redirect(_board_url(access))


def _card_form(access, card=None) -> CardForm:
    form = CardForm(obj=card)
    if access.board.layout == BoardLayout.SHELF:
        form.set_columns(queries.columns_of(access.board))
        if not form.is_submitted():
            chosen = request.args.get("column", type=int)
            if card is not None:
                form.column_id.data = card.column_id
            elif chosen in {choice.value for choice in form.column_id.choices}:
                form.column_id.data = chosen
    else:
        del form.column_id
    if card is not None:
        del form.file  # the file of a card is kept as it is; editing changes its words
        if not form.is_submitted():
            form.body.data = card.body_source
    return form


def _card_data(form: CardForm) -> dict:
    return {
        "title": form.title.data,
        "body": form.body.data,
        "link_url": form.link_url.data,
        "colour": form.colour.data,
        "column_id": form.column_id.data if "column_id" in form else None,
    }


@login_required
def new_card(project_id: int, board_id: int):
    access = _access(project_id, board_id)
    if not access.may_add_cards:
        # Said before the form is filled in, not after.
        operations.require_card_writer(access)
    form = _card_form(access)
    if form.validate_on_submit():
        try:
            operations.add_card(access, current_user, file=form.file.data, **_card_data(form))
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Your card is on the board."), "success")
            return redirect(_board_url(access))
    return _page(
        "boards/card_form.html", access, 400 if form.is_submitted() else 200, form=form, board=access.board, card=None
    )


@login_required
def edit_card(project_id: int, board_id: int, card_id: int):
    access = _access(project_id, board_id)
    card = queries.card_of(access, card_id)
    if not access.may_change(card):
        operations.update_card(access, card)  # raises the reason
    form = _card_form(access, card)
    if form.validate_on_submit():
        try:
            operations.update_card(access, card, **_card_data(form))
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The card is saved."), "success")
            return redirect(_board_url(access))
    return _page(
        "boards/card_form.html", access, 400 if form.is_submitted() else 200, form=form, board=access.board, card=card
    )


@login_required
def delete_card(project_id: int, board_id: int, card_id: int):
    # The CSRF token is checked for every POST by CSRFProtect before this runs.
    access = _access(project_id, board_id)
    card = queries.card_of(access, card_id)
    operations.delete_card(access, card)
    db.session.commit()
    flash(_("The card is deleted."), "success")
    return redirect(_board_url(access))
