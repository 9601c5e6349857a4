"""Dashboards: what each role needs to see first."""

from __future__ import annotations

from flask import redirect, render_template, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.auth import queries
from app.extensions import db


def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


def health():
    db.session.execute(text("SELECT 1"))
    return {"ok": True}


@login_required
def dashboard():
    if current_user.is_pending:
        return render_template("main/dashboard_pending.html")
    if current_user.is_admin:
        return render_template("main/dashboard_admin.html", pending=queries.pending_teachers_for(current_user))
    if current_user.is_teacher:
        classes = queries.classes_of_teacher(current_user)
        context = {
            "classes": classes,
            "students_by_class": {c.id: queries.students_of_class(c.id) for c in classes},
        }
        if current_user.is_coordinator:
            context["pending"] = queries.pending_teachers_for(current_user)
            context["school_classes"] = queries.classes_of_school(current_user.school_id)
            context["colleagues"] = queries.teachers_of_school(current_user.school_id)
        return render_template("main/dashboard_teacher.html", **context)
    if current_user.is_student:
        show_username = session.pop("show_username_once", False)
        if current_user.join_request is not None:
            # Joined with a code that needs approval: nothing of the class until the teacher says so.
            return render_template(
                "main/dashboard_waiting.html", join_request=current_user.join_request, show_username=show_username
            )
        memberships = current_user.memberships
        return render_template("main/dashboard_student.html", memberships=memberships, show_username=show_username)
    return render_template("main/dashboard_guest.html")
