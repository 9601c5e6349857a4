"""Read-only lookups of chat: who may use which channel, replay, history, and the shapes sent to clients."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Integer, and_, bindparam, exists, false, func, null, select
from sqlalchemy.orm import joinedload, selectinload

from app.auth import names
from app.auth.models import User
from app.core.db import is_db_int, utcnow
from app.core.errors import NotFound, PermissionDenied
from app.extensions import db
from app.modules.chat.models import (
    Channel,
    ChannelEvent,
    ChannelKind,
    ChannelMember,
    ChannelRead,
    EventKind,
    Message,
    Mute,
    Reaction,
)
from app.modules.projects.models import (
    TEACHER_ROLES,
    WRITER_ROLES,
    Project,
    ProjectMember,
    ProjectRole,
    Team,
    TeamMembership,
)
from app.modules.projects.queries import current_student_ids, project_role, project_role_columns, role_from_columns

REPLAY_PAGE = 200
HISTORY_PAGE = 50
EXCERPT_LENGTH = 80
# The reactions on offer: a small fixed set, so a reaction cannot carry a message of its own.
REACTION_EMOJI = ("👍", "❤️", "😂", "😮", "🎉", "👏")
# Channel kinds in the order the channel list shows them.
KIND_ORDER = {ChannelKind.PROJECT: 0, ChannelKind.TEACHERS: 1, ChannelKind.TEAM: 2, ChannelKind.DIRECT: 3}


CHANNEL_ROOM_PREFIX = "chat:channel:"


def channel_room(channel_id: int) -> str:
    return f"{CHANNEL_ROOM_PREFIX}{channel_id}"


def notice_room(channel_id: int) -> str:
    """Pages open on another channel listen here for this one's new messages (chat_notice),
    to keep its unread count live without receiving its messages."""
    return f"chat:notice:{channel_id}"


def counts_unread(channel: Channel, user: User) -> bool:
    """A teacher is not a member of the pupils' direct channels (they may read them for
    safeguarding): those never count as unread for them."""
    return channel.kind != ChannelKind.DIRECT or user.is_student


# Who may write in a channel they can read; visitors (a coordinator, a parent) only read.


@dataclass(frozen=True)
class ChannelAccess:
    """A channel, its project, and the user's role in the project as it is now."""

    channel: Channel
    project: Project
    role: ProjectRole
    # False when the channel is history for this user: an earlier team's channel, a direct
    # channel whose team no longer allows direct messages, a pupils' direct channel for a teacher.
    may_post: bool = True
    # Whether the user had a mute in force when access was checked (None: not looked at);
    # moderation.check_not_muted looks the mute up only when there is one.
    muted: bool | None = None
    # Whether partners may see this user's display name (app/auth/names.py), read with the
    # access check: a message's view carries its author's public name, and a send must not
    # spend a query on it.
    shares_first_name: bool = False

    def public_name(self, user: User) -> str:
        """The user's name as everyone reading the channel may see it."""
        return names.public_name(user, self.shares_first_name)

    @property
    def may_moderate(self) -> bool:
        return self.role in TEACHER_ROLES

    @property
    def may_write(self) -> bool:
        return self.role in WRITER_ROLES and not self.project.is_closed and self.may_post


def is_archived(channel: Channel) -> bool:
    """A team channel whose team was replaced (see operations.archive_team_channels)."""
    return channel.kind == ChannelKind.TEAM and channel.team_id is None


def channel_role(channel: Channel, project: Project, user: User) -> ProjectRole | None:
    """The user's project role when they may read this channel, else None."""
    role = project_role(project, user)
    if role is None:
        return None
    return role if _may_read(channel, user, role, _TeamFacts.of(project, user, role)) else None


@dataclass(frozen=True)
class _TeamFacts:
    """What reading rights depend on, loaded once per user and project."""

    team_id: int | None
    direct_channel_ids: frozenset[int]

    @classmethod
    def of(cls, project: Project, user: User, role: ProjectRole) -> _TeamFacts:
        if role != ProjectRole.STUDENT:
            return cls(None, frozenset())
        team_id = db.session.scalar(
            select(TeamMembership.team_id).where(
                TeamMembership.project_id == project.id, TeamMembership.student_id == user.id
            )
        )
        direct = db.session.scalars(
            select(ChannelMember.channel_id)
            .join(Channel, Channel.id == ChannelMember.channel_id)
            .where(ChannelMember.user_id == user.id, Channel.project_id == project.id)
        )
        return cls(team_id, frozenset(direct))


