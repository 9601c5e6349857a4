"""Invitation links of an exchange: a partner class, a co-teacher, a guest mentor or a visitor.

The link carries a random secret; the database keeps only its SHA-256, so a link cannot be
read back out of it. A link has an end date and a number of uses, and a teacher can revoke it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import AccountStatus, Role, SchoolClass, User
from app.auth.operations import check_password_strength
from app.auth.passwords import hash_password
from app.auth.queries import classes_of_teacher
from app.core import signals
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.modules.projects import queries
from app.modules.projects.models import (
    InviteKind,
    Project,
    ProjectClass,
    ProjectInvite,
    ProjectMember,
    ProjectRole,
)
from app.modules.projects.operations import record_activity

MAX_VALID_DAYS = 60
MAX_USES = 100  # e.g. one link for the parents of a class
MAX_PARTNER_CLASSES = 6  # an exchange is between a few classes, not a network
MAX_OPEN_INVITES = 30
LABEL_LIMIT = 120

MEMBER_ROLE = {
    InviteKind.TEACHER: ProjectRole.TEACHER,
    InviteKind.GUEST_MENTOR: ProjectRole.GUEST_MENTOR,
    InviteKind.VISITOR: ProjectRole.VISITOR,
}
# People without an account can make one from these links; the others need a teacher's account.
ACCOUNT_FROM_LINK = (InviteKind.GUEST_MENTOR, InviteKind.VISITOR)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewInvite:
    invite: ProjectInvite
    token: str  # shown once, right after creation


def create_invite(
    project: Project, user: User, kind: InviteKind, label: str, valid_days: int, max_uses: int
) -> NewInvite:
    queries.require_open(project)
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise InvalidInput(_("A link is valid for 1 to %(count)d days.", count=MAX_VALID_DAYS), field="valid_days")
    if not 1 <= max_uses <= MAX_USES:
        raise InvalidInput(_("A link can be used 1 to %(count)d times.", count=MAX_USES), field="max_uses")
    label = " ".join((label or "").split())
    if len(label) > LABEL_LIMIT:
        raise InvalidInput(_("Use at most %(count)d characters.", count=LABEL_LIMIT), field="label")
    if len(open_invites(project)) >= MAX_OPEN_INVITES:
        raise Conflict(
            _("This exchange has %(count)d open links. Revoke some first.", count=MAX_OPEN_INVITES),
            code="too_many_invites",
        )
    token = secrets.token_urlsafe(24)
    invite = ProjectInvite(
        project_id=project.id,
        token_hash=_hash(token),
        kind=kind,
        label=label,
        created_by_id=user.id,
        expires_at=utcnow() + timedelta(days=valid_days),
        max_uses=max_uses,
        uses=0,
    )
    db.session.add(invite)
    db.session.flush()
    return NewInvite(invite, token)


def open_invites(project: Project) -> list[ProjectInvite]:
    now = utcnow()
    invites = db.session.scalars(
        select(ProjectInvite)
        .where(ProjectInvite.project_id == project.id, ProjectInvite.revoked_at.is_(None))
        .order_by(ProjectInvite.created_at.desc(), ProjectInvite.id.desc())
    )
    return [i for i in invites if i.expires_at > now and i.uses < i.max_uses]


def revoke_invite(project: Project, invite_id: int) -> ProjectInvite:
    invite = db.session.get(ProjectInvite, invite_id)
    if invite is None or invite.project_id != project.id:
        raise NotFound(_("This link does not exist."))
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
    db.session.flush()
    return invite


def invite_by_token(token: str) -> ProjectInvite:
    """The invitation this link stands for while it is still usable; the same answer for a wrong,
    expired, used-up or revoked link, so that links cannot be probed."""
    invite = db.session.scalar(select(ProjectInvite).where(ProjectInvite.token_hash == _hash(token or "")))
    usable = (
        invite is not None
        and invite.revoked_at is None
        and invite.expires_at > utcnow()
        and invite.uses < invite.max_uses
        and not invite.project.is_closed
    )
    if not usable:
        raise NotFound(_("This invitation link is no longer valid. Ask the teacher who sent it for a new one."))
    return invite


def classes_that_may_join(invite: ProjectInvite, user: User) -> list[SchoolClass]:
    """The user's own classes that are not yet partners of the exchange."""
    taken = {link.class_id for link in invite.project.classes}
    return [c for c in classes_of_teacher(user) if c.id not in taken] if user.is_teacher else []


def accept_invite(invite: ProjectInvite, user: User, class_id: int | None = None) -> ProjectRole:
    """Lets this (logged-in) user into the exchange as the link says; the role they have then."""
    project = invite.project
    if invite.kind == InviteKind.PARTNER_CLASS:
        _add_partner_class(invite, user, class_id)
        role = ProjectRole.TEACHER_ADMIN
    else:
        role = _add_member(invite, user)
    _use(invite)
    record_activity(project, user.id, "member_joined", role=role.value)
    db.session.flush()
    return role


