"""Socket events keep their session and channel checks while nothing they read has changed
(app/realtime/auth_cache.py). What is kept must never outlive a change: these tests change
what a kept check read and expect the very next event to see it. Across two processes:
tests/chat/test_scale_out.py (a logout, a mute)."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.extensions import db, socketio
from app.realtime import auth_cache
from app.realtime.rooms import project_scope, user_scope
from tests.chat.conftest import join, send
from tests.chat.test_send_cost import recorded_statements


def warm(sock, channel_id: int) -> None:
    """A join and a send: the channel's first check (never kept) and one that is."""
    assert join(sock, channel_id)["ok"] and send(sock, channel_id, "warm-up")["ok"]


def test_a_socket_that_checked_before_sends_with_its_writes_alone(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    warm(ana, exchange.channel.id)
    with recorded_statements() as statements:
        assert send(ana, exchange.channel.id, "no session or access query")["ok"]
    # The seq, then the message and its event in their savepoint; all in the savepoint that
    # stands for the test's transaction (the outer SAVEPOINT ... RELEASE).
    kinds = [s.split()[0] for s in statements]
    assert kinds == ["SAVEPOINT", "UPDATE", "SAVEPOINT", "INSERT", "INSERT", "RELEASE", "RELEASE"]


def test_a_renamed_pupil_sends_under_the_new_name_at_once(exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    warm(ana, exchange.channel.id)
    # (The room sees a pupil's display name only when her classes let partners see it.)
    exchange.class_pt.partners_see_first_names = True
    db.session.flush()
    assert send(ana, exchange.channel.id, "hi")["message"]["author_name"] == "Ana"
    exchange.ana.display_name = "Ana Sofia"
    db.session.flush()
    assert send(ana, exchange.channel.id, "hello")["message"]["author_name"] == "Ana Sofia"


def test_a_closed_exchange_refuses_the_next_message_at_once(exchange, browsers):
    from app.modules.projects.models import ProjectStatus

    ben = browsers.connect_as(exchange.ben)
    warm(ben, exchange.channel.id)
    exchange.project.status = ProjectStatus.CLOSED
    db.session.flush()
    refused = send(ben, exchange.channel.id, "still open?")
    assert refused["ok"] is False and refused["error"]["code"] == "project_closed", refused


def test_a_check_read_before_a_change_is_not_revived_by_a_later_one(app, exchange, browsers):
    """A socket left a scope's room (a change) and joined it again for a newer check: the
    older check, read before the change, must stay void."""
    ana = browsers.connect_as(exchange.ana)
    sid = socketio.server.manager.sid_from_eio_sid(ana.eio_sid, "/")
    scope = project_scope(exchange.project.id)
    with app.test_request_context():
        cache = current_app.extensions["crossclass_realtime"].auth_cache
        before = cache.join(sid, [scope])
        cache.put(sid, "older", "read before the change", before)
        assert cache.get(sid, "older") == "read before the change"
        socketio.server.close_room(scope, namespace="/")  # what a commit touching the project does
        cache.put(sid, "newer", "read after it", cache.join(sid, [scope]))
        assert cache.get(sid, "newer") == "read after it"
        assert cache.get(sid, "older") is None


def test_a_kept_check_expires_and_goes_with_its_socket(app, exchange, browsers):
    ana = browsers.connect_as(exchange.ana)
    sid = socketio.server.manager.sid_from_eio_sid(ana.eio_sid, "/")
    with app.test_request_context():
        cache = auth_cache.SocketAuthCache(seconds=0.05)
        cache.put(sid, "short", 1, cache.join(sid, []))
        cache.seconds = 60
        cache.put(sid, "long", 2, cache.join(sid, []))
        time.sleep(0.1)
        assert cache.get(sid, "short") is None and cache.get(sid, "long") == 2
        cache.forget(sid)
        assert cache.get(sid, "long") is None


# ---- the registration a module makes (watch_changes) ---------------------------------------
# Two models outside the app's own (their own metadata: migrations and create_all never see
# them), their tables made inside the test's transaction and rolled back with it.


class _ProbeBase(DeclarativeBase):
    pass


class WatchedProbe(_ProbeBase):
    __tablename__ = "kept_check_probe_watched"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(Integer)


class UnwatchedProbe(_ProbeBase):
    __tablename__ = "kept_check_probe_unwatched"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)


def _owner_scope(row, _deleted):
    return [user_scope(row.owner_id)]


def _project_scope(row, _deleted):
    return [project_scope(row.project_id)]


auth_cache.watch_changes(WatchedProbe, _owner_scope)
auth_cache.watch_changes(WatchedProbe, _owner_scope)  # as a module imported twice would
auth_cache.watch_changes(WatchedProbe, _project_scope)


def kept_under(app, sock, scopes: list[str]):
    """Keeps a check for the socket under `scopes`; returns a function telling whether it still counts."""
    sid = socketio.server.manager.sid_from_eio_sid(sock.eio_sid, "/")
    with app.test_request_context():
        cache = current_app.extensions["crossclass_realtime"].auth_cache
        key = ("probe", tuple(scopes))
        cache.put(sid, key, "kept", cache.join(sid, scopes))
    return lambda: cache.get(sid, key) == "kept"


def test_a_change_of_a_watched_model_voids_the_checks_of_the_scopes_it_names(app, exchange, browsers):
    _ProbeBase.metadata.create_all(db.session.connection())
    ana = browsers.connect_as(exchange.ana)
    ana_check = kept_under(app, ana, [user_scope(exchange.ana.id)])
    ben_check = kept_under(app, ana, [user_scope(exchange.ben.id)])
    project_check = kept_under(app, ana, [project_scope(exchange.project.id)])

    # A model nobody watches voids nothing, added, changed or deleted.
    unwatched = UnwatchedProbe(owner_id=exchange.ana.id)
    db.session.add(unwatched)
    db.session.flush()
    unwatched.owner_id = exchange.ben.id
    db.session.flush()
    db.session.delete(unwatched)
    db.session.flush()
    assert ana_check() and ben_check() and project_check()

    # A watched one voids the checks of its owner and, through the second function
    # registered for the same model, of its project; another user's stay.
    watched = WatchedProbe(owner_id=exchange.ana.id, project_id=exchange.project.id)
    db.session.add(watched)
    db.session.flush()
    assert not ana_check() and not project_check() and ben_check()

    # Changed (to Ben's) and deleted: each voids the checks of the scopes the row names.
    watched.owner_id = exchange.ben.id
    db.session.flush()
    assert not ben_check()
    ben_check = kept_under(app, ana, [user_scope(exchange.ben.id)])
    db.session.delete(watched)
    db.session.flush()
    assert not ben_check()


def test_registering_the_same_function_again_adds_nothing():
    assert auth_cache._watched[WatchedProbe] == (_owner_scope, _project_scope)


def test_every_model_the_session_and_channel_checks_read_is_watched(app):
    """The models load_session_user and chat's channel access read; each module watches
    its own (a model missing here would let a change go unseen for up to
    SOCKET_AUTH_CACHE_SECONDS)."""
    from app.auth.models import ClassMembership, School, SchoolClass, User, UserSession
    from app.modules.chat.models import Channel, ChannelMember, Mute
    from app.modules.projects.models import Project, ProjectClass, ProjectMember, Team, TeamMembership

    read_by_checks = {School, SchoolClass, User, UserSession, ClassMembership}
    read_by_checks |= {Channel, ChannelMember, Mute, Project, ProjectClass, ProjectMember, Team, TeamMembership}
    assert read_by_checks <= set(auth_cache._watched)
