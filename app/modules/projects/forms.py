"""Forms of exchange projects: the project space, teams, live sessions and attendance."""

from __future__ import annotations

from datetime import time

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.forms import language_choices
from app.auth.operations import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.core.themes import theme_labels
from app.modules.projects.links import has_http_scheme, is_http_link
from app.modules.projects.models import InviteKind
from app.modules.projects.session_operations import DESCRIPTION_LIMIT, MAX_REPEAT_WEEKS, REASON_LIMIT, Scope
from app.modules.projects.setup import MINUTES_PER_DAY, WeeklySlot
from app.modules.projects.teams import MAX_TEAM_SIZE, MIN_TEAM_SIZE, TeamMode

AIMS_LIMIT = 4000
URL_LIMIT = 500


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


SLOT_ROWS = 5


def weekday_choices() -> list[SelectChoice]:
    names = get_day_names("wide", locale=get_locale())  # babel: 0 is Monday, as in the slots
    return [SelectChoice("", _l("No time"))] + [SelectChoice(str(day), names[day]) for day in range(7)]


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _clock(minutes: int) -> time:
    # A slot that runs to midnight ends at 24:00, which a time field cannot show: 23:59 instead.
    return time(23, 59) if minutes >= MINUTES_PER_DAY else time(minutes // 60, minutes % 60)


class ProjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[strip_text])
    aims = TextAreaField(
        _l("Aims"),
        validators=[Optional(), Length(max=AIMS_LIMIT)],
        description=_l("What the pupils should learn and make together."),
        filters=[strip_text],
    )
    languages = MultiCheckboxField(_l("Working languages"), validators=[Optional()])
    period_start = DateField(_l("Starts on"), validators=[Optional()])
    period_end = DateField(_l("Ends on"), validators=[Optional()])
    themes = MultiCheckboxField(_l("Themes"), validators=[Optional()])
    other_themes = StringField(
        _l("Other themes"),
        validators=[Optional(), Length(max=400)],
        description=_l("Your own words, separated by commas."),
        filters=[strip_text],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.choices = language_choices()
        self.themes.choices = [SelectChoice(code, label) for code, label in theme_labels().items()]
        for row in range(1, SLOT_ROWS + 1):
            self[f"slot_{row}_day"].choices = weekday_choices()

    def validate_period_end(self, field):
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(_l("The end cannot be before the start."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for row in range(1, SLOT_ROWS + 1):
            day, start, end = (self[f"slot_{row}_{part}"] for part in ("day", "from", "to"))
            if not day.data and start.data is None and end.data is None:
                continue
            if not day.data or start.data is None or end.data is None:
                day.errors = [*day.errors, _l("Choose a day, a start and an end, or leave the row empty.")]
                valid = False
            elif _minutes(end.data) <= _minutes(start.data):
                end.errors = [*end.errors, _l("The end must be after the start.")]
                valid = False
        return valid

    def fill_from(self, project, slots: list[WeeklySlot]) -> None:
        """Themes of the list as ticks, the others as words; `slots` already in the viewer's time."""
        known = set(theme_labels())
        self.themes.data = [t for t in project.themes if t in known]
        self.other_themes.data = ", ".join(t for t in project.themes if t not in known)
        for row, slot in enumerate(slots[:SLOT_ROWS], start=1):
            self[f"slot_{row}_day"].data = str(slot.weekday)
            self[f"slot_{row}_from"].data = _clock(slot.start)
            self[f"slot_{row}_to"].data = _clock(slot.end)

    def theme_data(self, current: list[str]) -> list[str]:
        """The chosen themes, those kept in their order first (shared themes came first)."""
        chosen = list(self.themes.data or []) + [t.strip() for t in (self.other_themes.data or "").split(",")]
        chosen = [t for t in chosen if t]
        kept = [t for t in current if t in chosen]
        return kept + [t for t in chosen if t not in kept]

    def slot_data(self) -> list[WeeklySlot]:
        slots = []
        for row in range(1, SLOT_ROWS + 1):
            day, start, end = (self[f"slot_{row}_{part}"].data for part in ("day", "from", "to"))
            if day and start is not None and end is not None:
                slots.append(WeeklySlot(int(day), _minutes(start), _minutes(end)))
        return slots


for _row in range(1, SLOT_ROWS + 1):
    setattr(ProjectForm, f"slot_{_row}_day", SelectField(_l("Day"), choices=[], validators=[Optional()]))
    setattr(ProjectForm, f"slot_{_row}_from", TimeField(_l("From"), validators=[Optional()]))
    setattr(ProjectForm, f"slot_{_row}_to", TimeField(_l("To"), validators=[Optional()]))


class GenerateTeamsForm(FlaskForm):
    team_size = IntegerField(
        _l("Pupils per team"),
        validators=[InputRequired(), NumberRange(min=MIN_TEAM_SIZE, max=MAX_TEAM_SIZE)],
        default=4,
        description=_l("About this many; sizes differ by one at most."),
    )
    mode = RadioField(
        _l("When the classes differ in size"),
        choices=[
            SelectChoice(
                TeamMode.MIXED.value,
                _l("Every team mixed: each team gets pupils of at least two schools; teams may be larger."),
            ),
            SelectChoice(
                TeamMode.SIZE_FIRST.value,
                _l("Team size first: teams as close to the size asked as possible; some may be of one school."),
            ),
        ],
        default=TeamMode.MIXED.value,
        # Left out (a script, an older page), the default applies; anything else must be a choice.
        validators=[Optional()],
    )


class RenameTeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=80)], filters=[strip_text])


