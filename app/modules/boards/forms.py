"""Forms of boards: lengths and choices are checked here for the page's sake and again by
the operations, which are the rule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.modules.boards.models import (
    CARD_BODY_LIMIT,
    CARD_TITLE_LIMIT,
    COLUMN_TITLE_LIMIT,
    DESCRIPTION_LIMIT,
    LINK_LIMIT,
    TITLE_LIMIT,
    BoardLayout,
    ReactionKind,
    WhoMayAdd,
)
from app.modules.projects.forms import strip_text

COLOUR_LABELS = {
    "white": _l("White"),
    "yellow": _l("Yellow"),
    "green": _l("Green"),
    "blue": _l("Blue"),
    "pink": _l("Pink"),
    "orange": _l("Orange"),
    "purple": _l("Purple"),
    "grey": _l("Grey"),
}


def _colour_choices():
    return [SelectChoice(key, label) for key, label in COLOUR_LABELS.items()]


class BoardForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_LIMIT)], filters=[strip_text])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_LIMIT)], filters=[strip_text]
    )
    team_id = SelectField(_l("For whom"), coerce=int, default=0)
    layout = RadioField(
        _l("Layout"),
        choices=[
            SelectChoice(BoardLayout.SHELF.value, _l("Columns (shelf)")),
            SelectChoice(BoardLayout.WALL.value, _l("Free grid (wall)")),
        ],
        default=BoardLayout.SHELF.value,
    )
    first_column = StringField(
        _l("Name of the first column"),
        description=_l("For a board with columns; you can add more columns on the board."),
        validators=[Optional(), Length(max=COLUMN_TITLE_LIMIT)],
        filters=[strip_text],
    )
    background = SelectField(_l("Background colour"), choices=_colour_choices, default="white")
    who_may_add = RadioField(
        _l("Who may add cards"),
        choices=[
            SelectChoice(WhoMayAdd.EVERYONE.value, _l("Everyone in the exchange")),
            SelectChoice(WhoMayAdd.TEACHERS.value, _l("Teachers only")),
        ],
        default=WhoMayAdd.EVERYONE.value,
    )
    reaction_kind = SelectField(
        _l("Reactions"),
        description=_l("Reactions come in a later version; the choice is kept."),
        choices=[
            SelectChoice(ReactionKind.NONE.value, _l("None")),
            SelectChoice(ReactionKind.LIKE.value, _l("Like")),
            SelectChoice(ReactionKind.VOTE.value, _l("Vote")),
            SelectChoice(ReactionKind.STAR.value, _l("Stars (1 to 5)")),
        ],
        default=ReactionKind.NONE.value,
    )

    def set_teams(self, teams) -> None:
        self.team_id.choices = [SelectChoice(0, _l("The whole exchange"))] + [
            SelectChoice(team.id, team.name) for team in teams
        ]


class ColumnForm(FlaskForm):
    title = StringField(
        _l("Column name"), validators=[DataRequired(), Length(max=COLUMN_TITLE_LIMIT)], filters=[strip_text]
    )


class CardForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=CARD_TITLE_LIMIT)], filters=[strip_text])
    body = TextAreaField(
        _l("Text"),
        description=_l("You can use **bold**, *italic*, lists and links."),
        validators=[Optional(), Length(max=CARD_BODY_LIMIT)],
        filters=[strip_text],
    )
    link_url = StringField(
        _l("Link"),
        description=_l("A web address starting with https://"),
        validators=[Optional(), Length(max=LINK_LIMIT)],
        filters=[strip_text],
    )
    column_id = SelectField(_l("Column"), coerce=int)
    colour = SelectField(_l("Colour"), choices=_colour_choices, default="white")
    file = FileField(_l("Picture or file"), description=_l("A photo, a PDF or an office document."))

    def set_columns(self, columns) -> None:
        self.column_id.choices = [SelectChoice(column.id, column.title) for column in columns]
