"""Writes of chat. Each change takes the channel's next seq, leaves a ChannelEvent, and is
emitted to the channel's room only after the transaction commits."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.auth import names
from app.auth.models import User
from app.core import signals
from app.core.db import is_db_int, utcnow
from app.core.errors import AppError, Conflict, InvalidInput, PermissionDenied
from app.core.sanitize import render_markdown
from app.extensions import db
from app.modules.chat import queries
from app.modules.chat.models import (
    BODY_LIMIT,
    Channel,
    ChannelEvent,
    ChannelKind,
    ChannelMember,
    ChannelRead,
    EventKind,
    Message,
    Reaction,
)
from app.modules.chat.moderation import check_not_muted, close_reports_acted_on, log_action
from app.modules.chat.queries import ChannelAccess
from app.modules.projects.models import Project, ProjectRole, Team, TeamMembership
from app.modules.projects.queries import project_role, require_open, team_of_student
from app.realtime.emit import emit_after_commit
from app.realtime.revoke import leave_rooms_after_commit
from app.realtime.rooms import user_room


def ensure_channels(project: Project) -> None:
    """The whole-project and teachers-only channels, and one channel per team, made on first use."""
    # Stored names are not shown for these two (queries.channel_label translates them for each reader).
    wanted = {
        "project": (ChannelKind.PROJECT, "Whole exchange", None),
        "teachers": (ChannelKind.TEACHERS, "Teachers", None),
    }
    for team in project.teams:
        wanted[f"team:{team.id}"] = (ChannelKind.TEAM, team.name, team.id)
    existing = {channel.slug: channel for channel in db.session.query(Channel).filter_by(project_id=project.id)}
    for slug, (kind, name, team_id) in wanted.items():
        if slug in existing:
            if kind == ChannelKind.TEAM and existing[slug].name != name:
                existing[slug].name = name  # renamed before this channel kept itself in step
            continue
        try:
            # Two first visits at once: the second one's insert meets the unique key and is dropped.
            with db.session.begin_nested():
                db.session.add(Channel(project_id=project.id, kind=kind, slug=slug, name=name, team_id=team_id))
        except IntegrityError:
            pass


@signals.teams_replacing.connect
def archive_team_channels(project: Project, team_ids=(), **_details) -> None:
    """The channels of teams about to be replaced become history that only teachers read.

    Kept, not deleted: what pupils wrote is part of the exchange's record, and a teacher may
    need it later (a report about something said there comes in after the teams changed).
    Pupils lose them because the team that let them read is gone; the new teams start with
    empty channels, never with another team's conversation. The slug is freed at once: SQLite
    hands the ids of deleted teams to the next new ones, and "team:<id>" must then mean the new team.
    """
    if not team_ids:
        return
    old = list(
        db.session.scalars(
            select(Channel).where(
                Channel.project_id == project.id, Channel.kind == ChannelKind.TEAM, Channel.team_id.in_(list(team_ids))
            )
        )
    )
    for channel in old:
        channel.team_id = None
        channel.slug = f"team-archive:{channel.id}"
    db.session.flush()
    # Their pupils' sockets already in those rooms must stop receiving them (a teacher hiding a
    # message there later); the rest of their connection stays.
    pupils = db.session.scalars(
        select(TeamMembership.student_id).where(
            TeamMembership.project_id == project.id, TeamMembership.team_id.in_(list(team_ids))
        )
    )
    rooms = [room for channel in old for room in (queries.channel_room(channel.id), queries.notice_room(channel.id))]
    leave_rooms_after_commit(pupils, rooms)


@signals.team_renamed.connect
def rename_team_channel(project: Project, team: Team, **_details) -> None:
    channel = db.session.scalar(
        select(Channel).where(Channel.project_id == project.id, Channel.slug == f"team:{team.id}")
    )
    if channel is not None:
        channel.name = team.name


@signals.direct_messages_changed.connect
def log_direct_messages_switch(project: Project, team: Team, actor_id: int, allowed: bool, **_details) -> None:
    action = "direct_messages_allowed" if allowed else "direct_messages_stopped"
    log_action(project.id, actor_id, action, team_id=team.id, team_name=team.name)
    if not allowed:
        # Pages open on these conversations switch their composer off at once, not at the next send.
        in_team = select(TeamMembership.student_id).where(TeamMembership.team_id == team.id)
        direct_ids = db.session.scalars(
            select(Channel.id)
            .join(ChannelMember, ChannelMember.channel_id == Channel.id)
            .where(
                Channel.project_id == project.id, Channel.kind == ChannelKind.DIRECT, ChannelMember.user_id.in_(in_team)
            )
            .distinct()
        )
        for channel_id in direct_ids:
            notice = {"channel_id": channel_id, "writable": False}
            emit_after_commit(db.session, "chat_writable", notice, queries.channel_room(channel_id))


def open_direct_channel(user: User, project: Project, other_id) -> Channel:
    """The direct channel of two pupils of one team whose teachers allow it (the existing one if any)."""
    require_open(project)
    other = db.session.get(User, other_id) if is_db_int(other_id) else None
    if other is None or other.id == user.id:
        raise InvalidInput(_("Choose a pupil of your team."), field="user_id")
    if project_role(project, user) != ProjectRole.STUDENT:
        raise PermissionDenied(_("Only pupils can start a direct conversation."))
    team = team_of_student(project, user.id)
    if (
        team is None
        or project_role(project, other) != ProjectRole.STUDENT
        or team_of_student(project, other.id) != team
    ):
        raise InvalidInput(_("You can write privately only to a pupil of your own team."), field="user_id")
    if not team.allow_direct_messages:
        raise PermissionDenied(_("Your teachers have not switched on direct messages for your team."))
    low, high = sorted((user.id, other.id))
    slug = f"direct:{low}:{high}"
    existing = db.session.scalar(select(Channel).where(Channel.project_id == project.id, Channel.slug == slug))
    if existing is not None:
        return existing
    try:
        with db.session.begin_nested():
            channel = Channel(project_id=project.id, kind=ChannelKind.DIRECT, slug=slug, name=f"{low} & {high}")
            db.session.add(channel)
            db.session.flush()
            db.session.add_all([ChannelMember(channel_id=channel.id, user_id=uid) for uid in (low, high)])
            db.session.flush()
    except IntegrityError:
        # Both pupils opened it at the same moment: the other insert won.
        channel = db.session.scalar(select(Channel).where(Channel.project_id == project.id, Channel.slug == slug))
        if channel is None:
            raise
    return channel


def send_message(user: User, access: ChannelAccess, client_id, body, reply_to_id=None) -> tuple[Message, bool]:
    """The new message as a row, or the one already sent with this client_id (then True: a duplicate)."""
    sent = post_message(user, access, client_id, body, reply_to_id)
    return sent.message or db.session.get(Message, sent.id), sent.duplicate


@dataclass(frozen=True)
class SentMessage:
    id: int
    seq: int
    duplicate: bool
    view: dict  # queries.message_view's shape
    message: Message | None = None  # the row, when one was loaded (a duplicate)


@dataclass(frozen=True)
class OutgoingMessage:
    """A message checked and rendered, waiting for its seq.

    Plain values only: group commit (chat/group_commit.py) may write it in another socket
    event's session, where this event's rows are not at hand.
    """

    channel_id: int
    client_id: str
    author_id: int
    may_moderate: bool
    body_source: str
    body_html: str
    created_at: datetime
    reply_to_id: int | None
    view: dict  # its message view, but for id and seq


def post_message(user: User, access: ChannelAccess, client_id, body, reply_to_id=None) -> SentMessage:
    """Sends one message in the session's transaction: the new one, or the one already sent
    with this client_id. (chat_send sends through group_commit, which batches the same steps.)"""
    outgoing = prepare_message(user, access, client_id, body, reply_to_id)
    if isinstance(outgoing, SentMessage):
        return outgoing
    (result,) = write_messages([outgoing])
    if isinstance(result, Exception):
        raise result
    return result


def prepare_message(user: User, access: ChannelAccess, client_id, body, reply_to_id=None):
    """Everything of a send that can come before its seq: checks, reads, markdown.

    Returns an OutgoingMessage for write_messages, or, when the send is refused (locked,
    muted, too long …) but a message was already saved under this client_id, that message
    as a SentMessage duplicate: its ack was lost, and the page asks again.
    """
    channel = access.channel
    client_id = _valid_client_id(client_id)
    try:
        _check_writable(access)
        source = _valid_body(body)
        reply_to = queries.message_in_channel(channel, reply_to_id) if reply_to_id is not None else None
    except AppError:
        existing = queries.message_by_client_id(channel.id, client_id)
        if existing is None:
            raise
        return _sent_duplicate(existing, user.id)
    body_html = render_markdown(source)
    created_at = utcnow()
    reply_author_name = names.public_names([reply_to.author])[reply_to.author_id] if reply_to is not None else None
    view = queries.new_message_view(
        0,
        channel.id,
        0,
        client_id,
        user,
        access.public_name(user),
        source,
        body_html,
        created_at,
        reply_to,
        reply_author_name,
    )
    return OutgoingMessage(
        channel_id=channel.id,
        client_id=client_id,
        author_id=user.id,
        may_moderate=access.may_moderate,
        body_source=source,
        body_html=body_html,
        created_at=created_at,
        reply_to_id=reply_to.id if reply_to is not None else None,
        view=view,
    )


def write_messages(batch: Sequence[OutgoingMessage]) -> list[SentMessage | Exception]:
    """Writes messages to one channel in the session's transaction, each with the next seq.

    One UPDATE takes seqs for the whole batch and, with them, the channel row's lock
    (PostgreSQL) or the database's write lock (SQLite) until the commit: every other writer
    to the channel waits for it, so nothing but the inserts happens while it is held. The
    messages and their events are two multi-row Core INSERTs, and the views are built from
    the values at hand, not through the ORM's unit of work (which cost about a fifth of a
    send's CPU).

    A duplicate client_id (a retry) fails those INSERTs: then each message is written in a
    savepoint of its own, so the retry rolls back only its own insert and is answered with
    the message saved before. A message refused because the channel was locked meanwhile
    fails alone. Seqs are numbered as the inserts succeed and the counter is set back when
    some did not, so seqs stay gap-free.

    Returns one result per message, in order: a SentMessage, or the exception refusing it.
    The new messages go to the room after the commit as one event: chat_event, or for
    several, chat_event_batch, which every reader gets in one frame.
    """
    channel_id = batch[0].channel_id
    assert all(message.channel_id == channel_id for message in batch), "one channel per batch"
    db.session.flush()  # as the ORM's autoflush would before a statement (a no-op when nothing is pending)
    taken = {"channel_id": channel_id, "count": len(batch)}
    next_seq, is_locked = db.session.connection().execute(_take_seqs_statement(), taken).one()
    first_seq = next_seq - len(batch)
    results: list[SentMessage | Exception | None] = [None] * len(batch)
    writable = []
    for index, message in enumerate(batch):
        if is_locked and not message.may_moderate:
            results[index] = _saved_before(message, _locked_refusal())
        else:
            writable.append((index, message))
    try:
        written = _insert_messages(writable, first_seq)
    except IntegrityError:
        written = _insert_messages_one_by_one(writable, first_seq, results)
    events = []
    for index, (message_id, seq) in written.items():
        view = {**batch[index].view, "id": message_id, "seq": seq}
        results[index] = SentMessage(message_id, seq, False, view)
        events.append({"channel_id": channel_id, "seq": seq, "kind": EventKind.MESSAGE.value, "message": view})
    end_seq = first_seq + len(written)
    if end_seq != next_seq:  # some were not written: the seqs taken for them go back
        db.session.connection().execute(_set_next_seq_statement(), {"channel_id": channel_id, "next_seq": end_seq})
    channel = db.session.identity_map.get(db.session.identity_key(Channel, channel_id))
    if channel is not None:
        db.session.expire(channel, ["next_seq", "is_locked"])
    room = queries.channel_room(channel_id)
    # Queued after the savepoints' release: they go out with the outer commit, or not at all.
    if len(events) == 1:
        emit_after_commit(db.session, "chat_event", events[0], room)
    elif events:
        emit_after_commit(db.session, "chat_event_batch", {"channel_id": channel_id, "events": events}, room)
    if events:
        # Who wrote each (a page does not count its own user's messages as unread).
        author_ids = [event["message"]["author_id"] for event in events]
        notice = {"channel_id": channel_id, "seq": events[-1]["seq"], "author_ids": author_ids}
        emit_after_commit(db.session, "chat_notice", notice, queries.notice_room(channel_id))
    return results


Written = dict[int, tuple[int, int]]  # the message's index in its batch -> (id, seq), in seq order


def _insert_messages(writable: list[tuple[int, OutgoingMessage]], first_seq: int) -> Written:
    """All messages in one savepoint, with seqs from first_seq on; raises IntegrityError (a
    duplicate client_id) with nothing written."""
    if not writable:
        return {}
    rows = [_message_row(message, first_seq + offset) for offset, (_index, message) in enumerate(writable)]
    with db.session.begin_nested():
        # The connection asked for inside the savepoint: that is what emits it.
        connection = db.session.connection()
        ids = connection.execute(_insert_message(), rows).scalars().all()
        connection.execute(_insert_event(), [{**row, "message_id": id_} for row, id_ in zip(rows, ids, strict=True)])
    return {index: (id_, row["seq"]) for (index, _message), row, id_ in zip(writable, rows, ids, strict=True)}


def _insert_messages_one_by_one(writable, first_seq: int, results: list) -> Written:
    """Each message in a savepoint of its own: those refused get their answer in results."""
    written: Written = {}
    for index, message in writable:
        try:
            written |= _insert_messages([(index, message)], first_seq + len(written))
        except IntegrityError as error:
            results[index] = _saved_before(message, error)
    return written


def _message_row(message: OutgoingMessage, seq: int) -> dict:
    """The values of both INSERTs (message, and its event but for message_id)."""
    return {
        "channel_id": message.channel_id,
        "seq": seq,
        "client_id": message.client_id,
        "author_id": message.author_id,
        "body_source": message.body_source,
        "body_html": message.body_html,
        "reply_to_id": message.reply_to_id,
        "created_at": message.created_at,
        "kind": EventKind.MESSAGE,
        "actor_id": message.author_id,
        "payload": None,
    }


def _saved_before(message: OutgoingMessage, refusal: Exception) -> SentMessage | Exception:
    """A message refused in the insert, answered with the one saved before under its client_id
    when there is one (a retry; or a refusal that must not hide a message saved earlier)."""
    existing = queries.message_by_client_id(message.channel_id, message.client_id)
    if existing is None:
        return refusal
    try:
        return _sent_duplicate(existing, message.author_id)
    except AppError as error:
        return error


def _sent_duplicate(existing: Message, author_id: int) -> SentMessage:
    message = _as_duplicate(existing, author_id)
    return SentMessage(message.id, message.seq, True, queries.message_view(message), message)


@functools.cache
def _insert_message():
    # In the order of the rows given, also when several go in one statement.
    return insert(Message.__table__).returning(Message.__table__.c.id, sort_by_parameter_order=True)


@functools.cache
def _insert_event():
    return insert(ChannelEvent.__table__)


def edit_message(user: User, access: ChannelAccess, message: Message, body) -> Message:
    if message.author_id != user.id:
        raise PermissionDenied(_("You can only edit your own messages."))
    if message.is_removed:
        raise Conflict(_("This message was removed and cannot be edited."))
    _check_writable(access)
    source = _valid_body(body)
    if source == message.body_source:
        return message
    channel = access.channel
    seq = _take_seq(access)
    message.body_source = source
    message.body_html = render_markdown(source)
    message.edited_at = utcnow()
    _record(channel, seq, EventKind.EDIT, message, user)
    return message


def delete_message(user: User, access: ChannelAccess, message: Message) -> Message:
    """The author takes back their message, or a teacher removes anyone's; a tombstone stays."""
    by_moderator = message.author_id != user.id
    if by_moderator and not access.may_moderate:
        raise PermissionDenied(_("You can only delete your own messages."))
    if message.is_removed:
        return message
    _check_writable(access)
    channel = access.channel
    seq = _take_seq(access)
    message.deleted_at = utcnow()
    _record(channel, seq, EventKind.DELETE, message, user)
    _notice_removal(message)
    if by_moderator:
        log_action(
            access.project.id,
            user.id,
            "delete",
            channel_id=channel.id,
            message_id=message.id,
            target_user_id=message.author_id,
        )
    return message