def _may_read(channel: Channel, user: User, role: ProjectRole, facts: _TeamFacts) -> bool:
    if role in TEACHER_ROLES:
        # Teachers read every channel of their exchange, pupils' direct ones included
        # (safeguarding; the direct channel says so to its two pupils).
        return True
    if channel.kind == ChannelKind.PROJECT:
        return True
    if channel.kind == ChannelKind.TEAM:
        return role == ProjectRole.STUDENT and channel.team_id is not None and channel.team_id == facts.team_id
    if channel.kind == ChannelKind.DIRECT:
        return role == ProjectRole.STUDENT and channel.id in facts.direct_channel_ids
    return False  # the teachers' channel


def _may_post(channel: Channel, role: ProjectRole) -> bool:
    if is_archived(channel):
        return False
    if channel.kind == ChannelKind.DIRECT:
        return role == ProjectRole.STUDENT and direct_messages_allowed(channel)
    return True


def direct_members(channel: Channel) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(ChannelMember, ChannelMember.user_id == User.id)
            .where(ChannelMember.channel_id == channel.id)
            .order_by(User.display_name, User.id)
        )
    )


def direct_messages_allowed(channel: Channel) -> bool:
    """Both pupils are in one team of the project now, and its teachers allow direct messages there."""
    member_ids = select(ChannelMember.user_id).where(ChannelMember.channel_id == channel.id)
    rows = db.session.execute(
        select(TeamMembership.team_id, Team.allow_direct_messages)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.project_id == channel.project_id, TeamMembership.student_id.in_(member_ids))
    ).all()
    return len(rows) == 2 and rows[0].team_id == rows[1].team_id and rows[0].allow_direct_messages


@functools.cache
def _access_statement(student: bool, coordinator: bool):
    """The channel, its project and every fact reading rights depend on, in one query.

    Built once per kind of person (bind parameters channel_id, user_id, school_id): every
    socket event of chat runs it, and building it anew cost more than running it.
    """
    user_id, school_id = bindparam("user_id", type_=Integer), bindparam("school_id", type_=Integer)
    team_id = (
        select(TeamMembership.team_id)
        .where(TeamMembership.project_id == Project.id, TeamMembership.student_id == user_id)
        .limit(1)
        .scalar_subquery()
        if student
        else null()
    )
    in_direct = (
        exists().where(ChannelMember.channel_id == Channel.id, ChannelMember.user_id == user_id) if student else false()
    )
    role_columns = project_role_columns(Project.id, user_id, school_id, student=student, coordinator=coordinator)
    muted = exists().where(
        Mute.project_id == Project.id, Mute.user_id == user_id, Mute.lifted_at.is_(None), Mute.until > bindparam("now")
    )
    shares_first_name = names.shares_first_name_column(user_id) if student else false()
    return (
        select(Channel, Project, *role_columns, team_id, in_direct, muted, shares_first_name)
        .join(Project, Project.id == Channel.project_id)
        .where(Channel.id == bindparam("channel_id", type_=Integer))
    )


def channel_for_user(channel_id, user: User) -> ChannelAccess:
    """The channel, checked against the user's project role, class and team membership as they are now."""
    # Every socket event runs this: one round trip, then channel_role's rules on its values.
    row = None
    if is_db_int(channel_id):
        statement = _access_statement(user.is_student, user.is_coordinator)
        parameters = {"channel_id": channel_id, "user_id": user.id, "school_id": user.school_id, "now": utcnow()}
        row = db.session.execute(statement, parameters).one_or_none()
    if row is None:
        raise NotFound(_("This chat channel does not exist."))
    channel, project, teaches, learns, member_role, of_own_school, team_id, in_direct, muted, shares_first_name = row
    role = role_from_columns(user, teaches, learns, member_role, of_own_school)
    facts = _TeamFacts(team_id, frozenset([channel.id]) if in_direct else frozenset())
    if role is None or not _may_read(channel, user, role, facts):
        raise PermissionDenied(_("You are not a member of this chat channel."))
    return ChannelAccess(channel, project, role, _may_post(channel, role), bool(muted), bool(shares_first_name))


def channels_for(project: Project, user: User) -> list[Channel]:
    """The channels this user may read, in the order of the channel list."""
    role = project_role(project, user)
    if role is None:
        return []
    facts = _TeamFacts.of(project, user, role)
    channels = db.session.scalars(select(Channel).where(Channel.project_id == project.id))
    readable = [channel for channel in channels if _may_read(channel, user, role, facts)]
    return sorted(readable, key=lambda c: (is_archived(c), KIND_ORDER[c.kind], c.name.casefold(), c.id))


def readable_among(channel_ids: Iterable[int], user: User) -> dict[int, Channel]:
    """Of these channels, those the user may read now, by id: channels_for once per project
    (a page lists one exchange's channels), not an access check per channel."""
    wanted = set(channel_ids)
    projects = db.session.scalars(
        select(Project).where(Project.id.in_(select(Channel.project_id).where(Channel.id.in_(wanted))))
    )
    readable = (channel for project in projects for channel in channels_for(project, user))
    return {channel.id: channel for channel in readable if channel.id in wanted}


