"""Routes of notifications, as one flat list."""

from flask import Blueprint

from app.modules.notifications import controllers as c

bp = Blueprint("notifications", __name__)

bp.add_url_rule("/notifications", "notifications", c.notifications)
bp.add_url_rule("/notifications/read", "mark_all_read", c.mark_all_read, methods=["POST"])
bp.add_url_rule("/notifications/<int:notification_id>/open", "open_notification", c.open_notification, methods=["POST"])
