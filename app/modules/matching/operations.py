"""Writes of partner matching: profiles, invitations, matching rounds. Callers commit."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from flask import url_for
from flask_babel import gettext as _

from app.auth.models import SchoolClass, User
from app.core import signals
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, PermissionDenied
from app.core.signals import class_field_changed
from app.extensions import db
from app.modules.matching import queries
from app.modules.matching.explain import explain_violation
from app.modules.matching.models import (
    AvailabilitySlot,
    ClassProfile,
    Invitation,
    InvitationStatus,
    MatchingRound,
    ProposalAnswer,
    RoundEntry,
    RoundProposal,
    RoundStatus,
)
from app.modules.matching.pairing import pair_classes
from app.modules.notifications.operations import mark_read_about, notify_user
from app.modules.projects.models import Project
from app.modules.projects.operations import apply_exchange_setup, create_project
from app.modules.projects.queries import past_partners_of
from app.modules.projects.setup import ExchangeSetup

MESSAGE_LIMIT = 1000


def save_profile(school_class: SchoolClass, data: dict, slots: list[tuple[int, int, int]]) -> ClassProfile:
    """Creates or replaces the class's partner profile and its weekly slots, all or nothing.

    The profile's field is the class's own (chosen once, on the class form)."""
    if not school_class.isced_code:
        raise InvalidInput(_("Choose the class's vocational field from the list first, on the class's page."))
    _check_slots(slots)
    if data["period_end"] < data["period_start"]:
        raise InvalidInput(_("The end cannot be before the start."), field="period_end")
    profile = queries.profile_of(school_class.id)
    if profile is None:
        profile = ClassProfile(class_id=school_class.id)
        db.session.add(profile)
    for name, value in data.items():
        setattr(profile, name, value)
    profile.isced_code = school_class.isced_code
    profile.updated_at = utcnow()
    profile.slots = [AvailabilitySlot(weekday=d, start_minute=s, end_minute=e) for d, s, e in slots]
    db.session.flush()
    return profile


@class_field_changed.connect
def take_class_field(school_class: SchoolClass, **_extra) -> None:
    """The class's teacher changed its field: its partner profile (if any) follows."""
    profile = queries.profile_of(school_class.id)
    if profile is not None and profile.isced_code != school_class.isced_code:
        profile.isced_code = school_class.isced_code
        profile.updated_at = utcnow()


def _check_slots(slots: list[tuple[int, int, int]]) -> None:
    ordered = sorted(slots)
    for weekday, start, end in ordered:
        if not (0 <= weekday <= 6 and 0 <= start < end <= 1440):
            raise InvalidInput(_("A time slot must end after it starts."))
    for (day_a, _start_a, end_a), (day_b, start_b, _end_b) in pairwise(ordered):
        if day_a == day_b and start_b < end_a:
            raise InvalidInput(_("Two time slots overlap."))


# ---- invitations ------------------------------------------------------------------------


def invite_class(user: User, from_class: SchoolClass, to_class: SchoolClass, message: str) -> Invitation:
    if from_class.teacher_id != user.id:
        raise PermissionDenied(_("Only the class's own teacher can invite for it."))
    message = (message or "").strip()
    if len(message) > MESSAGE_LIMIT:
        raise InvalidInput(_("The message can have at most %(count)d characters.", count=MESSAGE_LIMIT), "message")
    mine, theirs = queries.profile_of(from_class.id), queries.profile_of(to_class.id)
    if mine is None:
        raise InvalidInput(_("Fill in your class's partner profile first."))
    if theirs is None or not theirs.is_searchable:
        raise InvalidInput(_("This class does not take invitations."))
    check = queries.pair_score(mine, theirs)
    if check.violations:
        reasons = " ".join(explain_violation(violation) for violation in check.violations)
        raise InvalidInput(_("These classes cannot be paired: %(reason)s", reason=reasons))
    if queries.pending_invitation_between(from_class.id, to_class.id):
        raise Conflict(_("An invitation between these two classes is already waiting for an answer."))
    invitation = Invitation(
        from_class_id=from_class.id,
        to_class_id=to_class.id,
        message=message,
        score=check.score.total,
        created_by_id=user.id,
    )
    db.session.add(invitation)
    db.session.flush()
    notify_user(
        to_class.teacher_id,
        "invitation_received",
        {"from_class": from_class.name, "to_class": to_class.name, "teacher": user.display_name},
        url_for("matching.invitation", invitation_id=invitation.id),
    )
    return invitation


