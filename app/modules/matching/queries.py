"""Read-only lookups of partner matching: profiles as scoring sees them, suggestions, invitations, rounds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.auth.models import SchoolClass, User
from app.auth.operations import CEFR_LEVELS
from app.core.db import utcnow
from app.core.errors import NotFound, PermissionDenied
from app.core.weekly_slots import register_slot_source
from app.extensions import db
from app.modules.matching.explain import explain_violation
from app.modules.matching.models import (
    ClassProfile,
    Invitation,
    InvitationStatus,
    MatchingRound,
    RoundEntry,
    RoundProposal,
)
from app.modules.matching.scoring import (
    PairScore,
    Profile,
    Settings,
    Slot,
    hard_violations,
    score_pair,
    weekly_overlap,
)
from app.modules.projects.queries import past_partner_ids
from app.modules.projects.setup import ExchangeSetup, ordered_themes, period_overlap, windows_to_slots

try:  # the vectorised index needs numpy; pair by pair gives the same answer on small data sets
    from app.modules.matching.index import PartnerIndex
except ImportError:  # pragma: no cover
    PartnerIndex = None

SUGGESTION_LIMIT = 20


def settings() -> Settings:
    return Settings.from_config(current_app.config)


def profile_of(class_id: int) -> ClassProfile | None:
    return db.session.scalar(select(ClassProfile).where(ClassProfile.class_id == class_id))


def scoring_profile(profile: ClassProfile, past_partners: frozenset[int] | None = None) -> Profile:
    school_class = profile.school_class
    school = school_class.school
    return Profile(
        class_id=school_class.id,
        country=school.country,
        timezone=school.timezone,
        latitude=school.latitude,
        longitude=school.longitude,
        isced=profile.isced_code,
        eqf=school_class.eqf_level,
        age_min=school_class.age_min,
        age_max=school_class.age_max,
        size=school_class.size,
        languages={lang.language: CEFR_LEVELS.index(lang.cefr_level) + 1 for lang in school_class.languages},
        period_start=profile.period_start,
        period_end=profile.period_end,
        mode=profile.mode.value,
        can_send=profile.can_send,
        can_host=profile.can_host,
        wants_live=profile.wants_live,
        slots=tuple(Slot(s.weekday, s.start_minute, s.end_minute) for s in profile.slots),
        themes=frozenset(profile.themes or ()),
        preferred_countries=frozenset(profile.preferred_countries or ()),
        excluded_countries=frozenset(profile.excluded_countries or ()),
        max_distance_km=profile.max_distance_km,
        allows_mixed_ages=profile.allows_mixed_ages,
        past_partner_class_ids=past_partner_ids(school_class.id) if past_partners is None else past_partners,
        teacher_id=school_class.teacher_id,
        school_id=school_class.school_id,
        city=school.city,
    )


def weekly_slots_of_classes(class_ids: list[int]) -> dict[int, tuple[Slot, ...]]:
    """The weekly live slots of these classes' profiles (an exchange proposes sessions in them)."""
    profiles = db.session.scalars(
        select(ClassProfile).where(ClassProfile.class_id.in_(class_ids)).options(selectinload(ClassProfile.slots))
    )
    return {p.class_id: tuple(Slot(s.weekday, s.start_minute, s.end_minute) for s in p.slots) for p in profiles}


# Projects read the slots through app/core/weekly_slots.py: they may not import matching.
register_slot_source(weekly_slots_of_classes)


def _profiles_query():
    return select(ClassProfile).options(
        selectinload(ClassProfile.slots),
        selectinload(ClassProfile.school_class).selectinload(SchoolClass.languages),
        selectinload(ClassProfile.school_class).selectinload(SchoolClass.school),
        selectinload(ClassProfile.school_class).selectinload(SchoolClass.teacher),
    )


@dataclass
class Suggestion:
    profile: ClassProfile
    score: PairScore
    partner: Profile  # as scoring saw it

    @property
    def school_class(self) -> SchoolClass:
        return self.profile.school_class

    @property
    def percent(self) -> int:
        return round(self.score.total * 100)


