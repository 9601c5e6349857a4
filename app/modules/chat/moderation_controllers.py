"""Moderation pages of an exchange: the report queue, mutes, and the moderation log.

Controllers load, check the role, call operations, commit once (as in projects/controllers).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.auth.forms import ConfirmForm
from app.auth.names import NameResolver, viewer_names
from app.core.errors import AppError, NotFound, PermissionDenied
from app.core.sanitize import plain_excerpt
from app.core.timefmt import format_local
from app.extensions import db
from app.modules.chat import moderation, operations, queries
from app.modules.chat import moderation_queries as mq
from app.modules.chat.models import ReportReason, ReportStatus
from app.modules.chat.moderation_forms import MuteAuthorForm, MuteForm, mute_choices
from app.modules.notifications.queries import register_kind
from app.modules.projects.models import TEACHER_ROLES, ProjectRole
from app.modules.projects.queries import (
    outside_members,
    project_for_user,
    project_role,
    require_project_role,
    students_by_class,
)

register_kind("chat_report", lambda p: _("A chat message in %(project)s was reported. Please have a look.", **p))

REASON_LABELS = {
    ReportReason.BULLYING: _l("Bullying or hurtful"),
    ReportReason.INAPPROPRIATE: _l("Inappropriate content"),
    ReportReason.PERSONAL_DATA: _l("Shares personal data"),
    ReportReason.SPAM: _l("Spam"),
    ReportReason.OTHER: _l("Something else"),
}


def moderation_helpers() -> dict:
    """For the project pages' navigation: projects must not import chat (see blueprint.py)."""

    def chat_moderation(project) -> dict | None:
        if not current_user.is_authenticated:
            return None
        role = project_role(project, current_user)
        if role in TEACHER_ROLES:
            url = url_for("chat.moderation", project_id=project.id)
            return {"url": url, "open_reports": mq.open_report_count(project.id)}
        if mq.may_read_log(project, role, current_user):
            return {"url": url_for("chat.moderation_log", project_id=project.id), "open_reports": 0}
        return None

    return {
        "chat_moderation": chat_moderation,
        "report_reasons": REASON_LABELS,
        "mute_choices": mute_choices,
        "report_details_limit": moderation.REPORT_DETAILS_LIMIT,
        "mute_reason_limit": moderation.REASON_LIMIT,
    }


def _load_for_teacher(project_id: int):
    project = project_for_user(project_id, current_user)
    require_project_role(project, current_user, *TEACHER_ROLES)
    return project


def _mutable_people(project) -> list:
    people = [s for students in students_by_class(project).values() for s in students]
    people += [m.user for m in outside_members(project) if m.role == ProjectRole.GUEST_MENTOR]
    return people


def _mute_form(project, formdata=None) -> MuteForm:
    form = MuteForm(formdata=formdata) if formdata is not None else MuteForm()
    people = _mutable_people(project)
    shown = viewer_names().load(people)
    form.user_id.choices = [(p.id, shown(p)) for p in sorted(people, key=shown.sort_key)]
    return form


def _queue_page_number() -> int | None:
    """The queue's page from ?page= (1 when absent); None when it is not a page number."""
    page = request.args.get("page", 1, type=int)
    return page if 1 <= page <= mq.MAX_QUEUE_PAGE else None


def _queue_page(project, mute_form=None, author_form=None, author_form_for=None, status=200, shown=None):
    """The queue page; `shown` is its page of reports when the caller has read it already."""
    page = _queue_page_number() or 1
    queue, has_more = shown or mq.report_queue(project, page)
    mutes = mq.active_mutes(project)
    # The names this teacher may see (app/auth/names.py), for |shown_name: one query for all.
    viewer_names().load(
        [message.author for message, _channel, _reports in queue]
        + [report.reporter for _message, _channel, reports in queue for report in reports]
        + [person for mute in mutes for person in (mute.user, mute.muted_by)]
    )
    return render_template(
        "chat/moderation.html",
        project=project,
        has_chat=True,  # the exchange's navigation leads back to the chat (projects/_nav.html)
        role=project_role(project, current_user),
        queue=queue,
        page=page,
        has_more=has_more,
        open_reports=mq.open_report_count(project.id),
        mutes=mutes,
        mute_form=mute_form or _mute_form(project),
        author_form=author_form or MuteAuthorForm(),
        author_form_for=author_form_for,
        confirm_form=ConfirmForm(),
        reason_labels=REASON_LABELS,
        channel_label=queries.channel_label,
        closed=project.is_closed,
        mutable_ids={p.id for p in _mutable_people(project)},
        reason_limit=moderation.REASON_LIMIT,
    ), status