def answer_invitation(user: User, invitation: Invitation, accept: bool) -> Invitation:
    """The invited class's own teacher accepts (a project is created) or declines."""
    if invitation.to_class.teacher_id != user.id:
        raise PermissionDenied(_("Only the invited class's own teacher can answer."))
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(_("This invitation was already answered."))
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.responded_by_id = user.id
    invitation.responded_at = utcnow()
    params = {"from_class": invitation.from_class.name, "to_class": invitation.to_class.name}
    # Answered: its "new invitation" notification is done with, whether read or not.
    mark_read_about(invitation.to_class.teacher_id, url_for("matching.invitation", invitation_id=invitation.id))
    if accept:
        project = create_project(
            user.id,
            [invitation.from_class, invitation.to_class],
            setup=_setup_of(invitation.from_class, invitation.to_class),
        )
        invitation.project_id = project.id
        link = url_for("projects.project_detail", project_id=project.id)
        notify_user(invitation.from_class.teacher_id, "invitation_accepted", params, link)
    else:
        link = url_for("matching.invitation", invitation_id=invitation.id)
        notify_user(invitation.from_class.teacher_id, "invitation_declined", params, link)
    db.session.flush()
    return invitation


def _setup_of(*classes: SchoolClass) -> ExchangeSetup | None:
    profiles = [queries.profile_of(school_class.id) for school_class in classes]
    return queries.exchange_setup(profiles) if all(profiles) else None


@signals.partner_class_added.connect
def start_from_profiles(project: Project, **_extra) -> None:
    """A partner class came in by link (an exchange started with a partner the teacher knew):
    what the teachers have not set yet is filled from the classes' profiles, when all have one."""
    profiles = [queries.profile_of(link.class_id) for link in project.classes]
    if len(profiles) >= 2 and all(profiles):
        apply_exchange_setup(project, queries.exchange_setup(profiles))


def withdraw_invitation(user: User, invitation: Invitation) -> Invitation:
    if invitation.from_class.teacher_id != user.id:
        raise PermissionDenied(_("Only the inviting class's own teacher can withdraw it."))
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(_("This invitation was already answered."))
    invitation.status = InvitationStatus.WITHDRAWN
    invitation.responded_at = utcnow()
    mark_read_about(invitation.to_class.teacher_id, url_for("matching.invitation", invitation_id=invitation.id))
    return invitation


# ---- matching rounds ----------------------------------------------------------------------


def open_round(user: User, title: str, opt_in_until: date) -> MatchingRound:
    if not (user.is_admin or (user.is_coordinator and not user.is_pending)):
        raise PermissionDenied(_("Only coordinators and administrators can open a matching round."))
    if opt_in_until < utcnow().date():
        raise InvalidInput(_("The date cannot be in the past."), field="opt_in_until")
    matching_round = MatchingRound(title=title.strip(), opened_by_id=user.id, opt_in_until=opt_in_until)
    db.session.add(matching_round)
    db.session.flush()
    return matching_round


def opt_in_class(user: User, matching_round: MatchingRound, school_class: SchoolClass) -> RoundEntry:
    if school_class.teacher_id != user.id:
        raise PermissionDenied(_("Only the class's own teacher can opt it in."))
    if matching_round.status != RoundStatus.OPEN or (
        matching_round.opt_in_until and matching_round.opt_in_until < utcnow().date()
    ):
        raise Conflict(_("This round no longer takes classes."))
    if queries.profile_of(school_class.id) is None:
        raise InvalidInput(_("Fill in the class's partner profile before opting it in."), field="class_id")
    if any(entry.class_id == school_class.id for entry in matching_round.entries):
        raise Conflict(_("This class is already in the round."), field="class_id")
    entry = RoundEntry(round_id=matching_round.id, class_id=school_class.id, opted_in_by_id=user.id)
    db.session.add(entry)
    db.session.flush()
    return entry