def reader_ids(access: ChannelAccess) -> set[int]:
    """Who may read the channel now (people who read through a school role, such as a
    coordinator, are not counted: they are not part of the exchange's people)."""
    channel, project = access.channel, access.project
    teachers = {link.school_class.teacher_id for link in project.classes}
    members = db.session.execute(
        select(ProjectMember.user_id, ProjectMember.role).where(ProjectMember.project_id == project.id)
    ).all()
    teachers |= {user_id for user_id, role in members if role in TEACHER_ROLES}
    if channel.kind == ChannelKind.TEACHERS or is_archived(channel):
        return teachers
    if channel.kind == ChannelKind.DIRECT:
        member_ids = select(ChannelMember.user_id).where(ChannelMember.channel_id == channel.id)
        return teachers | (set(db.session.scalars(member_ids)) & current_student_ids(project))
    if channel.kind == ChannelKind.TEAM:
        team = select(TeamMembership.student_id).where(TeamMembership.team_id == channel.team_id)
        return teachers | (set(db.session.scalars(team)) & current_student_ids(project))
    return teachers | {user_id for user_id, _role in members} | current_student_ids(project)


def users_by_id(user_ids: Iterable[int]) -> dict[int, User]:
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))}


# ---- unread ------------------------------------------------------------------------------


def unread_counts(user: User, channels: Iterable[Channel]) -> dict[int, int]:
    """Per channel: the messages by others, not removed, after what the user has read
    (in the channels that counts_unread for the user)."""
    channel_ids = [c.id for c in channels if counts_unread(c, user)]
    if not channel_ids:
        return {}
    read = and_(ChannelRead.channel_id == Message.channel_id, ChannelRead.user_id == user.id)
    rows = db.session.execute(
        select(Message.channel_id, func.count(Message.id))
        .outerjoin(ChannelRead, read)
        .where(
            Message.channel_id.in_(channel_ids),
            Message.author_id != user.id,
            Message.deleted_at.is_(None),
            Message.hidden_at.is_(None),
            Message.seq > func.coalesce(ChannelRead.last_read_seq, 0),
        )
        .group_by(Message.channel_id)
    )
    return {channel_id: count for channel_id, count in rows}


def read_marks(user: User, channels: Iterable[Channel]) -> dict[int, int]:
    """Per channel: the last seq the user has read (absent: nothing read yet)."""
    channel_ids = [c.id for c in channels]
    rows = db.session.execute(
        select(ChannelRead.channel_id, ChannelRead.last_read_seq).where(
            ChannelRead.user_id == user.id, ChannelRead.channel_id.in_(channel_ids)
        )
    )
    return {channel_id: seq for channel_id, seq in rows}


def unread_total(project: Project, user: User) -> int:
    return sum(unread_counts(user, channels_for(project, user)).values())


def last_read_seq(channel_id: int, user_id: int) -> int:
    read = db.session.get(ChannelRead, (channel_id, user_id))
    return read.last_read_seq if read else 0


def message_by_client_id(channel_id: int, client_id: str) -> Message | None:
    return db.session.scalar(select(Message).where(Message.channel_id == channel_id, Message.client_id == client_id))


def message_in_channel(channel: Channel, message_id) -> Message:
    # With its author, whom every view of it names (a reply's view is built while the new
    # message holds the channel's seq lock, and must not query then).
    author = joinedload(Message.author).joinedload(User.school)
    message = db.session.get(Message, message_id, options=[author]) if is_db_int(message_id) else None
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


def channel_label(channel: Channel, viewer: User | None = None) -> str:
    """The name to show, in the reader's language (the stored name serves team channels;
    a direct channel is named after the other pupil, or both for a teacher)."""
    if channel.kind == ChannelKind.PROJECT:
        return _("Whole exchange")
    if channel.kind == ChannelKind.TEACHERS:
        return _("Teachers")
    if channel.kind == ChannelKind.DIRECT:
        shown = names.NameResolver(viewer)
        people = [u for u in direct_members(channel) if viewer is None or u.id != viewer.id]
        return " & ".join(shown(u) for u in people) or channel.name
    if is_archived(channel):
        return _("%(team)s (earlier team)", team=channel.name)
    return channel.name


def channel_view(channel: Channel, viewer: User | None = None) -> dict:
    return {
        "id": channel.id,
        "kind": channel.kind.value,
        "name": channel_label(channel, viewer),
        "is_locked": channel.is_locked,
        "last_seq": channel.last_seq,
    }


def message_state(message: Message) -> str:
    if message.hidden_at is not None:
        return "hidden"
    if message.deleted_at is not None:
        return "deleted"
    return "visible"