@dataclass
class SuggestionResult:
    suggestions: list[Suggestion]
    considered: int = 0  # searchable classes that pass the filters
    ruled_out: Counter = field(default_factory=Counter)  # violation code -> classes it ruled out
    target: Profile | None = None


def _matches_filters(profile: ClassProfile, filters: dict) -> bool:
    school_class = profile.school_class
    if filters.get("field") and not profile.isced_code.startswith(filters["field"]):
        return False
    if filters.get("country") and school_class.school.country != filters["country"]:
        return False
    if filters.get("language") and filters["language"] not in {lang.language for lang in school_class.languages}:
        return False
    text = filters.get("q", "").casefold()
    if text:
        haystack = " ".join(
            (school_class.name, profile.qualification, school_class.school.name, school_class.school.city)
        ).casefold()
        if text not in haystack:
            return False
    return True


def suggestions_for(profile: ClassProfile, filters: dict | None = None, limit: int = SUGGESTION_LIMIT):
    """The best partners for a class, each passing every hard constraint, best first."""
    filters = filters or {}
    target = scoring_profile(profile)
    rules = settings()
    candidates = {
        other.class_id: other
        for other in db.session.scalars(
            _profiles_query().where(ClassProfile.is_searchable.is_(True), ClassProfile.class_id != profile.class_id)
        )
        if _matches_filters(other, filters)
    }
    # The repeat penalty is symmetric, so the target's own past partners are enough.
    partners = [scoring_profile(other, past_partners=frozenset()) for other in candidates.values()]
    result = SuggestionResult([], considered=len(partners), target=target)
    for partner, score in _best_partners(target, partners, rules, limit):
        result.suggestions.append(Suggestion(candidates[partner.class_id], score, partner))
    if not result.suggestions:
        for partner in partners:
            for violation in hard_violations(target, partner, rules):
                result.ruled_out[violation.code] += 1
    return result


def _best_partners(target: Profile, partners: list[Profile], rules: Settings, limit: int):
    # The field, country and language filters are already applied: the index ranks what is left.
    if PartnerIndex is not None and partners:
        return PartnerIndex(partners, rules).suggest(target, limit)
    scored = [
        (partner, score_pair(target, partner, rules))
        for partner in partners
        if not hard_violations(target, partner, rules)
    ]
    scored.sort(key=lambda item: (-item[1].total, item[0].class_id))
    return scored[:limit]


def pair_score(profile_a: ClassProfile, profile_b: ClassProfile) -> PairCheck:
    """The hard-constraint check and (when it passes) the score of two profiles."""
    a, b = scoring_profile(profile_a), scoring_profile(profile_b)
    rules = settings()
    violations = hard_violations(a, b, rules)
    return PairCheck(violations, None if violations else score_pair(a, b, rules), a, b)


@dataclass
class PairCheck:
    violations: list
    score: PairScore | None
    a: Profile
    b: Profile


def exchange_setup(profiles: Sequence[ClassProfile]) -> ExchangeSetup:
    """What a new exchange of these classes starts from: the days all their periods cover, the
    languages all of them work in, their themes (shared ones first) and, for two classes, the
    weekly live time they share, as slots in the first class's school time."""
    period = period_overlap((p.period_start, p.period_end) for p in profiles)
    language_sets = [{lang.language for lang in p.school_class.languages} for p in profiles]
    themes = ordered_themes(*[list(p.themes or ()) + list(p.free_tags or ()) for p in profiles])
    slots: tuple = ()
    zone = profiles[0].school_class.school.timezone if profiles else None
    if len(profiles) == 2:
        a, b = (scoring_profile(p, frozenset()) for p in profiles)
        # Apart periods still get times: the teachers may agree on new dates and keep them.
        start = period[0] if period else utcnow().date()
        end = period[1] if period else start + timedelta(days=6)
        windows = weekly_overlap(a, b, start, end).sample_windows
        slots = windows_to_slots(((w.start, w.end) for w in windows), zone)
    return ExchangeSetup(
        period=period,
        languages=tuple(sorted(set.intersection(*language_sets))) if language_sets else (),
        themes=themes,
        slots=slots,
        slot_zone=zone if slots else None,
        periods_apart=bool(profiles) and period is None,
    )


