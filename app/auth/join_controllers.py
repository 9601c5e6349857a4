"""Joining a class with its code, the code's settings, and the pupils waiting for approval."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import join_codes, queries
from app.auth.controllers import log_in_with_fresh_session, teacher_required
from app.auth.forms import NO_APPROVAL, ConfirmForm, JoinClassForm, JoinCodeForm
from app.core.errors import AppError, attach_error
from app.core.security import client_address
from app.extensions import db


def join_class():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = JoinClassForm()
    if form.validate_on_submit():
        address = client_address()
        try:
            school_class = join_codes.class_of_code(form.code.data, address)
            # Two commits, on purpose: the first ends the lock on the address's wrong-code
            # counter at once, before the slow part (hashing the password).
            db.session.commit()
            student = join_codes.join_class_with_code(school_class, form.display_name.data, form.password.data, address)
        except join_codes.WrongClassCode as error:
            db.session.commit()  # the wrong code stays counted
            attach_error(form, error)
            return render_template("auth/join.html", form=form), error.status
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/join.html", form=form), error.status
        log_in_with_fresh_session(student)
        db.session.commit()
        session["show_username_once"] = True
        return redirect(url_for("main.dashboard"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/join.html", form=form), status


@teacher_required
def join_code(class_id: int):
    school_class = queries.class_for_teacher(class_id, current_user)
    form = JoinCodeForm()
    if not form.validate_on_submit() or form.action.data not in ("save", "renew", "enable", "disable"):
        abort(400)
    join_codes.change_join_code(
        school_class, form.action.data, int(form.validity_days.data), form.approval.data != NO_APPROVAL
    )
    db.session.commit()
    messages = {
        "save": _("The class code settings are saved."),
        "renew": _("The class has a new code. The old code no longer works."),
        "enable": _("Pupils can join with the class code again."),
        "disable": _("The class code is turned off: nobody can join with it."),
    }
    flash(messages[form.action.data], "success")
    return redirect(url_for("auth.class_detail", class_id=class_id))


@teacher_required
def join_request(class_id: int, student_id: int, action: str):
    school_class = queries.class_for_teacher(class_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "approve":
        membership = join_codes.approve_join_request(school_class, student_id)
        message = _("%(name)s is now in the class.", name=membership.student.display_name)
    elif action == "refuse":
        join_codes.refuse_join_request(school_class, student_id)
        message = _("The pupil was turned away; the account is deleted.")
    else:
        abort(404)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("auth.class_detail", class_id=class_id) + "#waiting-pupils")
