"""Account, school and class pages: load, check access, call an operation, commit once."""

from __future__ import annotations

from functools import wraps
from zoneinfo import available_timezones

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import device_cookies, join_codes, operations, queries, throttle
from app.auth.forms import (
    NEEDS_APPROVAL,
    NEW_SCHOOL,
    NO_APPROVAL,
    ChangePasswordForm,
    ConfirmForm,
    CreateStudentsForm,
    JoinCodeForm,
    LoginForm,
    ProfileForm,
    RegisterTeacherForm,
    SchoolClassForm,
)
from app.auth.models import DEFAULT_JOIN_CODE_DAYS, AccountStatus, School, SchoolKind, User
from app.auth.sessions import end_session, start_session
from app.core import geo
from app.core.errors import AppError, NotFound, PermissionDenied, RateLimited, attach_error
from app.core.security import client_address, is_local_path
from app.extensions import db


def teacher_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_teacher or current_user.is_pending:
            raise PermissionDenied(_("This page is for validated teachers."))
        return view(*args, **kwargs)

    return wrapped


def reviewer_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not (current_user.is_admin or (current_user.is_coordinator and not current_user.is_pending)):
            raise PermissionDenied(_("This page is for school coordinators."))
        return view(*args, **kwargs)

    return wrapped


def log_in_with_fresh_session(user: User) -> None:
    # A fresh session at login: nothing from before (a planted session id) carries over.
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    start_session(user)
    login_user(user)
    session.permanent = True


def _after_login_target() -> str:
    # login_required sends people here with ?next=; only a path on this site (no open redirect).
    target = request.args.get("next", "")
    return target if is_local_path(target) else url_for("main.dashboard")


def login():
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = operations.authenticate(
                form.login.data, form.password.data, client_address(), request.cookies.get(device_cookies.COOKIE_NAME)
            )
        except AppError as error:
            db.session.commit()  # keep the failure count
            form.form_errors.append(error.message)
            return render_template("auth/login.html", form=form), error.status
        log_in_with_fresh_session(user)
        db.session.commit()
        response = redirect(_after_login_target())
        # This browser is now trusted for this account: strangers' guessing cannot keep it out.
        device_cookies.remember(response, user, request.cookies.get(device_cookies.COOKIE_NAME))
        return response
    return render_template("auth/login.html", form=form)


