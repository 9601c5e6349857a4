"""Partner matching pages: load, check access, call an operation, commit once."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.auth import queries as auth_queries
from app.auth.controllers import teacher_required
from app.auth.forms import ConfirmForm
from app.core.errors import AppError, PermissionDenied, attach_error
from app.extensions import db
from app.modules.matching import explain, operations, queries
from app.modules.matching.forms import (
    SLOT_ROWS,
    FilterForm,
    InvitationForm,
    OptInForm,
    ProfileForm,
    RoundForm,
)
from app.modules.matching.models import InvitationStatus, ProposalAnswer, RoundStatus
from app.modules.matching.scoring import isced_names
from app.modules.notifications.queries import register_kind


def _sentences() -> None:
    register_kind(
        "invitation_received",
        lambda p: _("%(teacher)s invites your class %(to_class)s to an exchange with %(from_class)s.", **p),
    )
    register_kind(
        "invitation_accepted",
        lambda p: _("%(to_class)s accepted the invitation of %(from_class)s: your exchange has started.", **p),
    )
    register_kind("invitation_declined", lambda p: _("%(to_class)s declined the invitation of %(from_class)s.", **p))
    register_kind(
        "round_proposal",
        lambda p: _("Matching round %(round)s proposes %(partner)s as partner for %(class)s.", **p),
    )
    register_kind("round_unmatched", lambda p: _("Matching round %(round)s found no partner for %(class)s.", **p))
    register_kind("proposal_declined", lambda p: _("%(partner)s declined the proposed exchange with %(class)s.", **p))
    register_kind(
        "proposal_confirmed",
        lambda p: _("Both teachers confirmed: the exchange of %(class)s with its partner has started.", **p),
    )


_sentences()


def _round_viewer_required() -> None:
    if not (current_user.is_admin or (current_user.is_teacher and not current_user.is_pending)):
        raise PermissionDenied(_("This page is for validated teachers."))


def _teacher_classes():
    return auth_queries.classes_of_teacher(current_user)


@teacher_required
def index():
    classes = _teacher_classes()
    profiles = {c.id: queries.profile_of(c.id) for c in classes}
    received, sent = queries.invitations_of_teacher(current_user)
    waiting = [i for i in received if i.status == InvitationStatus.PENDING]
    return render_template("matching/index.html", classes=classes, profiles=profiles, waiting=waiting, sent=sent)


@teacher_required
def profile(class_id: int):
    school_class = auth_queries.class_for_teacher(class_id, current_user)
    existing = queries.profile_of(school_class.id)
    form = ProfileForm(obj=existing)
    if existing is not None and not form.is_submitted():
        form.fill_from(existing)
    if form.validate_on_submit():
        try:
            operations.save_profile(school_class, form.profile_data(), form.slots_data())
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return _profile_page(form, school_class, existing), 400
        db.session.commit()
        flash(_("The partner profile of %(name)s is saved.", name=school_class.name), "success")
        return redirect(url_for("matching.suggestions", class_id=school_class.id))
    return _profile_page(form, school_class, existing), 400 if form.is_submitted() else 200


def _profile_page(form, school_class, existing):
    return render_template(
        "matching/profile.html",
        form=form,
        school_class=school_class,
        profile=existing,
        slot_rows=SLOT_ROWS,
        isced=isced_names(),
    )


@teacher_required
def suggestions(class_id: int):
    school_class = auth_queries.class_for_teacher(class_id, current_user)
    mine = queries.profile_of(school_class.id)
    form = FilterForm(request.args)
    if mine is None:
        return render_template("matching/suggestions.html", school_class=school_class, profile=None, form=form)
    filters = form.filters() if form.validate() else {}
    result = queries.suggestions_for(mine, filters)
    return render_template(
        "matching/suggestions.html",
        school_class=school_class,
        profile=mine,
        form=form,
        result=result,
        filtered=any(filters.values()),
        pending=queries.pending_partner_ids(school_class.id),
        can_invite=school_class.teacher_id == current_user.id,
        **_explainers(),
    )


def _explainers() -> dict:
    return {
        "explain_pair": explain.explain_pair,
        "live_windows": explain.live_windows,
        "score_percent": explain.score_percent,
        "explain_violation": explain.explain_violation,
        "unmatched_sentence": queries.unmatched_sentence,
        "isced": isced_names(),
    }


@teacher_required
def invite(class_id: int, partner_id: int):
    school_class = queries.class_for_own_teacher(class_id, current_user)
    partner = queries.profile_of(partner_id)
    mine = queries.profile_of(school_class.id)
    if partner is None or not partner.is_searchable:
        abort(404)
    if mine is None:
        return redirect(url_for("matching.profile", class_id=school_class.id))
    check = queries.pair_score(mine, partner)
    form = InvitationForm()
    status = 400
    if form.validate_on_submit():
        try:
            invitation = operations.invite_class(current_user, school_class, partner.school_class, form.message.data)
        except AppError as error:
            db.session.rollback()
            if error.status == 403:
                raise
            attach_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(_("Your invitation to %(name)s is sent.", name=partner.school_class.name), "success")
            return redirect(url_for("matching.invitation", invitation_id=invitation.id))
    page = render_template(
        "matching/invite.html",
        school_class=school_class,
        profile=mine,
        partner=partner,
        check=check,
        form=form,
        **_explainers(),
    )
    return page, status if form.is_submitted() else 200


@teacher_required
def invitations():
    received, sent = queries.invitations_of_teacher(current_user)
    return render_template(
        "matching/invitations.html", received=received, sent=sent, form=ConfirmForm(), statuses=InvitationStatus
    )


@teacher_required
def invitation(invitation_id: int):
    item = queries.invitation_for_user(invitation_id, current_user)
    return render_template(
        "matching/invitation.html",
        invitation=item,
        form=ConfirmForm(),
        statuses=InvitationStatus,
        may_answer=item.to_class.teacher_id == current_user.id and item.status == InvitationStatus.PENDING,
        may_withdraw=item.from_class.teacher_id == current_user.id and item.status == InvitationStatus.PENDING,
    )


def _say_when_periods_are_apart(*class_ids: int) -> None:
    profiles = [queries.profile_of(class_id) for class_id in class_ids]
    if all(profiles) and queries.exchange_setup(profiles).periods_apart:
        flash(
            _(
                "The two classes' exchange periods have no day in common, so the exchange has no period yet. "
                "Agree on dates with your partner and set them under “Edit the exchange”."
            ),
            "info",
        )


@teacher_required
def answer_invitation(invitation_id: int, action: str):
    if not ConfirmForm().validate_on_submit() or action not in ("accept", "decline", "withdraw"):
        abort(400)
    item = queries.invitation_for_user(invitation_id, current_user)
    if action == "withdraw":
        operations.withdraw_invitation(current_user, item)
        db.session.commit()
        flash(_("The invitation is withdrawn."), "info")
        return redirect(url_for("matching.invitations"))
    operations.answer_invitation(current_user, item, accept=action == "accept")
    db.session.commit()
    if item.project_id:
        flash(_("You accepted: the exchange has started."), "success")
        _say_when_periods_are_apart(item.from_class_id, item.to_class_id)
        return redirect(url_for("projects.project_detail", project_id=item.project_id))
    flash(_("You declined the invitation."), "info")
    return redirect(url_for("matching.invitations"))


# ---- rounds -----------------------------------------------------------------------------


def _may_open_rounds() -> bool:
    return current_user.is_admin or (current_user.is_coordinator and not current_user.is_pending)


@login_required
def rounds():
    _round_viewer_required()
    return render_template(
        "matching/rounds.html", rounds=queries.rounds(), may_open=_may_open_rounds(), statuses=RoundStatus
    )


@login_required
def new_round():
    if not _may_open_rounds():
        raise PermissionDenied(_("Only coordinators and administrators can open a matching round."))
    form = RoundForm()
    if form.validate_on_submit():
        try:
            matching_round = operations.open_round(current_user, form.title.data, form.opt_in_until.data)
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("matching/round_form.html", form=form), 400
        db.session.commit()
        flash(_("The matching round is open. Teachers can now opt their classes in."), "success")
        return redirect(url_for("matching.round_detail", round_id=matching_round.id))
    return render_template("matching/round_form.html", form=form), 400 if form.is_submitted() else 200


@login_required
def round_detail(round_id: int, opt_in_form=None, status: int = 200):
    _round_viewer_required()
    matching_round = queries.round_by_id(round_id)
    my_classes = _teacher_classes() if current_user.is_teacher else []
    my_ids = {c.id for c in my_classes}
    entered = {e.class_id for e in matching_round.entries}
    form = opt_in_form or OptInForm()
    form.class_id.choices = [SelectChoice(str(c.id), c.name) for c in my_classes if c.id not in entered]
    return render_template(
        "matching/round.html",
        round=matching_round,
        form=form,
        confirm_form=ConfirmForm(),
        my_ids=my_ids,
        my_entries=[e for e in matching_round.entries if e.class_id in my_ids],
        my_proposals=[p for p in matching_round.proposals if {p.class_a_id, p.class_b_id} & my_ids],
        unmatched=[e for e in matching_round.entries if e.unmatched_reason],
        may_manage=queries.may_manage_round(matching_round, current_user),
        statuses=RoundStatus,
        answers=ProposalAnswer,
        pair_details=_pair_details,
        **_explainers(),
    ), status


def _pair_details(mine_id: int, partner_id: int) -> queries.PairCheck | None:
    """The pair's score as the profiles stand now, to explain a proposal (None if no longer compatible)."""
    mine, partner = queries.profile_of(mine_id), queries.profile_of(partner_id)
    if mine is None or partner is None:
        return None
    check = queries.pair_score(mine, partner)
    return check if check.score else None


