"""Forms of chat moderation: muting a pupil, from the queue or on its own."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.modules.chat.moderation import MUTE_MAX_MINUTES, REASON_LIMIT


def mute_choices() -> list[tuple[int, str]]:
    return [
        (15, _l("15 minutes")),
        (60, _l("1 hour")),
        (24 * 60, _l("1 day")),
        (7 * 24 * 60, _l("1 week")),
        (MUTE_MAX_MINUTES, _l("Until a teacher lifts it (at most 30 days)")),
    ]


class MuteAuthorForm(FlaskForm):
    minutes = SelectField(_l("For how long"), coerce=int, choices=mute_choices, default=60)
    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Optional(), Length(max=REASON_LIMIT)],
        description=_l(
            "Kept in the moderation log for the teachers. At most %(limit)d characters.", limit=REASON_LIMIT
        ),
    )


class MuteForm(MuteAuthorForm):
    user_id = SelectField(_l("Pupil or guest"), coerce=int, validators=[InputRequired()])
