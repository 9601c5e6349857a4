"""Routes of exchange projects, as one flat list."""

from flask import Blueprint, current_app

from app.modules.projects import controllers as c
from app.modules.projects import member_controllers as m
from app.modules.projects import session_controllers as s
from app.modules.projects import team_controllers as t

bp = Blueprint("projects", __name__)


@bp.context_processor
def _chat_link() -> dict:
    # The chat module registers chat.channel; until then the project pages show no chat link.
    return {"has_chat": "chat.channel" in current_app.view_functions}


bp.add_url_rule("/exchanges", "projects", c.projects)
bp.add_url_rule("/exchanges/<int:project_id>", "project_detail", c.project_detail)
bp.add_url_rule("/exchanges/<int:project_id>/edit", "edit", c.edit, methods=["GET", "POST"])
bp.add_url_rule("/exchanges/<int:project_id>/close", "close", c.close, methods=["POST"])
bp.add_url_rule("/exchanges/<int:project_id>/teams", "teams", c.teams)
bp.add_url_rule("/exchanges/<int:project_id>/teams/generate", "generate_teams", t.generate_teams, methods=["POST"])
bp.add_url_rule("/exchanges/<int:project_id>/teams/move", "move_student", c.move_student, methods=["POST"])
bp.add_url_rule(
    "/exchanges/<int:project_id>/teams/<int:team_id>/rename", "rename_team", c.rename_team, methods=["POST"]
)
bp.add_url_rule(
    "/exchanges/<int:project_id>/teams/<int:team_id>/direct-messages",
    "direct_messages",
    t.direct_messages,
    methods=["POST"],
)
bp.add_url_rule("/exchanges/<int:project_id>/sessions", "sessions", c.sessions)
bp.add_url_rule("/exchanges/<int:project_id>/sessions/new", "new_session", s.new_session, methods=["GET", "POST"])
bp.add_url_rule("/exchanges/<int:project_id>/sessions.ics", "exchange_calendar", s.exchange_calendar)
bp.add_url_rule(
    "/exchanges/<int:project_id>/sessions/<int:session_id>/edit",
    "edit_session",
    s.edit_session,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/exchanges/<int:project_id>/sessions/<int:session_id>/cancel",
    "cancel_session",
    s.cancel_session,
    methods=["POST"],
)
bp.add_url_rule("/exchanges/<int:project_id>/sessions/<int:session_id>", "session_detail", c.session_detail)
bp.add_url_rule(
    "/exchanges/<int:project_id>/sessions/<int:session_id>/attendance", "attendance", c.attendance, methods=["POST"]
)
bp.add_url_rule("/exchanges/<int:project_id>/sessions/<int:session_id>.ics", "session_calendar", c.session_calendar)
bp.add_url_rule("/exchanges/new", "start_project", m.start_project, methods=["GET", "POST"])
bp.add_url_rule("/exchanges/<int:project_id>/people", "people", m.people)
bp.add_url_rule("/exchanges/<int:project_id>/invites", "create_invite", m.create_invite, methods=["POST"])
bp.add_url_rule(
    "/exchanges/<int:project_id>/invites/<int:invite_id>/revoke", "revoke_invite", m.revoke_invite, methods=["POST"]
)
bp.add_url_rule(
    "/exchanges/<int:project_id>/members/<int:member_id>/remove", "remove_member", m.remove_member, methods=["POST"]
)
bp.add_url_rule("/join/<token>", "join", m.join, methods=["GET", "POST"])
