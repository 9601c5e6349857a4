"""Writes of chat. Each change takes the channel's next seq, leaves a ChannelEvent, and is
emitted to the channel's room only after the transaction commits."""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, PermissionDenied
from app.core.sanitize import render_markdown
from app.extensions import db
from app.modules.chat import queries
from app.modules.chat.models import BODY_LIMIT, Channel, ChannelEvent, ChannelKind, EventKind, Message
from app.modules.chat.queries import ChannelAccess
from app.modules.projects.models import Project
from app.modules.projects.queries import require_open
from app.realtime.emit import emit_after_commit


def ensure_channels(project: Project) -> None:
    """The whole-project and teachers-only channels, made on first use."""
    # Stored names are not shown for these two (queries.channel_label translates them for each reader).
    wanted = {"project": (ChannelKind.PROJECT, "Whole exchange"), "teachers": (ChannelKind.TEACHERS, "Teachers")}
    existing = {channel.slug for channel in db.session.query(Channel).filter_by(project_id=project.id)}
    for slug, (kind, name) in wanted.items():
        if slug in existing:
            continue
        try:
            # Two first visits at once: the second one's insert meets the unique key and is dropped.
            with db.session.begin_nested():
                db.session.add(Channel(project_id=project.id, kind=kind, slug=slug, name=name))
        except IntegrityError:
            pass


def send_message(user: User, access: ChannelAccess, client_id, body, reply_to_id=None) -> tuple[Message, bool]:
    """The new message, or the one already sent with this client_id (then True: a duplicate)."""
    channel = access.channel
    client_id = _valid_client_id(client_id)
    existing = queries.message_by_client_id(channel.id, client_id)
    if existing is not None:
        return _as_duplicate(existing, user), True
    _check_writable(access)
    source = _valid_body(body)
    reply_to = queries.message_in_channel(channel, reply_to_id) if reply_to_id is not None else None
    try:
        # The same client_id racing in from a retry: the loser's insert (and its seq) is
        # rolled back with the savepoint, and the winner's message is the answer.
        with db.session.begin_nested():
            seq = _take_seq(access)
            message = Message(
                channel_id=channel.id,
                seq=seq,
                client_id=client_id,
                author_id=user.id,
                body_source=source,
                body_html=render_markdown(source),
                reply_to_id=reply_to.id if reply_to else None,
            )
            db.session.add(message)
            db.session.flush()
            _record(channel, seq, EventKind.MESSAGE, message, user)
    except IntegrityError:
        existing = queries.message_by_client_id(channel.id, client_id)
        if existing is None:
            raise
        return _as_duplicate(existing, user), True
    return message, False


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
    if message.author_id != user.id:
        raise PermissionDenied(_("You can only delete your own messages."))
    if message.is_removed:
        return message
    _check_writable(access)
    channel = access.channel
    seq = _take_seq(access)
    message.deleted_at = utcnow()
    _record(channel, seq, EventKind.DELETE, message, user)
    return message


def hide_message(user: User, access: ChannelAccess, message: Message) -> Message:
    """A teacher takes a message out of view; its place stays as a tombstone, the event is the log."""
    _check_moderator(access)
    if message.hidden_at is not None:
        return message
    require_open(access.project)
    channel = access.channel
    seq = _take_seq(access)
    message.hidden_at = utcnow()
    message.hidden_by_id = user.id
    _record(channel, seq, EventKind.HIDE, message, user)
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
    return channel


# ---- helpers -----------------------------------------------------------------------------


def _as_duplicate(message: Message, user: User) -> Message:
    # client_ids are visible to the room; someone else's cannot stand for this user's message.
    if message.author_id != user.id:
        raise Conflict(_("This message id is already taken. Please reload the page."), code="client_id_taken")
    return message


def _take_seq(access: ChannelAccess) -> int:
    """The channel's next seq, taken under the channel row's write lock.

    One UPDATE … RETURNING both locks the row (PostgreSQL) or takes the database write lock
    (SQLite) and reads the counter, so concurrent writers queue up and seqs stay gap-free.
    It also returns the lock state as committed now, so a lock set meanwhile is respected.
    """
    channel = access.channel
    next_seq, is_locked = db.session.execute(
        update(Channel)
        .where(Channel.id == channel.id)
        .values(next_seq=Channel.next_seq + 1)
        .returning(Channel.next_seq, Channel.is_locked),
        execution_options={"synchronize_session": False},
    ).one()
    if is_locked and not access.may_moderate:
        _refuse_locked()
    db.session.expire(channel, ["next_seq", "is_locked"])
    return next_seq - 1


def _record(channel: Channel, seq: int, kind: EventKind, message: Message | None, user: User) -> None:
    event = ChannelEvent(channel_id=channel.id, seq=seq, kind=kind, message=message, actor_id=user.id)
    db.session.add(event)
    db.session.flush()
    emit_after_commit(db.session, "chat_event", queries.event_view(event), queries.channel_room(channel.id))


def _check_writable(access: ChannelAccess) -> None:
    require_open(access.project)
    if access.role not in queries.WRITER_ROLES:
        raise PermissionDenied(_("You can read this chat but not write in it."))
    if access.channel.is_locked and not access.may_moderate:
        _refuse_locked()


def _refuse_locked():
    raise Conflict(_("This channel is locked by a teacher. You cannot send messages now."), code="channel_locked")


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
