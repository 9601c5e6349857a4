"""The chat pages of an exchange: its channels, one channel's messages, a composer; search;
starting a direct conversation."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import names
from app.extensions import db
from app.modules.chat import operations, queries, search
from app.modules.chat.models import ChannelKind
from app.modules.projects.models import ProjectRole
from app.modules.projects.queries import project_for_user, students_by_class, team_of_student, teams_with_members


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
    around = request.args.get("around", type=int)
    return render_template(
        "chat/channel.html",
        project=project,
        channels=channels,
        channel=current,
        labels={c.id: queries.channel_label(c, current_user) for c in channels},
        unread_by_channel=queries.unread_counts(current_user, channels),
        read_by_channel=queries.read_marks(current_user, channels),
        may_moderate=access.may_moderate,
        may_write=access.may_write,
        is_history=not access.may_post and access.role in queries.WRITER_ROLES,
        is_direct=current.kind == ChannelKind.DIRECT,
        teammates=_teammates(project, access.role),
        roster=_roster(project),
        read_only=project.is_closed,
        around=around if around and around > 0 else None,
        body_limit=operations.BODY_LIMIT,
        reaction_emoji=queries.REACTION_EMOJI,
        channel_label=queries.channel_label,
    )


def _roster(project) -> dict[int, str]:
    """The display names this reader may see of the exchange's pupils, by id: live events
    carry public names only, and chat.js shows these instead (app/auth/names.py)."""
    if current_user.is_student:
        return names.private_roster(current_user, [current_user])
    if not current_user.is_teacher:
        return {}
    pupils = [pupil for group in students_by_class(project).values() for pupil in group]
    return names.private_roster(current_user, pupils)


def _teammates(project, role) -> list:
    """The pupils this pupil may start a direct conversation with (none unless allowed)."""
    if role != ProjectRole.STUDENT or project.is_closed:
        return []
    team = team_of_student(project, current_user.id)
    if team is None or not team.allow_direct_messages:
        return []
    members = next((people for t, people in teams_with_members(project) if t.id == team.id), [])
    return [person for person in members if person.id != current_user.id]


@login_required
def open_direct(project_id: int):
    # The CSRF token is checked for every POST by CSRFProtect before this runs.
    project = project_for_user(project_id, current_user)
    direct = operations.open_direct_channel(current_user, project, request.form.get("user_id", type=int))
    db.session.commit()
    return redirect(url_for("chat.channel", project_id=project.id, channel_id=direct.id))


@login_required
def search_page(project_id: int):
    project = project_for_user(project_id, current_user)
    text = search.normalize_query(request.args.get("q"))
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > search.MAX_PAGE:
        abort(404)
    results = search.search_messages(project, current_user, text, page)
    names.viewer_names().load(hit.message.author for hit in results.hits)  # for |shown_name, in one query
    return render_template(
        "chat/search.html",
        project=project,
        query=text,
        too_short=0 < len(text) < search.MIN_QUERY_LENGTH,
        results=results,
        page=page,
        min_length=search.MIN_QUERY_LENGTH,
        max_length=search.MAX_QUERY_LENGTH,
        labels={hit.channel.id: queries.channel_label(hit.channel, current_user) for hit in results.hits},
    )
