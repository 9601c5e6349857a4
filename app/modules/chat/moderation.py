"""Moderation and safeguarding in exchange chats: mutes, reports and the log of every step."""

from __future__ import annotations

from app.extensions import db
from app.modules.chat.models import ModerationAction


def log_action(
    project_id: int,
    actor_id: int | None,
    action: str,
    *,
    channel_id: int | None = None,
    message_id: int | None = None,
    target_user_id: int | None = None,
    **details,
) -> ModerationAction:
    """One line of the project's moderation log, written in the transaction of the step it records."""
    entry = ModerationAction(
        project_id=project_id,
        actor_id=actor_id,
        action=action,
        channel_id=channel_id,
        message_id=message_id,
        target_user_id=target_user_id,
        details=details,
    )
    db.session.add(entry)
    return entry