def reactions_of(message_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Per message: [{emoji, user_ids}] in the order of REACTION_EMOJI, only those given.

    Reactor ids rather than a per-viewer flag: a message view goes to the whole room, so
    each client works out "mine" itself.
    """
    message_ids = list(message_ids)
    if not message_ids:
        return {}
    rows = db.session.execute(
        select(Reaction.message_id, Reaction.emoji, Reaction.user_id)
        .where(Reaction.message_id.in_(message_ids))
        .order_by(Reaction.id)
    )
    grouped: dict[int, dict[str, list[int]]] = {}
    for message_id, emoji, user_id in rows:
        grouped.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    return {
        message_id: [{"emoji": e, "user_ids": by_emoji[e]} for e in REACTION_EMOJI if e in by_emoji]
        for message_id, by_emoji in grouped.items()
    }


def message_views(messages: Iterable[Message]) -> list[dict]:
    """Views of many messages, their reactions and their authors' public names loaded in one query each."""
    messages = list(messages)
    reactions = reactions_of(m.id for m in messages if not m.is_removed)
    public = public_names_of(messages)
    return [message_view(m, reactions.get(m.id, []), public) for m in messages]


def public_names_of(messages: Iterable[Message]) -> dict[int, str]:
    """The public names (app/auth/names.py) of these messages' authors and quoted authors.

    Every view of a message carries only these: views go to a whole room, partner schools
    included. A page whose reader may see more shows it from its roster (chat.js)."""
    people = {}
    for message in messages:
        people[message.author_id] = message.author
        if message.reply_to is not None:
            people[message.reply_to.author_id] = message.reply_to.author
    return names.public_names(people.values())


def message_view(message: Message, reactions: list[dict] | None = None, public: dict[int, str] | None = None) -> dict:
    """A message as it is now; removed ones keep only their place (a tombstone), not their text.
    `public`: public names by user id, covering its author and quoted author (else looked up)."""
    removed = message.is_removed
    if removed:
        reactions = []
    elif reactions is None:
        reactions = reactions_of([message.id]).get(message.id, [])
    if public is None:
        public = public_names_of([message])
    author = message.author
    reply = message.reply_to
    return {
        "id": message.id,
        "channel_id": message.channel_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "author_id": message.author_id,
        "author_name": public[message.author_id],
        "author_country": author.school.country if author.school else None,
        "state": message_state(message),
        "body_html": None if removed else message.body_html,
        "body_source": None if removed else message.body_source,
        "is_edited": message.edited_at is not None and not removed,
        "created_at": message.created_at.isoformat(),
        "reactions": reactions,
        "reply_to": _reply_view(reply, public),
    }


def new_message_view(
    message_id: int,
    channel_id: int,
    seq: int,
    client_id: str,
    author: User,
    author_name: str,
    body_source: str,
    body_html: str,
    created_at,
    reply_to: Message | None,
    reply_author_name: str | None = None,
) -> dict:
    """message_view of a message just written, from the values at hand (no row loaded):
    visible, not edited, no reactions yet. Kept equal to message_view by the tests.
    The names are public names (author_name: ChannelAccess.public_name)."""
    return {
        "id": message_id,
        "channel_id": channel_id,
        "seq": seq,
        "client_id": client_id,
        "author_id": author.id,
        "author_name": author_name,
        "author_country": author.school.country if author.school else None,
        "state": "visible",
        "body_html": body_html,
        "body_source": body_source,
        "is_edited": False,
        "created_at": created_at.isoformat(),
        "reactions": [],
        "reply_to": _reply_view(reply_to, {reply_to.author_id: reply_author_name} if reply_to is not None else {}),
    }


def _reply_view(reply: Message | None, public: dict[int, str]) -> dict | None:
    """The quoted message as a reply shows it: who wrote it and its start (none once removed)."""
    if reply is None:
        return None
    return {
        "id": reply.id,
        "author_id": reply.author_id,
        "author_name": public[reply.author_id],
        "excerpt": None if reply.is_removed else _excerpt(reply.body_source),
    }


def event_views(events: Iterable[ChannelEvent]) -> list[dict]:
    events = list(events)
    reactions = reactions_of({e.message_id for e in events if e.message is not None and not e.message.is_removed})
    public = public_names_of(e.message for e in events if e.message is not None)
    return [event_view(e, reactions.get(e.message_id, []), public) for e in events]


def event_view(event: ChannelEvent, reactions: list[dict] | None = None, public: dict[int, str] | None = None) -> dict:
    """An event for replay or live delivery; a message in it is shown as it is now."""
    view = {"channel_id": event.channel_id, "seq": event.seq, "kind": event.kind.value}
    if event.message is not None:
        view["message"] = message_view(event.message, reactions, public)
    if event.kind in (EventKind.LOCK, EventKind.UNLOCK):
        view["is_locked"] = event.kind == EventKind.LOCK
    return view


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1] + "…"
