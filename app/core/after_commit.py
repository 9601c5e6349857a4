"""Run work after commit: nothing leaves the process that the database did not keep.

Writers call run_after_commit() inside their transaction; the actions wait in the session
and run only when its outermost transaction commits. Each action remembers the transaction
(or savepoint) it was queued in, so rolling back a savepoint drops only the actions queued
inside it: chat's retry path rolls back a duplicate `client_id` insert in a savepoint and
still commits the rest.

It lives in core because layers below realtime need it too (a password-reset e-mail from
auth); socket emits (app/realtime/emit.py) and e-mail (app/core/mail.py) both queue here,
in the order they were written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

_PENDING = "crossclass_pending_emits"
_COMMITTED = "crossclass_committed_emits"  # committed, to run once the transaction has ended
log = logging.getLogger(__name__)


def run_after_commit(session: Session | scoped_session, action: Callable[[], None], description: str) -> None:
    """Runs `action` once the session's outermost transaction commits; drops it on rollback.

    An action that fails is logged with `description`, never raised.
    """
    if isinstance(session, scoped_session):  # db.session: the current request's session
        session = session()
    # Begin explicitly when nothing has run yet: a rollback of a session that never began
    # fires no event, and the queued action would leak into the session's next commit.
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_PENDING, []).append((transaction, action, description))


def transaction_within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    """Whether `transaction` is `ended` or nested in it (what that rollback also undid)."""
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    # Fires for the outermost commit only; a released savepoint's actions wait for it. The
    # actions run a moment later, at the transaction's end (below): here the session still
    # holds its pooled connection, and an action that uses the database (the disconnect
    # handlers of a pupil whose access shrank) would need a second one. With every
    # connection of a fixed pool held by such a commit, each would wait for another.
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info[_COMMITTED] = pending


@event.listens_for(Session, "after_transaction_end")
def _run_committed(session: Session, transaction: SessionTransaction) -> None:
    # After the commit's close(), which gave the connection back to the pool. A session
    # closed without commit or rollback ends its transaction without any rollback event;
    # whatever is still pending then was never committed.
    if transaction.parent is not None:
        return
    session.info.pop(_PENDING, None)
    for _transaction, action, description in session.info.pop(_COMMITTED, []):
        try:
            action()
        except Exception:
            # The data is committed; a lost follow-up (a live update is repaired by the
            # client's replay from last_seq) must not turn a saved write into an error.
            log.exception("could not %s after commit", description)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [entry for entry in pending if not transaction_within(entry[0], previous_transaction)]
