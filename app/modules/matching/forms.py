"""Forms of partner matching: the class profile, suggestion filters, invitations and rounds."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
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
from app.core.geo import country_choices
from app.core.themes import THEMES, theme_labels
from app.modules.matching.models import ExchangeMode
from app.modules.matching.scoring import isced_names

SLOT_ROWS = 5
MAX_TAGS = 10
MAX_TAG_LENGTH = 30
MESSAGE_LIMIT = 1000


def weekday_labels() -> list[str]:
    return [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday")]


def field_filter_choices() -> list[SelectChoice]:
    """Broad and narrow fields, for searching partners by field."""
    names = isced_names()
    choices = [SelectChoice("", _l("Any field"))]
    for code, name in names.items():
        if len(code) == 2:
            choices.append(SelectChoice(code, f"{code} {name}"))
        elif len(code) == 3:
            choices.append(SelectChoice(code, f"\u2003{code} {name}"))
    return choices


def split_tags(text: str) -> list[str]:
    seen: dict[str, str] = {}
    for raw in (text or "").split(","):
        tag = " ".join(raw.split())
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return list(seen.values())


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProfileForm(FlaskForm):
    qualification = StringField(
        _l("Qualification"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("The name of the qualification your learners work towards, e.g. Cook, Electrician."),
    )
    period_start = DateField(_l("Exchange from"), validators=[InputRequired(message=_l("Enter a date."))])
    period_end = DateField(_l("Exchange until"), validators=[InputRequired(message=_l("Enter a date."))])
    mode = RadioField(
        _l("Kind of exchange"),
        choices=[
            SelectChoice(ExchangeMode.VIRTUAL.value, _l("Virtual only")),
            SelectChoice(ExchangeMode.BLENDED.value, _l("Blended: online work and a physical mobility")),
        ],
        default=ExchangeMode.VIRTUAL.value,
    )
    can_send = BooleanField(_l("We are willing to send learners"))
    can_host = BooleanField(_l("We are willing to host learners"))
    max_distance_km = IntegerField(
        _l("Maximum travel distance in km (optional)"),
        validators=[Optional(), NumberRange(min=50, max=5000)],
        description=_l("For blended exchanges only. Leave empty for no limit."),
    )
    wants_live = BooleanField(_l("We want live online sessions with the partner class"), default=True)
    themes = MultiCheckboxField(_l("Themes"), choices=[])
    free_tags = StringField(
        _l("Other topics (optional)"),
        validators=[Optional(), Length(max=400)],
        description=_l("Separated by commas, at most %(count)d, e.g. baking, HACCP.", count=MAX_TAGS),
    )
    preferred_countries = MultiCheckboxField(
        _l("Preferred partner countries (optional)"),
        choices=[],
        description=_l("Partners from these countries rank higher."),
    )
    excluded_countries = MultiCheckboxField(
        _l("Countries to leave out (optional)"),
        choices=[],
        description=_l("Classes from these countries are never suggested."),
    )
    allows_mixed_ages = BooleanField(
        _l("Allow partner classes with adult learners although some of ours are under 16, or the reverse")
    )
    is_searchable = BooleanField(_l("Other teachers may find this class and invite it"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.themes.choices = [SelectChoice(code, label) for code, label in theme_labels().items()]
        countries = [SelectChoice(code, name) for code, name in country_choices()]
        self.preferred_countries.choices = countries
        self.excluded_countries.choices = countries
        days = [SelectChoice("", _l("No slot"))] + [
            SelectChoice(str(index), label) for index, label in enumerate(weekday_labels())
        ]
        for row in range(1, SLOT_ROWS + 1):
            getattr(self, f"slot_{row}_day").choices = days

    def validate_period_end(self, field):
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(_l("The end cannot be before the start."))

    def validate_free_tags(self, field):
        tags = split_tags(field.data)
        if len(tags) > MAX_TAGS:
            raise ValidationError(_l("At most %(count)d topics.", count=MAX_TAGS))
        if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            raise ValidationError(_l("Each topic can have at most %(count)d characters.", count=MAX_TAG_LENGTH))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.mode.data == ExchangeMode.BLENDED.value and not (self.can_send.data or self.can_host.data):
            self.can_send.errors = [*self.can_send.errors, _l("A blended exchange needs sending, hosting or both.")]
            valid = False
        overlap = set(self.preferred_countries.data or []) & set(self.excluded_countries.data or [])
        if overlap:
            self.excluded_countries.errors = [
                *self.excluded_countries.errors,
                _l("A country cannot be preferred and left out at once."),
            ]
            valid = False
        return self._validate_slots() and valid

    def _validate_slots(self) -> bool:
        valid = True
        seen: list[tuple[int, int, int, int]] = []
        for row in range(1, SLOT_ROWS + 1):
            day, start, end = (getattr(self, f"slot_{row}_{part}") for part in ("day", "from", "to"))
            if not day.data and not start.data and not end.data:
                continue
            if not day.data or start.data is None or end.data is None:
                day.errors = [*day.errors, _l("Choose a day, a start and an end, or leave the row empty.")]
                valid = False
                continue
            start_minute, end_minute = _minutes(start.data), _minutes(end.data)
            if end_minute <= start_minute:
                end.errors = [*end.errors, _l("The end must be after the start.")]
                valid = False
                continue
            for other_row, other_day, other_start, other_end in seen:
                if int(day.data) == other_day and start_minute < other_end and other_start < end_minute:
                    end.errors = [*end.errors, _l("This overlaps slot %(row)d.", row=other_row)]
                    valid = False
                    break
            seen.append((row, int(day.data), start_minute, end_minute))
        return valid

    def slots_data(self) -> list[tuple[int, int, int]]:
        slots = []
        for row in range(1, SLOT_ROWS + 1):
            day, start, end = (getattr(self, f"slot_{row}_{part}").data for part in ("day", "from", "to"))
            if day and start is not None and end is not None:
                slots.append((int(day), _minutes(start), _minutes(end)))
        return sorted(slots)

    def profile_data(self) -> dict:
        blended = self.mode.data == ExchangeMode.BLENDED.value
        return {
            "qualification": self.qualification.data.strip(),
            "period_start": self.period_start.data,
            "period_end": self.period_end.data,
            "mode": ExchangeMode(self.mode.data),
            "can_send": blended and bool(self.can_send.data),
            "can_host": blended and bool(self.can_host.data),
            "max_distance_km": self.max_distance_km.data if blended else None,
            "wants_live": bool(self.wants_live.data),
            "themes": [code for code in THEMES if code in (self.themes.data or [])],
            "free_tags": split_tags(self.free_tags.data),
            "preferred_countries": sorted(self.preferred_countries.data or []),
            "excluded_countries": sorted(self.excluded_countries.data or []),
            "allows_mixed_ages": bool(self.allows_mixed_ages.data),
            "is_searchable": bool(self.is_searchable.data),
        }

    def fill_from(self, profile) -> None:
        self.mode.data = profile.mode.value
        self.free_tags.data = ", ".join(profile.free_tags or [])
        for row, slot in enumerate(profile.slots[:SLOT_ROWS], start=1):
            getattr(self, f"slot_{row}_day").data = str(slot.weekday)
            getattr(self, f"slot_{row}_from").data = _time(slot.start_minute)
            getattr(self, f"slot_{row}_to").data = _time(slot.end_minute)


def _minutes(value) -> int:
    return value.hour * 60 + value.minute


def _time(minutes: int):
    from datetime import time

    return time(23, 59) if minutes >= 1440 else time(minutes // 60, minutes % 60)


for _row in range(1, SLOT_ROWS + 1):
    setattr(ProfileForm, f"slot_{_row}_day", SelectField(_l("Day"), choices=[], validators=[Optional()]))
    setattr(ProfileForm, f"slot_{_row}_from", TimeField(_l("From"), validators=[Optional()]))
    setattr(ProfileForm, f"slot_{_row}_to", TimeField(_l("To"), validators=[Optional()]))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search form (GET): nothing is changed

    field = SelectField(_l("Field"), choices=[], validators=[Optional()])
    country = SelectField(_l("Country"), choices=[], validators=[Optional()])
    language = SelectField(_l("Language"), choices=[], validators=[Optional()])
    q = StringField(_l("Search"), validators=[Optional(), Length(max=80)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.field.choices = field_filter_choices()
        self.country.choices = [SelectChoice("", _l("Any country"))] + [
            SelectChoice(code, name) for code, name in country_choices()
        ]
        self.language.choices = [SelectChoice("", _l("Any language"))] + [
            SelectChoice(code, name) for code, name in language_choices()
        ]

    def filters(self) -> dict:
        return {
            "field": self.field.data or "",
            "country": self.country.data or "",
            "language": self.language.data or "",
            "q": (self.q.data or "").strip(),
        }


class InvitationForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the teacher"),
        validators=[Optional(), Length(max=MESSAGE_LIMIT)],
        description=_l("Introduce your class in a few words (at most %(count)d characters).", count=MESSAGE_LIMIT),
    )


class RoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    opt_in_until = DateField(_l("Teachers can opt in until"), validators=[InputRequired(message=_l("Enter a date."))])


class OptInForm(FlaskForm):
    class_id = SelectField(_l("Class"), choices=[], validators=[InputRequired()])
