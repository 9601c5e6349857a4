"""The notifications page: newest first, each one opens what it is about."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.auth.forms import ConfirmForm
from app.core.security import is_local_path
from app.extensions import db
from app.modules.notifications import operations, queries


@login_required
def notifications():
    items = [(n, queries.describe(n)) for n in queries.notifications_of(current_user.id)]
    return render_template("notifications/list.html", items=items, form=ConfirmForm())


@login_required
def open_notification(notification_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notification = queries.notification_of(notification_id, current_user.id)
    operations.mark_notification_read(notification)
    db.session.commit()
    target = notification.link if is_local_path(notification.link) else url_for("notifications.notifications")
    return redirect(target)


@login_required
def mark_all_read():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.mark_all_read(current_user.id)
    db.session.commit()
    return redirect(url_for("notifications.notifications"))
