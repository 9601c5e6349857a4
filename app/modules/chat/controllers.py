"""The chat page of an exchange: its channels, one channel's messages, a composer."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.extensions import db
from app.modules.chat import operations, queries
from app.modules.projects.queries import project_for_user


@login_required
def channel(project_id: int, channel_id: int | None = None):
    project = project_for_user(project_id, current_user)
    operations.ensure_channels(project)
    db.session.commit()
    channels = queries.channels_for(project, current_user)
    current = channels[0]
    if channel_id is not None:
        current = queries.channel_for_user(channel_id, current_user).channel
        if current.project_id != project.id:
            current = channels[0]
    access = queries.channel_for_user(current.id, current_user)
    return render_template(
        "chat/channel.html",
        project=project,
        channels=channels,
        channel=current,
        may_moderate=access.may_moderate,
        may_write=access.may_write,
        read_only=project.is_closed,
        body_limit=operations.BODY_LIMIT,
        channel_label=queries.channel_label,
    )