class MoveStudentForm(FlaskForm):
    student_id = SelectField(_l("Pupil"), coerce=int, validators=[InputRequired()])
    team_id = SelectField(_l("Move to team"), coerce=int, validators=[InputRequired()])


def _http_link(form, field):
    if field.data and not has_http_scheme(field.data):
        raise ValidationError(_l("The meeting link must start with https:// or http://."))
    if field.data and not is_http_link(field.data):
        raise ValidationError(_l("This is not a valid link."))


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[strip_text])
    start_date = DateField(_l("Date"), validators=[InputRequired(message=_l("Please enter a date."))])
    start_time = TimeField(_l("Start time"), validators=[InputRequired(message=_l("Please enter a time."))])
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), validators=[InputRequired(), NumberRange(min=5, max=600)], default=60
    )
    meeting_url = StringField(
        _l("Video meeting link"),
        validators=[Optional(), Length(max=URL_LIMIT), _http_link],
        description=_l("A link to your school's video tool (https://…). CrossClass has no video of its own."),
        filters=[strip_text],
    )

    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=DESCRIPTION_LIMIT)],
        description=_l("What the classes will do, what to prepare. Shown to everyone in the exchange."),
        filters=[strip_text],
    )


class NewSessionForm(SessionForm):
    repeat_weeks = IntegerField(
        _l("Repeat weekly for (weeks)"),
        validators=[Optional(), NumberRange(min=1, max=MAX_REPEAT_WEEKS)],
        default=1,
        description=_l(
            "1 for a single session; up to %(count)d weeks, at the same time each week.", count=MAX_REPEAT_WEEKS
        ),
    )


SCOPE_CHOICES = [
    SelectChoice(Scope.THIS.value, _l("This session only")),
    SelectChoice(Scope.FOLLOWING.value, _l("This and the following sessions of the series")),
]


class EditSessionForm(SessionForm):
    scope = RadioField(_l("Change"), choices=SCOPE_CHOICES, default=Scope.THIS.value)


class CancelSessionForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Please say why the session is cancelled.")), Length(max=REASON_LIMIT)],
        description=_l("Everyone in the exchange sees it."),
        filters=[strip_text],
    )
    # Not "scope": the change form on the same page has one, and ids must stay unique.
    cancel_scope = RadioField(_l("Cancel"), choices=SCOPE_CHOICES, default=Scope.THIS.value)


class AttendanceForm(FlaskForm):
    present = MultiCheckboxField(_l("Pupils present"), coerce=int, validators=[Optional()])


INVITE_KIND_LABELS = {
    InviteKind.PARTNER_CLASS: _l("A partner teacher with a class"),
    InviteKind.TEACHER: _l("A co-teacher"),
    InviteKind.GUEST_MENTOR: _l("A guest mentor from a host company"),
    InviteKind.VISITOR: _l("Visitors who only read, such as parents"),
}


class InviteForm(FlaskForm):
    kind = SelectField(
        _l("Who is the link for?"),
        choices=[SelectChoice(kind.value, label) for kind, label in INVITE_KIND_LABELS.items()],
    )
    label = StringField(
        _l("Note for yourself"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example: the mentor's name. Only the teachers of the exchange see it."),
        filters=[strip_text],
    )
    valid_days = IntegerField(_l("Valid for (days)"), default=14, validators=[InputRequired(), NumberRange(1, 60)])
    max_uses = IntegerField(_l("Can be used (times)"), default=1, validators=[InputRequired(), NumberRange(1, 100)])


class JoinWithClassForm(FlaskForm):
    # Only links for a partner class ask for a class; the operation checks the choice.
    class_id = SelectField(_l("Your class"), coerce=int, choices=[], validate_choice=False, validators=[Optional()])


class GuestAccountForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)], filters=[strip_text])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)], filters=[strip_text])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(_l("Repeat the password"), validators=[DataRequired()])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))


class StartProjectForm(FlaskForm):
    class_id = SelectField(_l("Your class"), coerce=int, choices=[], validators=[InputRequired()])
    title = StringField(
        _l("Title"),
        validators=[Optional(), Length(max=200)],
        description=_l("You can change it later. Left empty, the exchange is named after the classes."),
        filters=[strip_text],
    )
