"""Group commit: the chat sends waiting for one channel share one transaction.

Every message takes its channel's next seq under the channel's write lock, and a commit
costs a disk sync (SQLite) or a round trip that holds the row lock (PostgreSQL). One
transaction per message made that lock and that sync the limit of a busy channel, and each
message went to every reader as a frame of its own.

So the sends of one channel queue up in each process. The first one in leads: it lets the
sends this process has already received come in (one turn of the event loop), takes up to
CHAT_SEND_BATCH_LIMIT of them (config.py), writes them with operations.write_messages in
its own session, commits once, and the room gets the new messages as one event. Then
every sender of the batch gets its own answer, and the first send still waiting (it came
in while the batch was written) leads the next batch. Nothing waits on a timer: a send
alone is written at once, and batches grow only as sends arrive faster than they are
written.

Order of work stays that of docs/realtime.md: nothing is acknowledged or emitted before the
commit; a batch that fails tells each of its senders that nothing was saved, and their pages
send again with the same client_id.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from flask import current_app
from flask_babel import gettext as _

from app.core.errors import AppError
from app.extensions import db, socketio
from app.modules.chat.operations import OutgoingMessage, SentMessage, write_messages

log = logging.getLogger(__name__)


class BatchFailed(AppError):
    code = "server_error"


class _Waiting:
    """One send in its channel's line, and what became of it."""

    __slots__ = ("leads", "message", "result", "woken")

    def __init__(self, message: OutgoingMessage):
        self.message = message
        self.result: SentMessage | Exception | None = None
        self.leads = False
        # threading.Event is gevent's under the server's monkey patch: waiting yields.
        self.woken = threading.Event()


class SendLines:
    """This process's lines of waiting sends, one per channel (per app: tests build several)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_channel: dict[int, deque[_Waiting]] = {}


def send(message: OutgoingMessage) -> SentMessage:
    """Writes and commits the message, with whatever else waits for its channel, and returns
    it as saved (or as saved before: a duplicate); raises its refusal."""
    lines = _lines()
    waiting = _Waiting(message)
    if message.channel_id in lines.by_channel:
        # It will wait: its read transaction ends, and its connection goes back to the pool
        # for the leader, first. (Not once in the line: a send handed the lead must be
        # there to take it, whatever a commit might raise.)
        db.session.commit()
    with lines.lock:
        line = lines.by_channel.get(message.channel_id)
        if line is None:  # (also when the line ended meanwhile: then it leads)
            line = lines.by_channel[message.channel_id] = deque()
            waiting.leads = True
        line.append(waiting)
    if not waiting.leads:
        waiting.woken.wait()
    if waiting.leads and waiting.result is None:  # first in, or handed the lead
        _lead(lines, message.channel_id)
    if isinstance(waiting.result, Exception):
        raise waiting.result
    return waiting.result


def _lead(lines: SendLines, channel_id: int) -> None:
    socketio.sleep(0)  # the sends already received run up to their place in the line
    # Not more: a bigger batch holds the channel's lock, and its first sender's ack, longer.
    limit = current_app.config["CHAT_SEND_BATCH_LIMIT"]
    with lines.lock:
        line = lines.by_channel[channel_id]
        batch = [line.popleft() for _ in range(min(limit, len(line)))]
    results = None
    try:
        results = _write_and_commit([waiting.message for waiting in batch])
    finally:
        if results is None:  # the leader itself was stopped: its batch must not wait forever
            results = [BatchFailed(_("Something went wrong on our side. Nothing was saved."))] * len(batch)
        for waiting, result in zip(batch, results, strict=True):
            waiting.result = result
            waiting.woken.set()
        with lines.lock:
            successor = line[0] if line else None
            if successor is None:
                del lines.by_channel[channel_id]
            else:
                successor.leads = True
        if successor is not None:
            successor.woken.set()


def _write_and_commit(batch: list[OutgoingMessage]) -> list[SentMessage | Exception]:
    try:
        results = write_messages(batch)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("a batch of %d chat messages to channel %d failed", len(batch), batch[0].channel_id)
        return [BatchFailed(_("Something went wrong on our side. Nothing was saved."))] * len(batch)
    return results


def _lines() -> SendLines:
    extensions = current_app.extensions
    lines = extensions.get("crossclass_chat_send_lines")
    if lines is None:
        lines = extensions.setdefault("crossclass_chat_send_lines", SendLines())
    return lines