def _notice_removal(message: Message) -> None:
    """Pages open on another channel count this one's unread messages (chat_notice): one of
    them may have just been counted out."""
    removed = {"channel_id": message.channel_id, "seq": message.seq, "author_id": message.author_id}
    emit_after_commit(db.session, "chat_notice_removed", removed, queries.notice_room(message.channel_id))


def set_reaction(user: User, access: ChannelAccess, message: Message, emoji, on=None) -> tuple[Message, int | None]:
    """Puts the user's reaction on a message, or takes it off (on=None: the opposite of now).

    Returns the message and the seq of the change, or None when nothing changed (a retry).
    """
    if not isinstance(emoji, str) or emoji not in queries.REACTION_EMOJI:
        raise InvalidInput(_("This reaction is not available."), code="invalid_reaction", field="emoji")
    if on is not None and not isinstance(on, bool):
        raise InvalidInput(_("This request is not understood. Please reload the page."), field="on")
    if message.is_removed:
        raise Conflict(_("This message was removed."), code="message_removed")
    _check_writable(access)
    existing = _reaction_of(message, user, emoji)
    wanted = existing is None if on is None else on
    if wanted == (existing is not None):
        return message, None
    try:
        # The seq first: it takes the channel row's lock, so two changes of one reaction queue
        # up. The reaction is looked up again under that lock: the same change from another tab
        # may have committed since the look above. Then nothing changes, and the savepoint gives
        # the seq back (no gap). The unique key stays the last word on a race.
        with db.session.begin_nested():
            seq = _take_seq(access)
            existing = _reaction_of(message, user, emoji)
            if wanted == (existing is not None):
                raise _NoChange
            if wanted:
                db.session.add(Reaction(message_id=message.id, user_id=user.id, emoji=emoji))
            else:
                db.session.delete(existing)
            db.session.flush()
            payload = {"emoji": emoji, "on": wanted, "user_id": user.id}
            _record(access.channel, seq, EventKind.REACTION, message, user, payload)
    except (_NoChange, IntegrityError):
        return message, None
    return message, seq