# ---- access -----------------------------------------------------------------------------


def class_for_own_teacher(class_id: int, user: User) -> SchoolClass:
    """The class if this user is its own teacher: only they invite, accept or confirm for it."""
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFound(_("This class does not exist."))
    if school_class.teacher_id != user.id:
        raise PermissionDenied(_("Only the class's own teacher can do this."))
    return school_class


# ---- invitations --------------------------------------------------------------------------


def pending_invitation_between(class_a_id: int, class_b_id: int) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(
            Invitation.status == InvitationStatus.PENDING,
            or_(
                (Invitation.from_class_id == class_a_id) & (Invitation.to_class_id == class_b_id),
                (Invitation.from_class_id == class_b_id) & (Invitation.to_class_id == class_a_id),
            ),
        )
    )


def pending_partner_ids(class_id: int) -> set[int]:
    rows = db.session.execute(
        select(Invitation.from_class_id, Invitation.to_class_id).where(
            Invitation.status == InvitationStatus.PENDING,
            or_(Invitation.from_class_id == class_id, Invitation.to_class_id == class_id),
        )
    )
    return {a if b == class_id else b for a, b in rows}


def invitations_of_teacher(user: User) -> tuple[list[Invitation], list[Invitation]]:
    """(received, sent) invitations of the classes this teacher teaches, newest first."""
    mine = select(SchoolClass.id).where(SchoolClass.teacher_id == user.id)
    order = (Invitation.created_at.desc(), Invitation.id.desc())
    received = db.session.scalars(select(Invitation).where(Invitation.to_class_id.in_(mine)).order_by(*order))
    sent = db.session.scalars(select(Invitation).where(Invitation.from_class_id.in_(mine)).order_by(*order))
    return list(received), list(sent)


def invitation_for_user(invitation_id: int, user: User) -> Invitation:
    """An invitation, seen by the teachers (and coordinators) of either class."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(_("This invitation does not exist."))
    for school_class in (invitation.from_class, invitation.to_class):
        if school_class.teacher_id == user.id or user.is_admin:
            return invitation
        if user.is_coordinator and user.school_id == school_class.school_id:
            return invitation
    raise PermissionDenied(_("This invitation is not for one of your classes."))


# ---- rounds -----------------------------------------------------------------------------


def rounds() -> list[MatchingRound]:
    return list(db.session.scalars(select(MatchingRound).order_by(MatchingRound.created_at.desc())))


def round_by_id(round_id: int) -> MatchingRound:
    matching_round = db.session.get(MatchingRound, round_id)
    if matching_round is None:
        raise NotFound(_("This matching round does not exist."))
    return matching_round


def round_profiles(matching_round: MatchingRound) -> list[ClassProfile]:
    class_ids = select(RoundEntry.class_id).where(RoundEntry.round_id == matching_round.id)
    return list(
        db.session.scalars(_profiles_query().where(ClassProfile.class_id.in_(class_ids)).order_by(ClassProfile.id))
    )


def proposal_for_user(proposal_id: int) -> RoundProposal:
    proposal = db.session.get(RoundProposal, proposal_id)
    if proposal is None:
        raise NotFound(_("This proposal does not exist."))
    return proposal


def may_manage_round(matching_round: MatchingRound, user: User) -> bool:
    return user.is_admin or (user.is_coordinator and not user.is_pending and matching_round.opened_by_id == user.id)


# ---- plain words ------------------------------------------------------------------------


def unmatched_sentence(code: str | None) -> str:
    """Why a round left a class without a partner."""
    if code in ("partners_taken", "no_other_class"):
        return explain_violation(code)
    return _(
        "No class in the round could be paired with it. The most common obstacle: %(reason)s",
        reason=explain_violation(code or ""),
    )


def invitations_waiting_for(user: User) -> list[Invitation]:
    mine = select(SchoolClass.id).where(SchoolClass.teacher_id == user.id)
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.to_class_id.in_(mine), Invitation.status == InvitationStatus.PENDING)
            .order_by(Invitation.created_at.desc())
        )
    )
