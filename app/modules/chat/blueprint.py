"""Routes of project chat, as one flat list."""

from flask import Blueprint

from app.modules.chat import controllers as c

bp = Blueprint("chat", __name__)

bp.add_url_rule("/exchanges/<int:project_id>/chat", "channel", c.channel)
bp.add_url_rule("/exchanges/<int:project_id>/chat/<int:channel_id>", "channel", c.channel)