def logout():
    # The device cookie stays (device_cookies.py): it is what lets the owner back in during an attack.
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        end_session(current_user.session_token)
        db.session.commit()
        logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = RegisterTeacherForm(queries.verified_schools())
    if form.validate_on_submit():
        try:
            # Before any work (a new school, hashing the password): a flood stops here.
            throttle.refuse_too_many_registrations(client_address())
            if form.school_id.data == NEW_SCHOOL:
                school = operations.create_school(
                    form.school_name.data,
                    form.country.data,
                    form.city.data,
                    SchoolKind(form.kind.data),
                    form.erasmus_oid.data,
                )
            else:
                school = db.session.get(School, int(form.school_id.data))
                if school is None or not school.is_verified:
                    raise NotFound(_("Choose your school from the list."), field="school_id")
            teacher = operations.register_teacher(form.display_name.data, form.email.data, form.password.data, school)
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            # A form error is a 400 whatever the operation's kind (a taken ID too); a refusal a 429.
            return render_template("auth/register.html", form=form), 429 if isinstance(error, RateLimited) else 400
        if teacher is None:
            # The e-mail is taken: keep nothing (not even a new school) and answer as for a new one,
            # counted like one too.
            db.session.rollback()
        try:
            throttle.take_registration(client_address())  # atomic: parallel ones cannot overshoot
        except RateLimited as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/register.html", form=form), error.status
        db.session.commit()
        return redirect(url_for("auth.registered"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def registered():
    return render_template("auth/registered.html")


def city_search():
    country = request.args.get("country", "")
    query = request.args.get("q", "")[:80]
    if country not in geo.EUROPEAN_COUNTRIES:
        return jsonify(error={"code": "invalid_country", "message": _("Choose a country from the list.")}), 400
    return jsonify(cities=geo.search_cities(country, query))


@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_password(
                current_user, form.current_password.data, form.password.data, current_user.session_token
            )
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/change_password.html", form=form), 400
        db.session.commit()
        flash(_("Your new password is saved."), "success")
        return redirect(url_for("main.dashboard"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status


@login_required
def profile():
    form = ProfileForm(obj=current_user)
    form.locale.choices = [("", _("Automatic"))] + list(current_app.config["LANGUAGES"].items())
    form.timezone.choices = [("", _("My school's time zone"))] + [
        (zone, zone) for zone in sorted(available_timezones()) if zone.startswith(("Europe/", "Atlantic/", "UTC"))
    ]
    if form.validate_on_submit():
        try:
            operations.update_profile(
                current_user,
                form.display_name.data,
                form.locale.data,
                form.timezone.data,
                form.wants_email_updates.data,
            )
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/profile.html", form=form), 400
        db.session.commit()
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/profile.html", form=form), status


def set_language():
    form = ConfirmForm()
    language = request.form.get("language", "")
    if not form.validate_on_submit() or language not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = language
    if current_user.is_authenticated:
        current_user.locale = language
        db.session.commit()
    target = request.form.get("next", "")
    # Only a path on this site: never an open redirect.
    if not is_local_path(target):
        target = url_for("main.dashboard")
    return redirect(target)


@reviewer_required
def teachers():
    school_id = current_user.school_id
    pending = queries.pending_teachers_for(current_user)
    colleagues = queries.teachers_of_school(school_id) if school_id else []
    return render_template(
        "auth/teachers.html", pending=pending, colleagues=colleagues, form=ConfirmForm(), statuses=AccountStatus
    )


@reviewer_required
def review_teacher(user_id: int, action: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    teacher = db.session.get(User, user_id)
    if teacher is None:
        raise NotFound(_("This account does not exist."))
    actions = {
        "validate": lambda: operations.validate_teacher(current_user, teacher),
        "reject": lambda: operations.reject_teacher(current_user, teacher),
        "disable": lambda: operations.set_teacher_status(current_user, teacher, AccountStatus.DISABLED),
        "enable": lambda: operations.set_teacher_status(current_user, teacher, AccountStatus.ACTIVE),
        "coordinator": lambda: operations.make_coordinator(current_user, teacher),
    }
    if action not in actions:
        abort(404)
    name = teacher.display_name
    actions[action]()
    db.session.commit()
    messages = {
        "validate": _("%(name)s can now use CrossClass.", name=name),
        "reject": _("The registration of %(name)s was rejected.", name=name),
        "disable": _("The account of %(name)s is disabled.", name=name),
        "enable": _("The account of %(name)s is active again.", name=name),
        "coordinator": _("%(name)s is now a coordinator.", name=name),
    }
    flash(messages[action], "success")
    return redirect(url_for("auth.teachers"))


@teacher_required
def classes():
    return render_template("auth/classes.html", classes=queries.classes_of_teacher(current_user))


@teacher_required
def new_class():
    form = SchoolClassForm()
    if form.validate_on_submit():
        try:
            school_class = operations.create_class(current_user, form.fields_data(), form.languages_data())
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/class_form.html", form=form, school_class=None), 400
        db.session.commit()
        flash(_("The class %(name)s is created.", name=school_class.name), "success")
        return redirect(url_for("auth.class_detail", class_id=school_class.id))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/class_form.html", form=form, school_class=None), status


@teacher_required
def edit_class(class_id: int):
    school_class = queries.class_for_teacher(class_id, current_user)
    form = SchoolClassForm(obj=school_class)
    if not form.is_submitted():
        form.eqf_level.data = str(school_class.eqf_level)
        form.fill_languages(school_class)
    if form.validate_on_submit():
        try:
            operations.update_class(school_class, form.fields_data(), form.languages_data())
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
            return render_template("auth/class_form.html", form=form, school_class=school_class), 400
        db.session.commit()
        flash(_("The class is saved."), "success")
        return redirect(url_for("auth.class_detail", class_id=school_class.id))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/class_form.html", form=form, school_class=school_class), status


@teacher_required
def class_detail(class_id: int):
    school_class = queries.class_for_teacher(class_id, current_user)
    return _class_page(school_class, CreateStudentsForm())


def _class_page(school_class, students_form):
    code_form = JoinCodeForm(
        formdata=None,
        validity_days=str(DEFAULT_JOIN_CODE_DAYS),
        approval=NEEDS_APPROVAL if school_class.join_code_needs_approval else NO_APPROVAL,
    )
    return render_template(
        "auth/class_detail.html",
        school_class=school_class,
        students=queries.students_of_class(school_class.id),
        waiting=school_class.join_requests,
        code_state=join_codes.code_state(school_class),
        code_form=code_form,
        students_form=students_form,
        form=ConfirmForm(),
    )


@teacher_required
def create_students(class_id: int):
    school_class = queries.class_for_teacher(class_id, current_user)
    form = CreateStudentsForm()
    if form.validate_on_submit():
        try:
            cards = operations.create_students(
                school_class,
                (form.names.data or "").splitlines(),
                form.count.data or 0,
                current_app.config["STUDENTS_PER_BATCH"],
            )
        except AppError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            return render_template("auth/login_cards.html", school_class=school_class, cards=cards)
    return _class_page(school_class, form), 400


@teacher_required
def student_action(class_id: int, student_id: int, action: str):
    school_class = queries.class_for_teacher(class_id, current_user)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    student = db.session.get(User, student_id)
    if student is None or not student.is_student:
        raise NotFound(_("This student does not exist."))
    if action == "reset":
        password = operations.reset_student_password(school_class, student)
        db.session.commit()
        return render_template("auth/login_cards.html", school_class=school_class, cards=[(student, password)])
    if action == "remove":
        operations.remove_student(school_class, student)
        db.session.commit()
        flash(_("The student was removed from the class."), "success")
        return redirect(url_for("auth.class_detail", class_id=class_id))
    abort(404)
