"""Routes of project chat, as one flat list."""

from flask import Blueprint
from flask_login import current_user

from app.modules.chat import controllers as c
from app.modules.chat import moderation_controllers as m
from app.modules.chat.queries import unread_total

bp = Blueprint("chat", __name__)


@bp.app_context_processor
def _chat_unread() -> dict:
    # The project pages (their navigation's chat link) show how much is unread; projects
    # must not import chat, so chat hands the templates a function to call.
    def chat_unread(project) -> int:
        return unread_total(project, current_user) if current_user.is_authenticated else 0

    return {"chat_unread": chat_unread}


bp.add_url_rule("/exchanges/<int:project_id>/chat", "channel", c.channel)
bp.add_url_rule("/exchanges/<int:project_id>/chat/<int:channel_id>", "channel", c.channel)
bp.add_url_rule("/exchanges/<int:project_id>/chat/search", "search", c.search_page)
bp.add_url_rule("/exchanges/<int:project_id>/chat/direct", "open_direct", c.open_direct, methods=["POST"])

# Moderation (app/modules/chat/moderation_controllers.py)
bp.app_context_processor(m.moderation_helpers)
bp.add_url_rule("/exchanges/<int:project_id>/moderation", "moderation", m.moderation_queue)
bp.add_url_rule("/exchanges/<int:project_id>/moderation/log", "moderation_log", m.moderation_log)
bp.add_url_rule("/exchanges/<int:project_id>/moderation/mutes", "mute", m.mute, methods=["POST"])
bp.add_url_rule(
    "/exchanges/<int:project_id>/moderation/mutes/<int:mute_id>/lift", "lift_mute", m.lift, methods=["POST"]
)
_reported = "/exchanges/<int:project_id>/moderation/messages/<int:message_id>"
bp.add_url_rule(f"{_reported}/hide", "hide_reported", m.hide_reported, methods=["POST"])
bp.add_url_rule(f"{_reported}/dismiss", "dismiss_reported", m.dismiss_reported, methods=["POST"])
bp.add_url_rule(f"{_reported}/mute-author", "mute_author", m.mute_author, methods=["POST"])
