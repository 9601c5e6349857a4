"""Forms for accounts, schools and classes. Field limits here match the model columns."""

from __future__ import annotations

import pycountry
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.auth.models import DEFAULT_JOIN_CODE_DAYS, JOIN_CODE_VALIDITY_DAYS, SchoolKind
from app.auth.operations import CEFR_LEVELS, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.core.geo import country_choices
from app.core.isced import DETAILED_LENGTH, field_label, isced_names

NEW_SCHOOL = "new"
# The shape of an address only (no DNS look-up): WTForms' Email validator needs the
# email_validator package, and an address is only ever used to log in with.
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
# WTForms 3.3 deprecates (value, label) tuples as choices given to a field's constructor.
_CEFR_CHOICES = [SelectChoice(level) for level in CEFR_LEVELS]

# The working languages classes exchange in: the EU's official languages plus neighbours.
WORKING_LANGUAGES = [
    "bg",
    "hr",
    "cs",
    "da",
    "nl",
    "en",
    "et",
    "fi",
    "fr",
    "de",
    "el",
    "hu",
    "ga",
    "it",
    "lv",
    "lt",
    "mt",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "es",
    "sv",
    "is",
    "no",
    "mk",
    "sr",
    "tr",
    "sq",
    "uk",
    "ca",
    "eu",
    "gl",
    "lb",
]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def isced_field_choices() -> list[SelectChoice]:
    """The detailed ISCED-F fields, grouped under their broad field, each labelled name first so
    that typing a letter in the plain list (and filtering in the enhanced one) finds it by name."""
    names = isced_names()
    return [
        SelectChoice(code, field_label(code), optgroup=names[code[:2]])
        for code in names
        if len(code) == DETAILED_LENGTH
    ]


def language_choices() -> list[tuple[str, str]]:
    return sorted(
        ((code, pycountry.languages.get(alpha_2=code).name) for code in WORKING_LANGUAGES), key=lambda pair: pair[1]
    )


class LoginForm(FlaskForm):
    login = StringField(_l("Username or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(_l("Repeat the new password"), validators=[DataRequired()])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))


class ForgotPasswordForm(FlaskForm):
    # No e-mail shape check: whatever is typed (a pupil's username too) gets the same answer.
    email = EmailField(
        _l("Your e-mail address"),
        validators=[DataRequired(), Length(max=254)],
        filters=[_strip],
        description=_l("The address you registered with. Students: please ask your teacher for a new password."),
    )


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)])