def _reported(project, message_id: int):
    message = mq.reported_message(project, message_id)
    if message is None:
        raise NotFound(_("This message does not exist."))
    return message


def _require_csrf() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _back(project_id: int):
    """To the queue, on the page the teacher acted from (the forms post it along)."""
    page = _queue_page_number()
    return redirect(url_for("chat.moderation", project_id=project_id, page=page if page and page > 1 else None))


def _flash_error(error: AppError) -> None:
    db.session.rollback()
    flash(error.message, "error")


@login_required
def moderation_queue(project_id: int):
    project = _load_for_teacher(project_id)
    page = _queue_page_number()
    if page is None:
        abort(404)
    shown = mq.report_queue(project, page)
    if page > 1 and not shown[0]:
        # Its last reports were handled meanwhile (by this teacher, or another one).
        return redirect(url_for("chat.moderation", project_id=project_id))
    return _queue_page(project, shown=shown)


@login_required
def hide_reported(project_id: int, message_id: int):
    project = _load_for_teacher(project_id)
    _require_csrf()
    message = _reported(project, message_id)
    try:
        count = moderation.close_reports(current_user, project, message, ReportStatus.ACTED, "hide")
        access = queries.channel_for_user(message.channel_id, current_user)
        operations.hide_message(current_user, access, message)
    except AppError as error:
        _flash_error(error)
    else:
        db.session.commit()
        flash(
            ngettext(
                "The message was hidden and %(num)d report closed.",
                "The message was hidden and %(num)d reports closed.",
                count,
            ),
            "success",
        )
    return _back(project_id)


@login_required
def dismiss_reported(project_id: int, message_id: int):
    project = _load_for_teacher(project_id)
    _require_csrf()
    message = _reported(project, message_id)
    try:
        count = moderation.close_reports(current_user, project, message, ReportStatus.DISMISSED, "dismiss")
    except AppError as error:
        _flash_error(error)
    else:
        db.session.commit()
        flash(ngettext("%(num)d report dismissed.", "%(num)d reports dismissed.", count), "success")
    return _back(project_id)


@login_required
def mute_author(project_id: int, message_id: int):
    project = _load_for_teacher(project_id)
    message = _reported(project, message_id)
    form = MuteAuthorForm()
    if not form.validate_on_submit():
        return _queue_page(project, author_form=form, author_form_for=message.id, status=400)
    try:
        moderation.close_reports(current_user, project, message, ReportStatus.ACTED, "mute")
        mute = moderation.mute_user(current_user, project, message.author, form.minutes.data, form.reason.data)
    except AppError as error:
        _flash_error(error)
        return _back(project_id)
    db.session.commit()
    flash(_("%(name)s is muted until %(time)s.", name=viewer_names()(mute.user), time=_local(mute.until)), "success")
    return _back(project_id)


@login_required
def mute(project_id: int):
    project = _load_for_teacher(project_id)
    form = _mute_form(project, request.form)
    if not form.validate_on_submit():
        return _queue_page(project, mute_form=form, status=400)
    target = next((p for p in _mutable_people(project) if p.id == form.user_id.data), None)
    try:
        if target is None:
            raise PermissionDenied(_("Only pupils and guests of this exchange can be muted."))
        new_mute = moderation.mute_user(current_user, project, target, form.minutes.data, form.reason.data)
    except AppError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return _queue_page(project, mute_form=form, status=error.status)
    db.session.commit()
    flash(_("%(name)s is muted until %(time)s.", name=viewer_names()(target), time=_local(new_mute.until)), "success")
    return _back(project_id)


@login_required
def lift(project_id: int, mute_id: int):
    project = _load_for_teacher(project_id)
    _require_csrf()
    found = mq.mute_in_project(project, mute_id)
    if found is None:
        raise NotFound(_("This mute does not exist."))
    try:
        moderation.lift_mute(current_user, project, found)
    except AppError as error:
        _flash_error(error)
    else:
        db.session.commit()
        flash(_("%(name)s can write again.", name=viewer_names()(found.user)), "success")
    return _back(project_id)


