"""Forgotten-password pages: ask for a link, then set a new password with it."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.auth import password_reset
from app.auth.forms import ForgotPasswordForm, ResetPasswordForm
from app.core.errors import AppError, attach_error
from app.core.security import client_address
from app.extensions import db


def forgot_password():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.request_password_reset(form.email.data, client_address())
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/forgot_password.html", form=form), error.status
        db.session.commit()
        return redirect(url_for("auth.reset_requested"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


def reset_requested():
    return render_template("auth/reset_requested.html", message=password_reset.reset_sent_message())


def reset_password(token: str):
    try:
        user = password_reset.user_for_reset_token(token)
    except AppError as error:
        return render_template("auth/reset_invalid.html", message=error.message, form=ForgotPasswordForm()), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(token, form.password.data)
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/reset_password.html", form=form, user=user), 400
        db.session.commit()
        # Every session of the account has ended; this browser starts afresh too.
        logout_user()
        session.clear()
        flash(_("Your new password is saved. Please log in with it."), "success")
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form, user=user), status