def mark_read(user: User, access: ChannelAccess, seq) -> int:
    """Moves the user's read mark up to seq (never down, never past the channel's end)."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidInput(_("This request is not understood. Please reload the page."), field="seq")
    channel = access.channel
    seq = min(seq, channel.last_seq)
    moved = db.session.execute(
        update(ChannelRead)
        .where(ChannelRead.channel_id == channel.id, ChannelRead.user_id == user.id, ChannelRead.last_read_seq < seq)
        .values(last_read_seq=seq),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not moved and db.session.get(ChannelRead, (channel.id, user.id)) is None:
        try:
            with db.session.begin_nested():
                db.session.add(ChannelRead(channel_id=channel.id, user_id=user.id, last_read_seq=seq))
            moved = 1
        except IntegrityError:
            # Another tab made the row meanwhile; move it up like above.
            moved = db.session.execute(
                update(ChannelRead)
                .where(
                    ChannelRead.channel_id == channel.id,
                    ChannelRead.user_id == user.id,
                    ChannelRead.last_read_seq < seq,
                )
                .values(last_read_seq=seq),
                execution_options={"synchronize_session": False},
            ).rowcount
    current = db.session.scalar(
        select(ChannelRead.last_read_seq).where(ChannelRead.channel_id == channel.id, ChannelRead.user_id == user.id)
    )
    if moved:
        # The user's other tabs update their unread counts.
        emit_after_commit(
            db.session, "chat_read", {"channel_id": channel.id, "last_read_seq": current}, user_room(user.id)
        )
    return current


def hide_message(user: User, access: ChannelAccess, message: Message) -> Message:
    """A teacher takes a message out of view; its place stays as a tombstone, the event is the log."""
    _check_moderator(access)
    if message.hidden_at is not None:
        return message
    require_open(access.project)
    channel = access.channel
    seq = _take_seq(access)
    was_counted_out = message.is_removed  # deleted by its author before: counted out then
    message.hidden_at = utcnow()
    message.hidden_by_id = user.id
    _record(channel, seq, EventKind.HIDE, message, user)
    if not was_counted_out:
        _notice_removal(message)
    log_action(
        access.project.id,
        user.id,
        "hide",
        channel_id=channel.id,
        message_id=message.id,
        target_user_id=message.author_id,
    )
    # Hidden from the chat page: its open reports are answered by that (from the queue, the
    # queue closed them first and none are left here).
    close_reports_acted_on(user, access.project, message, "hide")
    return message


def set_channel_lock(user: User, access: ChannelAccess, locked) -> Channel:
    _check_moderator(access)
    if not isinstance(locked, bool):
        raise InvalidInput(_("Say whether the channel is to be locked."))
    require_open(access.project)
    channel = access.channel
    if channel.is_locked == locked:
        return channel
    seq = _take_seq(access)
    channel.is_locked = locked
    _record(channel, seq, EventKind.LOCK if locked else EventKind.UNLOCK, None, user)
    log_action(access.project.id, user.id, "lock" if locked else "unlock", channel_id=channel.id)
    return channel


# ---- helpers -----------------------------------------------------------------------------


class _NoChange(Exception):
    """Rolls a savepoint back when, under the lock, the change turns out to be made already."""


def _reaction_of(message: Message, user: User, emoji: str) -> Reaction | None:
    return db.session.scalar(
        select(Reaction)
        .where(Reaction.message_id == message.id, Reaction.user_id == user.id, Reaction.emoji == emoji)
        .execution_options(populate_existing=True)
    )


def _as_duplicate(message: Message, author_id: int) -> Message:
    # client_ids are visible to the room; someone else's cannot stand for this user's message.
    if message.author_id != author_id:
        raise Conflict(_("This message id is already taken. Please reload the page."), code="client_id_taken")
    return message


def _take_seq(access: ChannelAccess) -> int:
    """The channel's next seq, taken under the channel row's write lock.

    One UPDATE … RETURNING both locks the row (PostgreSQL) or takes the database write lock
    (SQLite) and reads the counter, so concurrent writers queue up and seqs stay gap-free.
    It also returns the lock state as committed now, so a lock set meanwhile is respected.
    """
    channel = access.channel
    # On the session's connection, as Core: the ORM's bulk UPDATE machinery cost more than the
    # statement. flush() first, as the ORM's autoflush would (a no-op when nothing is pending).
    db.session.flush()
    taken = {"channel_id": channel.id, "count": 1}
    next_seq, is_locked = db.session.connection().execute(_take_seqs_statement(), taken).one()
    if is_locked and not access.may_moderate:
        _refuse_locked()
    db.session.expire(channel, ["next_seq", "is_locked"])
    return next_seq - 1


@functools.cache
def _take_seqs_statement():
    # Built once: every write to a channel runs it, and building it was a good part of its cost.
    table = Channel.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("channel_id"))
        .values(next_seq=table.c.next_seq + bindparam("count"))
        .returning(table.c.next_seq, table.c.is_locked)
    )


@functools.cache
def _set_next_seq_statement():
    table = Channel.__table__
    return update(table).where(table.c.id == bindparam("channel_id")).values(next_seq=bindparam("next_seq"))


def _record(
    channel: Channel,
    seq: int,
    kind: EventKind,
    message: Message | None,
    user: User,
    payload: dict | None = None,
) -> None:
    """Leaves the event and queues it for the room."""
    event = ChannelEvent(channel_id=channel.id, seq=seq, kind=kind, message=message, actor_id=user.id, payload=payload)
    db.session.add(event)
    db.session.flush()
    view = queries.event_view(event)
    emit_after_commit(db.session, "chat_event", view, queries.channel_room(channel.id))


def _check_writable(access: ChannelAccess) -> None:
    require_open(access.project)
    if access.role not in queries.WRITER_ROLES:
        raise PermissionDenied(_("You can read this chat but not write in it."))
    if not access.may_post:
        raise Conflict(_("This conversation can be read but no longer written."), code="channel_read_only")
    if access.channel.is_locked and not access.may_moderate:
        _refuse_locked()
    check_not_muted(access)


def _refuse_locked():
    raise _locked_refusal()


def _locked_refusal() -> Conflict:
    return Conflict(_("This channel is locked by a teacher. You cannot send messages now."), code="channel_locked")


def _check_moderator(access: ChannelAccess) -> None:
    if not access.may_moderate:
        raise PermissionDenied(_("Only the teachers of this exchange can do this."))


def _valid_client_id(client_id) -> str:
    try:
        return str(uuid.UUID(str(client_id))) if isinstance(client_id, str) else _bad_client_id()
    except ValueError:
        return _bad_client_id()


def _bad_client_id():
    raise InvalidInput(_("The message has no valid client id. Please reload the page."), field="client_id")


def _valid_body(body) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput(_("Write a message first."), field="body")
    source = body.strip()
    if len(source) > BODY_LIMIT:
        raise InvalidInput(
            _("Your message is too long: at most %(limit)d characters.", limit=BODY_LIMIT),
            code="message_too_long",
            field="body",
        )
    return source
