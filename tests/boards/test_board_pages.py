"""Board pages: who may see and change what, bad input, cleaning, tombstones and files."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.modules.boards.models import Board, BoardColumn, Card
from app.modules.boards.operations import position_between
from app.modules.projects.models import ProjectMember, ProjectRole, ProjectStatus
from app.modules.projects.operations import generate_teams
from app.modules.projects.teams import TeamMode
from app.modules.uploads.models import Upload
from tests.boards.conftest import board_of, png_file, team_with
from tests.conftest import csrf_token, log_in
from tests.projects.conftest import build_exchange, plain_text


def boards_path(exchange) -> str:
    return f"{exchange.path}/boards"


def board_path(exchange, board) -> str:
    return f"{exchange.path}/boards/{board.id}"


def post(client, path, data, page, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data}, **kwargs)


def add_card(client, exchange, board, **fields):
    column = db.session.scalar(select(BoardColumn.id).where(BoardColumn.board_id == board.id))
    data = {"title": "", "body": "", "link_url": "", "colour": "yellow", "column_id": column, **fields}
    return post(
        client,
        f"{board_path(exchange, board)}/cards/new",
        data,
        board_path(exchange, board),
        content_type="multipart/form-data",
    )


def card_count() -> int:
    return db.session.scalar(select(func.count(Card.id)))


def switch(client, user) -> None:
    """Another person at the keyboard: a fresh browser session, then user logs in."""
    client._cookies.clear()
    log_in(client, user)


def outsider(make):
    """A pupil of another exchange."""
    other = build_exchange(make, porto_pupils=1, helsinki_pupils=0)
    return other.porto_pupils[0]


def with_role(make, exchange, role):
    person = make.user(Role.TEACHER)
    db.session.add(ProjectMember(project_id=exchange.project.id, user_id=person.id, role=role))
    db.session.commit()
    return person


# ---- who may see ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_on_every_route(client, exchange):
    board = board_of(exchange)
    base = board_path(exchange, board)
    for path in (boards_path(exchange), f"{boards_path(exchange)}/new", base, f"{base}/edit", f"{base}/cards/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for path in (f"{base}/columns", f"{base}/cards/1/delete", f"{base}/columns/1/rename"):
        response = client.post(path, data={"csrf_token": csrf_token(client)})
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_the_empty_list_tells_teachers_how_to_start_and_pupils_who_starts(client, exchange):
    log_in(client, exchange.porto.teacher)
    page = client.get(boards_path(exchange))
    assert page.status_code == 200
    assert "There are no boards in this exchange yet." in plain_text(page)
    assert "New board" in plain_text(page)
    # The exchange's navigation leads here.
    assert f'href="{boards_path(exchange)}"' in client.get(exchange.path).get_data(as_text=True)

    switch(client, exchange.porto_pupils[0])
    text = plain_text(client.get(boards_path(exchange)))
    assert "There are no boards in this exchange yet." in text and "New board" not in text
    assert client.get(f"{boards_path(exchange)}/new").status_code == 403


def test_a_pupil_of_another_exchange_sees_nothing(client, make, exchange):
    board = board_of(exchange)
    stranger = outsider(make)
    log_in(client, stranger)
    assert client.get(boards_path(exchange)).status_code == 403
    assert client.get(board_path(exchange, board)).status_code == 403
    assert client.get(f"{board_path(exchange, board)}/cards/new").status_code == 403
    assert add_card(client, exchange, board, title="Intruder").status_code == 403
    assert card_count() == 0


def test_a_board_is_found_only_under_its_own_exchange(client, make, exchange):
    other = build_exchange(make, porto_pupils=1, helsinki_pupils=0)
    theirs = board_of(other)
    log_in(client, exchange.porto.teacher)
    assert client.get(f"{exchange.path}/boards/{theirs.id}").status_code == 404


def test_team_boards_are_for_the_team_and_the_teachers(client, make, exchange):
    ana, other_ana = exchange.porto_pupils
    aino = exchange.helsinki_pupils[0]
    team = team_with(exchange, ana, aino)
    board = board_of(exchange, title="Our team's glossary", team_id=team.id)
    mentor = with_role(make, exchange, ProjectRole.GUEST_MENTOR)

    for member in (ana, aino, exchange.porto.teacher, exchange.helsinki.teacher):
        switch(client, member)
        assert "Our team's glossary" in plain_text(client.get(boards_path(exchange)))
        assert client.get(board_path(exchange, board)).status_code == 200
    for not_member in (other_ana, mentor):
        switch(client, not_member)
        assert "Our team's glossary" not in plain_text(client.get(boards_path(exchange)))
        assert client.get(board_path(exchange, board)).status_code == 404
        assert add_card(client, exchange, board, title="Not mine").status_code == 404
    assert card_count() == 0


def test_a_visitor_reads_but_does_not_add(client, make, exchange):
    board = board_of(exchange)
    visitor = with_role(make, exchange, ProjectRole.VISITOR)
    log_in(client, visitor)
    page = client.get(board_path(exchange, board))
    assert page.status_code == 200 and "Add a card" not in plain_text(page)
    assert client.get(f"{board_path(exchange, board)}/cards/new").status_code == 403
    assert add_card(client, exchange, board, title="Hello from a parent").status_code == 403
    assert card_count() == 0


# ---- boards and columns -------------------------------------------------------------------------


def test_a_teacher_of_either_school_creates_a_board_and_a_pupil_may_not(client, exchange):
    log_in(client, exchange.helsinki.teacher)
    form = {
        "title": "Questions for our hosts",
        "description": "Ask away",
        "team_id": "0",
        "layout": "shelf",
        "first_column": "Food",
        "background": "blue",
        "who_may_add": "everyone",
        "reaction_kind": "vote",
    }
    response = post(client, f"{boards_path(exchange)}/new", form, f"{boards_path(exchange)}/new")
    assert response.status_code == 302
    board = db.session.scalar(select(Board))
    assert (board.title, board.background, board.reaction_kind.value) == ("Questions for our hosts", "blue", "vote")
    assert [c.title for c in db.session.scalars(select(BoardColumn))] == ["Food"]

    bad = post(
        client, f"{boards_path(exchange)}/new", {**form, "title": "", "background": "#ff0000"}, boards_path(exchange)
    )
    assert bad.status_code == 400 and db.session.scalar(select(func.count(Board.id))) == 1

    switch(client, exchange.porto_pupils[0])
    response = post(client, f"{boards_path(exchange)}/new", {**form, "title": "Mine"}, boards_path(exchange))
    assert response.status_code == 403
    assert (
        post(
            client, f"{board_path(exchange, board)}/edit", {**form, "title": "Taken"}, boards_path(exchange)
        ).status_code
        == 403
    )
    assert (
        post(client, f"{board_path(exchange, board)}/columns", {"title": "Mine"}, boards_path(exchange)).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Board.id))) == 1 and board.title == "Questions for our hosts"
    assert db.session.scalar(select(func.count(BoardColumn.id))) == 1


def test_teachers_add_and_rename_columns_without_renumbering(client, exchange):
    board = board_of(exchange)
    log_in(client, exchange.porto.teacher)
    for title in ("Tools", "Recipes"):
        assert (
            post(
                client, f"{board_path(exchange, board)}/columns", {"title": title}, board_path(exchange, board)
            ).status_code
            == 302
        )
    columns = db.session.scalars(select(BoardColumn).order_by(BoardColumn.position)).all()
    assert [c.title for c in columns] == ["Hello", "Tools", "Recipes"]
    assert [c.position for c in columns] == [1.0, 2.0, 3.0]
    tools = columns[1]
    post(
        client,
        f"{board_path(exchange, board)}/columns/{tools.id}/rename",
        {"title": "Knives"},
        board_path(exchange, board),
    )
    db.session.expire_all()
    assert tools.title == "Knives" and tools.position == 2.0
    text = plain_text(client.get(board_path(exchange, board)))
    assert text.index("Hello") < text.index("Knives") < text.index("Recipes")
    empty = post(client, f"{board_path(exchange, board)}/columns", {"title": " "}, board_path(exchange, board))
    assert empty.status_code == 302 and db.session.scalar(select(func.count(BoardColumn.id))) == 3


def test_a_teacher_edits_a_board_and_a_pupil_may_not_rename_its_columns(client, exchange):
    board = board_of(exchange)
    column = db.session.scalar(select(BoardColumn).where(BoardColumn.board_id == board.id))
    log_in(client, exchange.porto.teacher)
    form = {
        "title": "Meet both classes",
        "description": "Who we are",
        "team_id": "0",
        "layout": "wall",
        "background": "green",
        "who_may_add": "teachers",
        "reaction_kind": "like",
    }
    edited = post(client, f"{board_path(exchange, board)}/edit", form, f"{board_path(exchange, board)}/edit")
    assert edited.status_code == 302
    db.session.expire_all()
    assert (board.title, board.description, board.layout.value, board.background) == (
        "Meet both classes",
        "Who we are",
        "wall",
        "green",
    )
    assert (board.who_may_add.value, board.reaction_kind.value) == ("teachers", "like")

    switch(client, exchange.porto_pupils[0])
    refused = post(
        client,
        f"{board_path(exchange, board)}/columns/{column.id}/rename",
        {"title": "Ours now"},
        board_path(exchange, board),
    )
    assert refused.status_code == 403
    db.session.expire_all()
    assert column.title == "Hello"


def test_a_position_between_two_neighbours_is_their_midpoint():
    assert position_between(None, None) == 1.0
    assert position_between(2.0, None) == 3.0
    assert position_between(None, 2.0) == 1.0
    assert position_between(1.0, 2.0) == 1.5
    assert 1.0 < position_between(1.0, 1.5) < 1.5


# ---- cards --------------------------------------------------------------------------------------


def test_a_pupil_adds_a_card_with_clean_markdown_and_a_link_shown_by_its_host(client, exchange):
    board = board_of(exchange)
    log_in(client, exchange.porto_pupils[0])
    response = add_card(
        client,
        exchange,
        board,
        title="Our kitchen",
        body="We cook **bacalhau** <script>alert('x')</script> [site](javascript:alert(1))",
        link_url="https://www.example.org/receitas/bacalhau",
    )
    assert response.status_code == 302
    card = db.session.scalar(select(Card))
    assert "<strong>bacalhau</strong>" in card.body_html
    assert "<script" not in card.body_html and 'href="javascript' not in card.body_html
    html = client.get(board_path(exchange, board)).get_data(as_text=True)
    assert "<strong>bacalhau</strong>" in html and "<script>alert" not in html
    assert 'href="https://www.example.org/receitas/bacalhau"' in html
    assert re.search(r'class="board-card-host">example\.org<', html)
    assert "Ana 0" in html  # the author, by her own name to herself


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "ftp://example.org/x", "https://", "https://exa mple.org", "https://x.org/" + "a" * 500],
)
def test_a_link_that_is_not_a_web_address_is_refused_and_nothing_is_written(client, exchange, link):
    board = board_of(exchange)
    log_in(client, exchange.porto_pupils[0])
    response = add_card(client, exchange, board, title="Link", link_url=link)
    assert response.status_code == 400
    assert "web address" in plain_text(response) or "At most 500 characters" in plain_text(response)
    assert card_count() == 0


def test_an_empty_card_or_a_foreign_column_is_refused(client, make, exchange):
    board = board_of(exchange)
    other = board_of(exchange, title="Other")
    foreign_column = db.session.scalar(select(BoardColumn.id).where(BoardColumn.board_id == other.id))
    log_in(client, exchange.porto_pupils[0])
    empty = add_card(client, exchange, board)
    assert empty.status_code == 400 and "A card needs a title, a text, a link or a file." in plain_text(empty)
    assert add_card(client, exchange, board, title="Wrong place", column_id=foreign_column).status_code == 400
    assert add_card(client, exchange, board, title="x" * 201).status_code == 400
    assert card_count() == 0


def test_a_teachers_only_board_refuses_pupils_with_a_clear_message(client, exchange):
    board = board_of(exchange, who_may_add="teachers")
    log_in(client, exchange.porto_pupils[0])
    page = client.get(board_path(exchange, board))
    assert "Only the teachers of this exchange can add cards to this board." in plain_text(page)
    refused = client.get(f"{board_path(exchange, board)}/cards/new")
    assert refused.status_code == 403
    assert "Only the teachers of this exchange can add cards to this board." in plain_text(refused)
    assert add_card(client, exchange, board, title="Me too").status_code == 403
    switch(client, exchange.helsinki.teacher)
    assert add_card(client, exchange, board, title="Safety first").status_code == 302
    assert card_count() == 1


def test_a_closed_exchange_is_read_only(client, exchange):
    board = board_of(exchange)
    log_in(client, exchange.porto_pupils[0])
    assert add_card(client, exchange, board, title="Before").status_code == 302
    card = db.session.scalar(select(Card))
    exchange.project.status = ProjectStatus.CLOSED
    db.session.commit()
    page = client.get(board_path(exchange, board))
    assert page.status_code == 200 and "Before" in plain_text(page)
    assert "Add a card" not in plain_text(page) and "Delete" not in plain_text(page)
    assert add_card(client, exchange, board, title="After").status_code == 409
    base = f"{board_path(exchange, board)}/cards/{card.id}"
    assert post(client, f"{base}/delete", {}, board_path(exchange, board)).status_code == 409
    switch(client, exchange.porto.teacher)
    assert client.get(f"{boards_path(exchange)}/new").status_code == 409
    assert (
        post(client, f"{board_path(exchange, board)}/columns", {"title": "Late"}, boards_path(exchange)).status_code
        == 409
    )
    db.session.expire_all()
    assert card_count() == 1 and card.deleted_at is None


def test_authors_change_their_own_cards_and_teachers_any(client, exchange):
    board = board_of(exchange)
    ana, other_ana = exchange.porto_pupils
    log_in(client, ana)
    add_card(client, exchange, board, title="Mine", body="first")
    card = db.session.scalar(select(Card))
    edit = f"{board_path(exchange, board)}/cards/{card.id}/edit"
    form = {
        "title": "Mine, changed",
        "body": "*second*",
        "link_url": "",
        "colour": "green",
        "column_id": card.column_id,
    }
    assert post(client, edit, form, edit).status_code == 302
    db.session.expire_all()
    assert (card.title, card.body_html, card.colour) == ("Mine, changed", "<p><em>second</em></p>", "green")

    switch(client, other_ana)
    assert client.get(edit).status_code == 403
    assert post(client, edit, {**form, "title": "Hijacked"}, board_path(exchange, board)).status_code == 403
    assert (
        post(
            client, f"{board_path(exchange, board)}/cards/{card.id}/delete", {}, board_path(exchange, board)
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert card.title == "Mine, changed" and card.deleted_at is None

    switch(client, exchange.helsinki.teacher)
    assert post(client, edit, {**form, "title": "Checked by the teacher"}, edit).status_code == 302


def test_deleting_leaves_a_tombstone_and_the_card_leaves_the_page(client, exchange):
    board = board_of(exchange)
    log_in(client, exchange.porto_pupils[0])
    add_card(client, exchange, board, title="Soon gone")
    card = db.session.scalar(select(Card))
    response = post(client, f"{board_path(exchange, board)}/cards/{card.id}/delete", {}, board_path(exchange, board))
    assert response.status_code == 302
    db.session.expire_all()
    assert card_count() == 1 and card.deleted_at is not None
    assert "Soon gone" not in plain_text(client.get(board_path(exchange, board)))
    assert client.get(f"{board_path(exchange, board)}/cards/{card.id}/edit").status_code == 404


def test_pupils_names_follow_the_names_rule(client, exchange):
    board = board_of(exchange)
    ana = exchange.porto_pupils[0]
    log_in(client, ana)
    add_card(client, exchange, board, title="Olá")
    switch(client, exchange.porto.teacher)
    text = plain_text(client.get(board_path(exchange, board)))
    assert ana.display_name in text
    switch(client, exchange.helsinki.teacher)
    text = plain_text(client.get(board_path(exchange, board)))
    assert ana.display_name not in text and ana.username in text


def test_the_time_of_a_card_is_in_the_readers_zone(client, exchange):
    board = board_of(exchange)
    log_in(client, exchange.porto_pupils[0])
    add_card(client, exchange, board, title="Olá")
    porto_time = re.search(
        r"<time [^>]*>([^<]+)</time>", client.get(board_path(exchange, board)).get_data(as_text=True)
    )
    switch(client, exchange.helsinki.teacher)
    helsinki_time = re.search(
        r"<time [^>]*>([^<]+)</time>", client.get(board_path(exchange, board)).get_data(as_text=True)
    )
    assert porto_time.group(1).endswith("WET") and helsinki_time.group(1).endswith("EET")


# ---- files ----------------------------------------------------------------------------------------


def test_a_card_with_a_picture_shows_its_thumbnail_to_board_members_only(client, make, exchange, store):
    ana, other_ana = exchange.porto_pupils
    aino = exchange.helsinki_pupils[0]
    team = team_with(exchange, ana, aino)
    board = board_of(exchange, team_id=team.id)
    log_in(client, ana)
    assert add_card(client, exchange, board, title="Our workshop", file=png_file()).status_code == 302
    card = db.session.scalar(select(Card))
    upload = db.session.get(Upload, card.upload_id)
    assert (upload.owner_kind, upload.owner_id, upload.project_id) == ("board_card", card.id, exchange.project.id)
    html = client.get(board_path(exchange, board)).get_data(as_text=True)
    assert f'src="/uploads/{upload.token}/thumb"' in html

    for reader in (aino, exchange.helsinki.teacher):
        switch(client, reader)
        assert client.get(f"/uploads/{upload.token}/thumb", buffered=True).status_code == 200
        assert client.get(f"/uploads/{upload.token}", buffered=True).status_code == 200
    for stranger in (other_ana, outsider(make)):  # not in the team; not in the exchange
        switch(client, stranger)
        assert client.get(f"/uploads/{upload.token}/thumb").status_code == 404
        assert client.get(f"/uploads/{upload.token}").status_code == 404

    switch(client, ana)
    post(client, f"{board_path(exchange, board)}/cards/{card.id}/delete", {}, board_path(exchange, board))
    assert client.get(f"/uploads/{upload.token}/thumb").status_code == 404


def test_a_refused_file_keeps_no_card(client, exchange, store):
    board = board_of(exchange)
    log_in(client, exchange.porto_pupils[0])
    response = add_card(client, exchange, board, title="Program", file=(io.BytesIO(b"MZ\x90\x00binary"), "photo.png"))
    assert response.status_code == 400 and "This kind of file cannot be uploaded." in plain_text(response)
    assert card_count() == 0 and db.session.scalar(select(func.count(Upload.id))) == 0


def test_a_wall_board_takes_cards_without_columns_in_a_grid(client, exchange):
    board = board_of(exchange, layout="wall")
    assert db.session.scalar(select(func.count(BoardColumn.id))) == 0
    log_in(client, exchange.helsinki_pupils[0])
    form_page = client.get(f"{board_path(exchange, board)}/cards/new")
    assert form_page.status_code == 200 and 'name="column_id"' not in form_page.get_data(as_text=True)
    new = f"{board_path(exchange, board)}/cards/new"
    for title in ("Sauna", "Sisu"):
        data = {"title": title, "body": "", "link_url": "", "colour": "blue"}
        assert post(client, new, data, new, content_type="multipart/form-data").status_code == 302
    cards = db.session.scalars(select(Card).order_by(Card.position)).all()
    assert [(c.title, c.column_id, c.position) for c in cards] == [("Sauna", None, 1.0), ("Sisu", None, 2.0)]
    html = client.get(board_path(exchange, board)).get_data(as_text=True)
    assert 'class="board-wall"' in html and html.index("Sauna") < html.index("Sisu")


def test_forming_teams_anew_keeps_a_team_board_for_the_teachers_only(client, exchange):
    ana = exchange.porto_pupils[0]
    team = team_with(exchange, ana, exchange.helsinki_pupils[0])
    board = board_of(exchange, title="Our team's glossary", team_id=team.id)
    log_in(client, ana)
    add_card(client, exchange, board, title="faca = veitsi")

    generate_teams(exchange.project, exchange.porto.teacher, team_size=2, mode=TeamMode.MIXED)
    db.session.commit()
    db.session.expire_all()
    assert (board.team_id, board.former_team_name) == (None, "Team Sardinha")
    assert card_count() == 1
    # The new teams (SQLite may hand them the old team's id) do not get the old board.
    assert client.get(board_path(exchange, board)).status_code == 404
    assert "Our team's glossary" not in plain_text(client.get(boards_path(exchange)))
    switch(client, exchange.helsinki.teacher)
    page = plain_text(client.get(board_path(exchange, board)))
    assert "faca = veitsi" in page and "Board of a former team (Team Sardinha)" in page
