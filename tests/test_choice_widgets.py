"""No page asks for several choices through a <select multiple> (hold Ctrl, impossible on a
phone): every multiple choice is a list of checkboxes."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.fields.core import UnboundField
from wtforms.widgets import ListWidget

from tests.conftest import ROOT


def _all_form_classes(base=FlaskForm):
    for subclass in base.__subclasses__():
        yield subclass
        yield from _all_form_classes(subclass)


def test_no_form_field_renders_as_a_multiple_select(app):
    forms = list(_all_form_classes())
    assert len(forms) > 20, "the app's forms are imported by create_app"
    offenders = []
    for form in forms:
        for name in dir(form):
            field = getattr(form, name, None)
            multiple = isinstance(field, UnboundField) and issubclass(field.field_class, SelectMultipleField)
            if multiple and not isinstance(field.field_class.widget, ListWidget):
                offenders.append(f"{form.__module__}.{form.__name__}.{name}")
    assert offenders == []


def test_no_template_writes_a_multiple_select():
    pattern = re.compile(r"<select[^>]*\bmultiple\b", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "templates").rglob("*.html") if pattern.search(path.read_text())
    ]
    assert offenders == []