@teacher_required
def opt_in(round_id: int):
    matching_round = queries.round_by_id(round_id)
    form = OptInForm()
    form.class_id.choices = [SelectChoice(str(c.id), c.name) for c in _teacher_classes()]
    if not form.validate_on_submit():
        return round_detail(round_id, form, 400)
    school_class = queries.class_for_own_teacher(int(form.class_id.data), current_user)
    try:
        operations.opt_in_class(current_user, matching_round, school_class)
    except AppError as error:
        db.session.rollback()
        if error.status == 403:
            raise
        attach_error(form, error)
        return round_detail(round_id, form, 400)
    db.session.commit()
    flash(_("%(name)s takes part in the round.", name=school_class.name), "success")
    return redirect(url_for("matching.round_detail", round_id=round_id))


@teacher_required
def opt_out(round_id: int, class_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    matching_round = queries.round_by_id(round_id)
    school_class = queries.class_for_own_teacher(class_id, current_user)
    operations.opt_out_class(current_user, matching_round, school_class)
    db.session.commit()
    flash(_("%(name)s no longer takes part in the round.", name=school_class.name), "info")
    return redirect(url_for("matching.round_detail", round_id=round_id))


@login_required
def compute_round(round_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    matching_round = queries.round_by_id(round_id)
    operations.compute_round(current_user, matching_round)
    db.session.commit()
    flash(
        _("The pairs are computed: %(count)d pairs proposed.", count=len(matching_round.proposals)),
        "success",
    )
    return redirect(url_for("matching.round_detail", round_id=round_id))


@teacher_required
def answer_proposal(proposal_id: int, class_id: int, action: str):
    if not ConfirmForm().validate_on_submit() or action not in ("confirm", "decline"):
        abort(400)
    proposal = queries.proposal_for_user(proposal_id)
    school_class = queries.class_for_own_teacher(class_id, current_user)
    operations.answer_proposal(current_user, proposal, school_class, confirm=action == "confirm")
    db.session.commit()
    if proposal.project_id:
        flash(_("Both teachers confirmed: the exchange has started."), "success")
        _say_when_periods_are_apart(proposal.class_a_id, proposal.class_b_id)
        return redirect(url_for("projects.project_detail", project_id=proposal.project_id))
    if action == "confirm":
        flash(_("You confirmed. The partner's teacher has not answered yet."), "info")
    else:
        flash(_("You declined the proposed partner."), "info")
    return redirect(url_for("matching.round_detail", round_id=proposal.round_id))
