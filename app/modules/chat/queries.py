"""Read-only lookups of chat: who may use which channel, replay, history, and the shapes sent to clients."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.core.errors import NotFound, PermissionDenied
from app.extensions import db
from app.modules.chat.models import Channel, ChannelEvent, ChannelKind, EventKind, Message
from app.modules.projects.models import TEACHER_ROLES, Project, ProjectRole, TeamMembership
from app.modules.projects.queries import project_role

REPLAY_PAGE = 200
HISTORY_PAGE = 50
EXCERPT_LENGTH = 80


def channel_room(channel_id: int) -> str:
    return f"chat:channel:{channel_id}"


# Who may write in a channel they can read; visitors (a coordinator, a parent) only read.
WRITER_ROLES = (*TEACHER_ROLES, ProjectRole.STUDENT, ProjectRole.GUEST_MENTOR)


@dataclass(frozen=True)
class ChannelAccess:
    """A channel, its project, and the user's role in the project as it is now."""

    channel: Channel
    project: Project
    role: ProjectRole

    @property
    def may_moderate(self) -> bool:
        return self.role in TEACHER_ROLES

    @property
    def may_write(self) -> bool:
        return self.role in WRITER_ROLES and not self.project.is_closed


def channel_role(channel: Channel, project: Project, user: User) -> ProjectRole | None:
    role = project_role(project, user)
    if role is None:
        return None
    if channel.kind == ChannelKind.TEACHERS and role not in TEACHER_ROLES:
        return None
    if channel.kind == ChannelKind.TEAM and role not in TEACHER_ROLES and not _in_team(channel, user):
        return None
    return role


def _in_team(channel: Channel, user: User) -> bool:
    return channel.team_id is not None and (
        db.session.scalar(
            select(TeamMembership.id).where(
                TeamMembership.team_id == channel.team_id, TeamMembership.student_id == user.id
            )
        )
        is not None
    )


def channel_for_user(channel_id, user: User) -> ChannelAccess:
    """The channel, checked against the user's project role and class membership as they are now."""
    channel = db.session.get(Channel, channel_id) if isinstance(channel_id, int) else None
    if channel is None:
        raise NotFound(_("This chat channel does not exist."))
    project = db.session.get(Project, channel.project_id)
    role = channel_role(channel, project, user)
    if role is None:
        raise PermissionDenied(_("You are not a member of this chat channel."))
    return ChannelAccess(channel, project, role)


def channels_for(project: Project, user: User) -> list[Channel]:
    channels = db.session.scalars(select(Channel).where(Channel.project_id == project.id).order_by(Channel.id))
    return [channel for channel in channels if channel_role(channel, project, user) is not None]


def message_by_client_id(channel_id: int, client_id: str) -> Message | None:
    return db.session.scalar(select(Message).where(Message.channel_id == channel_id, Message.client_id == client_id))


def message_in_channel(channel: Channel, message_id) -> Message:
    message = db.session.get(Message, message_id) if isinstance(message_id, int) else None
    if message is None or message.channel_id != channel.id:
        raise NotFound(_("This message does not exist."))
    return message


def events_after(channel_id: int, after_seq: int, until_seq: int | None = None, limit: int = REPLAY_PAGE):
    """Events with after_seq < seq (<= until_seq), in order; and whether more are waiting."""
    query = (
        select(ChannelEvent)
        .where(ChannelEvent.channel_id == channel_id, ChannelEvent.seq > after_seq)
        .options(selectinload(ChannelEvent.message).selectinload(Message.author).selectinload(User.school))
        .options(selectinload(ChannelEvent.message).selectinload(Message.reply_to).selectinload(Message.author))
        .order_by(ChannelEvent.seq)
        .limit(limit + 1)
    )
    if until_seq is not None:
        query = query.where(ChannelEvent.seq <= until_seq)
    events = list(db.session.scalars(query))
    return events[:limit], len(events) > limit


def messages_before(channel_id: int, before_seq: int | None, limit: int = HISTORY_PAGE):
    """The `limit` messages before before_seq (the newest when None), oldest first; and whether older ones exist."""
    query = (
        select(Message)
        .where(Message.channel_id == channel_id)
        .options(selectinload(Message.author).selectinload(User.school))
        .options(selectinload(Message.reply_to).selectinload(Message.author))
        .order_by(Message.seq.desc())
        .limit(limit + 1)
    )
    if before_seq is not None:
        query = query.where(Message.seq < before_seq)
    messages = list(db.session.scalars(query))
    return list(reversed(messages[:limit])), len(messages) > limit


# ---- what clients receive ----------------------------------------------------------------


def channel_label(channel: Channel) -> str:
    """The name to show, in the reader's language (the stored name serves team channels)."""
    if channel.kind == ChannelKind.PROJECT:
        return _("Whole exchange")
    if channel.kind == ChannelKind.TEACHERS:
        return _("Teachers")
    return channel.name


def channel_view(channel: Channel) -> dict:
    return {
        "id": channel.id,
        "kind": channel.kind.value,
        "name": channel_label(channel),
        "is_locked": channel.is_locked,
        "last_seq": channel.last_seq,
    }


def message_state(message: Message) -> str:
    if message.hidden_at is not None:
        return "hidden"
    if message.deleted_at is not None:
        return "deleted"
    return "visible"


def message_view(message: Message) -> dict:
    """A message as it is now; removed ones keep only their place (a tombstone), not their text."""
    removed = message.is_removed
    author = message.author
    reply = message.reply_to
    return {
        "id": message.id,
        "channel_id": message.channel_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "author_id": message.author_id,
        "author_name": author.display_name,
        "author_country": author.school.country if author.school else None,
        "state": message_state(message),
        "body_html": None if removed else message.body_html,
        "body_source": None if removed else message.body_source,
        "is_edited": message.edited_at is not None and not removed,
        "created_at": message.created_at.isoformat(),
        "reply_to": None
        if reply is None
        else {
            "id": reply.id,
            "author_name": reply.author.display_name,
            "excerpt": None if reply.is_removed else _excerpt(reply.body_source),
        },
    }


def event_view(event: ChannelEvent) -> dict:
    """An event for replay or live delivery; a message in it is shown as it is now."""
    view = {"channel_id": event.channel_id, "seq": event.seq, "kind": event.kind.value}
    if event.message is not None:
        view["message"] = message_view(event.message)
    if event.kind in (EventKind.LOCK, EventKind.UNLOCK):
        view["is_locked"] = event.kind == EventKind.LOCK
    return view


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1] + "…"