def create_guest_and_accept(invite: ProjectInvite, display_name: str, email: str, password: str) -> User:
    """A guest mentor's or visitor's own account, made from the link, already in the exchange."""
    if invite.kind not in ACCOUNT_FROM_LINK:
        raise PermissionDenied(_("Teachers join with their teacher account. Please log in or register first."))
    display_name = " ".join((display_name or "").split())
    email = (email or "").strip().lower()
    if not display_name:
        raise InvalidInput(_("Enter your name."), field="display_name")
    if "@" not in email or len(email) > 254:
        raise InvalidInput(_("Enter a valid e-mail address."), field="email")
    check_password_strength(password, email, display_name=display_name, email=email)
    password_hash = hash_password(password)
    if _account_exists(email):
        _refuse_account_exists()
    guest = User(
        username=email,
        email=email,
        password_hash=password_hash,
        display_name=display_name[:120],
        role=Role.GUEST,
        status=AccountStatus.ACTIVE,
    )
    try:
        # The same form sent twice at once (a double click): the unique e-mail decides.
        with db.session.begin_nested():
            db.session.add(guest)
            db.session.flush()
    except IntegrityError:
        _refuse_account_exists()
    accept_invite(invite, guest)
    return guest


def _account_exists(email: str) -> bool:
    return db.session.scalar(select(User.id).where((User.email == email) | (User.username == email))) is not None


def _refuse_account_exists():
    # Not an enumeration leak worth hiding here: the link itself is the secret, and the
    # person needs to know to log in instead.
    raise Conflict(
        _("There is already an account with this e-mail. Log in with it to accept the invitation."),
        code="account_exists",
    )


def remove_member(project: Project, member_id: int, by: User) -> ProjectMember:
    queries.require_open(project)
    member = db.session.get(ProjectMember, member_id)
    if member is None or member.project_id != project.id:
        raise NotFound(_("This person is not a member of this exchange."))
    db.session.delete(member)
    # Their open sockets are ended after the commit: one already in a chat room (the teachers'
    # one, for a co-teacher) would otherwise keep receiving it until it next spoke.
    signals.access_reduced.send(member.user_id)
    record_activity(project, by.id, "member_removed", name=member.user.display_name)
    db.session.flush()
    return member


def _add_partner_class(invite: ProjectInvite, user: User, class_id: int | None) -> None:
    if not user.is_teacher or user.is_pending:
        raise PermissionDenied(_("Only a validated teacher can bring a class into an exchange."))
    school_class = next((c for c in classes_that_may_join(invite, user) if c.id == class_id), None)
    if school_class is None:
        raise InvalidInput(_("Choose one of your classes that is not in this exchange yet."), field="class_id")
    if len(invite.project.classes) >= MAX_PARTNER_CLASSES:
        raise Conflict(
            _("An exchange has at most %(count)d partner classes.", count=MAX_PARTNER_CLASSES), code="too_many"
        )
    try:
        # The same class brought in twice at once (a double click, two teachers of the class).
        with db.session.begin_nested():
            db.session.add(ProjectClass(project_id=invite.project_id, class_id=school_class.id))
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("This class is already in this exchange."), code="class_already_in") from None
    db.session.expire(invite.project, ["classes"])
    signals.partner_class_added.send(invite.project, class_id=school_class.id)


def _add_member(invite: ProjectInvite, user: User) -> ProjectRole:
    project = invite.project
    role = MEMBER_ROLE[invite.kind]
    if user.is_student:
        raise PermissionDenied(_("Pupils belong to an exchange through their class, not through a link."))
    if invite.kind == InviteKind.TEACHER and (not user.is_teacher or user.is_pending):
        raise PermissionDenied(_("Only a validated teacher can join as a teacher."))
    if _already_member(project, user):
        _refuse_already_member()
    try:
        # The same link used twice at once (a double click): the unique key decides.
        with db.session.begin_nested():
            db.session.add(ProjectMember(project_id=project.id, user_id=user.id, role=role))
            db.session.flush()
    except IntegrityError:
        _refuse_already_member()
    return role


def _already_member(project: Project, user: User) -> bool:
    has_row = db.session.scalar(
        select(ProjectMember.id).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    )
    return queries.project_role(project, user) == ProjectRole.TEACHER_ADMIN or has_row is not None


def _refuse_already_member():
    raise Conflict(_("You already belong to this exchange."), code="already_member")


def _use(invite: ProjectInvite) -> None:
    # Counted in the database, so two people using the last place at once cannot both get in.
    taken = db.session.execute(
        update(ProjectInvite)
        .where(ProjectInvite.id == invite.id, ProjectInvite.uses < ProjectInvite.max_uses)
        .values(uses=ProjectInvite.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        raise NotFound(_("This invitation link is no longer valid. Ask the teacher who sent it for a new one."))
    db.session.expire(invite, ["uses"])