@login_required
def moderation_log(project_id: int):
    project = project_for_user(project_id, current_user)
    role = project_role(project, current_user)
    if not mq.may_read_log(project, role, current_user):
        raise PermissionDenied(_("Only the teachers of this exchange can do this."))
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= mq.MAX_LOG_PAGE:
        abort(404)
    entries, has_older = mq.moderation_log(project, page)
    channels = mq.channels_by_id(e.channel_id for e in entries)
    # What the step was about, quoted: "hid a message by Ana" alone does not say which one.
    messages = mq.messages_by_id(e.message_id for e in entries)
    is_teacher = role in TEACHER_ROLES
    shown = viewer_names().load(person for entry in entries for person in (entry.actor, entry.target_user))
    lines = [
        (
            entry,
            describe_action(entry, channels, is_teacher, shown),
            plain_excerpt(messages[entry.message_id].body_html) if entry.message_id in messages else "",
        )
        for entry in entries
    ]
    return render_template(
        "chat/moderation_log.html",
        project=project,
        has_chat=True,
        role=role,
        lines=lines,
        page=page,
        has_older=has_older,
        is_teacher=is_teacher,
    )


# ---- the log's sentences -------------------------------------------------------------------


def _local(moment) -> str:
    return format_local(moment)


def _minutes_label(minutes) -> str:
    return str(dict(mute_choices()).get(minutes, minutes))


def describe_action(entry, channels: dict, is_teacher: bool, shown: NameResolver) -> str:
    """One line of the log, in the reader's language, naming people as `shown` (the
    reader's NameResolver) does. Who reported is for the teachers' eyes only."""
    details = entry.details or {}
    actor = shown(entry.actor) if entry.actor else _("Someone")
    if entry.action == "report_received" and not is_teacher:
        actor = _("A reader")
    target = shown(entry.target_user) if entry.target_user else _("someone")
    channel = queries.channel_label(channels[entry.channel_id], shown.viewer) if entry.channel_id in channels else ""
    reason = details.get("reason")
    sentences = {
        "hide": lambda: _(
            "%(actor)s hid a message by %(target)s in %(channel)s.", actor=actor, target=target, channel=channel
        ),
        "delete": lambda: _(
            "%(actor)s deleted a message by %(target)s in %(channel)s.", actor=actor, target=target, channel=channel
        ),
        "lock": lambda: _("%(actor)s locked the channel %(channel)s.", actor=actor, channel=channel),
        "unlock": lambda: _("%(actor)s unlocked the channel %(channel)s.", actor=actor, channel=channel),
        "mute": lambda: _(
            "%(actor)s muted %(target)s for %(length)s.",
            actor=actor,
            target=target,
            length=_minutes_label(details.get("minutes")),
        ),
        "unmute": lambda: _("%(actor)s lifted the mute of %(target)s.", actor=actor, target=target),
        "report_received": lambda: _(
            "%(actor)s reported a message by %(target)s in %(channel)s: %(reason)s.",
            actor=actor,
            target=target,
            channel=channel,
            reason=REASON_LABELS.get(reason, reason),
        ),
        "report_dismissed": lambda: ngettext(
            "%(actor)s dismissed %(num)d report on a message by %(target)s.",
            "%(actor)s dismissed %(num)d reports on a message by %(target)s.",
            details.get("reports", 1),
            actor=actor,
            target=target,
        ),
        "report_acted": lambda: ngettext(
            "%(actor)s closed %(num)d report on a message by %(target)s by acting on it.",
            "%(actor)s closed %(num)d reports on a message by %(target)s by acting on it.",
            details.get("reports", 1),
            actor=actor,
            target=target,
        ),
        "direct_messages_allowed": lambda: _(
            "%(actor)s allowed direct messages in the team %(team)s.", actor=actor, team=details.get("team_name", "")
        ),
        "direct_messages_stopped": lambda: _(
            "%(actor)s stopped direct messages in the team %(team)s.", actor=actor, team=details.get("team_name", "")
        ),
    }
    sentence = sentences.get(entry.action)
    line = sentence() if sentence else _("%(actor)s: %(action)s", actor=actor, action=entry.action)
    if entry.action == "mute" and reason:
        line += " " + _("Reason: %(reason)s", reason=reason)
    return line