class RegisterTeacherForm(NewPasswordMixin, FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254), Regexp(EMAIL_SHAPE, message=_l("Enter a valid e-mail address."))],
        filters=[_strip],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(_l("Repeat the password"), validators=[DataRequired()])
    school_id = SelectField(_l("Your school"), validators=[InputRequired()], choices=[])
    school_name = StringField(_l("School name"), validators=[Optional(), Length(max=200)])
    country = SelectField(_l("Country"), validators=[Optional()], choices=[])
    city = StringField(
        _l("Town or city"),
        validators=[Optional(), Length(max=120)],
        description=_l("Start typing and choose from the list."),
    )
    kind = SelectField(
        _l("Type of organisation"),
        choices=[
            SelectChoice(SchoolKind.VET_SCHOOL.value, _l("Vocational school (VET)")),
            SelectChoice(SchoolKind.COMPANY.value, _l("Company")),
            SelectChoice(SchoolKind.OTHER.value, _l("Other organisation")),
        ],
        default=SchoolKind.VET_SCHOOL.value,
    )
    erasmus_oid = StringField(
        _l("Erasmus organisation ID (optional)"),
        validators=[Optional(), Length(max=9, message=_l("An Erasmus organisation ID is an E followed by 8 digits."))],
        description=_l("An E followed by 8 digits, e.g. E10012345."),
    )

    def __init__(self, schools, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.school_id.choices = (
            [("", _l("Choose your school…"))]
            + [(str(school.id), f"{school.name} — {school.city}") for school in schools]
            + [(NEW_SCHOOL, _l("My school is not listed: register it"))]
        )
        self.country.choices = [("", _l("Choose a country…"))] + country_choices()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.school_id.data == NEW_SCHOOL:
            for field in (self.school_name, self.country, self.city):
                if not (field.data or "").strip():
                    field.errors = [*field.errors, _l("This field is required for a new school.")]
                    valid = False
        return valid


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"), choices=[])
    timezone = SelectField(
        _l("Time zone"), choices=[], description=_l("Leave as it is to use your school's time zone.")
    )
    wants_email_updates = BooleanField(
        _l("E-mail me about invitations and session changes"),
        description=_l("You always see them on the notifications page; this also sends each one to your address."),
    )


class SchoolClassForm(FlaskForm):
    name = StringField(_l("Class name"), validators=[DataRequired(), Length(max=120)])
    isced_code = SelectField(
        _l("Vocational field"),
        validators=[InputRequired(message=_l("Choose the vocational field from the list."))],
        choices=[],
        description=_l(
            "The field of the qualification, from the international list ISCED-F 2013. Type to search it,"
            " e.g. catering, electricity, motor vehicles."
        ),
    )
    eqf_level = SelectField(_l("EQF level"), choices=[SelectChoice(str(level)) for level in range(1, 9)], default="4")
    size = IntegerField(_l("Number of learners"), validators=[InputRequired(), NumberRange(min=1, max=60)])
    age_min = IntegerField(_l("Youngest learner's age"), validators=[InputRequired(), NumberRange(min=14, max=99)])
    age_max = IntegerField(_l("Oldest learner's age"), validators=[InputRequired(), NumberRange(min=14, max=99)])
    language_1 = SelectField(_l("Working language"), choices=[], validators=[InputRequired()])
    level_1 = SelectField(_l("Level"), choices=_CEFR_CHOICES, default="B1")
    language_2 = SelectField(_l("Second working language (optional)"), choices=[])
    level_2 = SelectField(_l("Level"), choices=_CEFR_CHOICES, default="A2")
    language_3 = SelectField(_l("Third working language (optional)"), choices=[])
    level_3 = SelectField(_l("Level"), choices=_CEFR_CHOICES, default="A2")
    partners_see_first_names = BooleanField(
        _l("Partner classes may see my pupils' first names"),
        description=_l(
            "Only with the agreement of the pupils and their parents. Unticked, partner schools see "
            "only each pupil's username. A pupil in several classes shows their first name only when "
            "all of their classes allow it."
        ),
    )

    LANGUAGE_SLOTS = 3

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.isced_code.choices = [SelectChoice("", _l("Choose a field…"))] + isced_field_choices()
        choices = language_choices()
        self.language_1.choices = [("", _l("Choose…"))] + choices
        self.language_2.choices = [("", _l("None"))] + choices
        self.language_3.choices = [("", _l("None"))] + choices

    def fields_data(self) -> dict:
        return {
            "name": self.name.data.strip(),
            "isced_code": self.isced_code.data,
            "eqf_level": int(self.eqf_level.data),
            "size": self.size.data,
            "age_min": self.age_min.data,
            "age_max": self.age_max.data,
            "partners_see_first_names": bool(self.partners_see_first_names.data),
        }

    def languages_data(self) -> list[tuple[str, str]]:
        pairs = []
        for slot in range(1, self.LANGUAGE_SLOTS + 1):
            code = getattr(self, f"language_{slot}").data
            if code:
                pairs.append((code, getattr(self, f"level_{slot}").data))
        return pairs

    def fill_languages(self, school_class) -> None:
        for slot, language in enumerate(school_class.languages[: self.LANGUAGE_SLOTS], start=1):
            getattr(self, f"language_{slot}").data = language.language
            getattr(self, f"level_{slot}").data = language.cefr_level


class CreateStudentsForm(FlaskForm):
    names = TextAreaField(
        _l("Names, one per line"),
        validators=[Optional(), Length(max=10_000)],
        description=_l("First names or nicknames. Only you and your school see them; usernames are pseudonyms."),
    )
    count = IntegerField(_l("…or just a number of accounts"), validators=[Optional(), NumberRange(min=1, max=60)])


class JoinClassForm(NewPasswordMixin, FlaskForm):
    code = StringField(_l("Class code"), validators=[DataRequired(), Length(max=12)])
    display_name = StringField(
        _l("Nickname or first name"),
        validators=[DataRequired(), Length(max=120)],
        description=_l("Your teacher sees this name. Partner classes see only your username."),
    )
    password = PasswordField(
        _l("Choose a password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )


class ConfirmForm(FlaskForm):
    """An empty form: only its CSRF token, for buttons that change something."""


NEEDS_APPROVAL = "approve"
NO_APPROVAL = "open"


class JoinCodeForm(FlaskForm):
    """The class code's settings; the button pressed (its value) says what to do."""

    action = HiddenField(validators=[DataRequired()])
    validity_days = SelectField(
        _l("The code works for"),
        choices=[],
        default=str(DEFAULT_JOIN_CODE_DAYS),
        description=_l("Counted from now. Afterwards the code no longer works; you can renew it."),
    )
    approval = RadioField(
        _l("Pupils who join with the code"),
        choices=[
            SelectChoice(NEEDS_APPROVAL, _l("need my approval before they see anything of the class")),
            SelectChoice(NO_APPROVAL, _l("are in the class at once, without my approval")),
        ],
        default=NEEDS_APPROVAL,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Made per request, in the reader's language (the plural needs the number).
        self.validity_days.choices = [
            SelectChoice(str(days), ngettext("%(num)d day", "%(num)d days", days)) for days in JOIN_CODE_VALIDITY_DAYS
        ]