def opt_out_class(user: User, matching_round: MatchingRound, school_class: SchoolClass) -> None:
    if school_class.teacher_id != user.id:
        raise PermissionDenied(_("Only the class's own teacher can take it out."))
    if matching_round.status != RoundStatus.OPEN:
        raise Conflict(_("The pairs are already computed."))
    for entry in list(matching_round.entries):
        if entry.class_id == school_class.id:
            matching_round.entries.remove(entry)
    db.session.flush()


def compute_round(user: User, matching_round: MatchingRound) -> MatchingRound:
    """Pairs the opted-in classes with the highest total score; every class learns its outcome."""
    if not queries.may_manage_round(matching_round, user):
        raise PermissionDenied(_("Only the coordinator who opened this round can compute it."))
    if matching_round.status != RoundStatus.OPEN:
        raise Conflict(_("The pairs are already computed."))
    profiles = queries.round_profiles(matching_round)
    past = past_partners_of([p.class_id for p in profiles])
    scoring_profiles = [queries.scoring_profile(p, past.get(p.class_id, frozenset())) for p in profiles]
    result = pair_classes(scoring_profiles, queries.settings())
    classes = {p.class_id: p.school_class for p in profiles}
    link = url_for("matching.round_detail", round_id=matching_round.id)
    for class_a, class_b, score in result.pairs:
        matching_round.proposals.append(RoundProposal(class_a_id=class_a, class_b_id=class_b, score=score))
        for mine, partner in ((class_a, class_b), (class_b, class_a)):
            params = {"round": matching_round.title, "class": classes[mine].name, "partner": classes[partner].name}
            notify_user(classes[mine].teacher_id, "round_proposal", params, link)
    for entry in matching_round.entries:
        entry.unmatched_reason = result.unmatched.get(entry.class_id)
        if entry.unmatched_reason:
            params = {"round": matching_round.title, "class": entry.school_class.name}
            notify_user(entry.school_class.teacher_id, "round_unmatched", params, link)
    matching_round.status = RoundStatus.PROPOSED if result.pairs else RoundStatus.CLOSED
    matching_round.computed_at = utcnow()
    matching_round.total_score = result.total_score
    db.session.flush()
    return matching_round


def answer_proposal(user: User, proposal: RoundProposal, school_class: SchoolClass, confirm: bool) -> RoundProposal:
    """A class's own teacher confirms or declines its proposed partner; two yeses make a project."""
    if school_class.teacher_id != user.id:
        raise PermissionDenied(_("Only the class's own teacher can answer for it."))
    if school_class.id not in (proposal.class_a_id, proposal.class_b_id):
        raise PermissionDenied(_("This proposal is not for this class."))
    side = "answer_a" if school_class.id == proposal.class_a_id else "answer_b"
    if getattr(proposal, side) != ProposalAnswer.PENDING or ProposalAnswer.DECLINED in (
        proposal.answer_a,
        proposal.answer_b,
    ):
        raise Conflict(_("This proposal was already answered."))
    setattr(proposal, side, ProposalAnswer.CONFIRMED if confirm else ProposalAnswer.DECLINED)
    partner = proposal.class_b if school_class.id == proposal.class_a_id else proposal.class_a
    params = {"round": proposal.round.title, "class": partner.name, "partner": school_class.name}
    link = url_for("matching.round_detail", round_id=proposal.round_id)
    if not confirm:
        notify_user(partner.teacher_id, "proposal_declined", params, link)
    elif proposal.answer_a == proposal.answer_b == ProposalAnswer.CONFIRMED:
        classes = [proposal.class_a, proposal.class_b]
        project = create_project(user.id, classes, setup=_setup_of(*classes))
        proposal.project_id = project.id
        project_link = url_for("projects.project_detail", project_id=project.id)
        for school in (proposal.class_a, proposal.class_b):
            notify_user(school.teacher_id, "proposal_confirmed", {**params, "class": school.name}, project_link)
    _close_round_when_answered(proposal.round)
    db.session.flush()
    return proposal


def _close_round_when_answered(matching_round: MatchingRound) -> None:
    def settled(p: RoundProposal) -> bool:
        return p.project_id is not None or ProposalAnswer.DECLINED in (p.answer_a, p.answer_b)

    if all(settled(p) for p in matching_round.proposals):
        matching_round.status = RoundStatus.CLOSED
