"""Every write about schools, people and classes, as verb_noun functions.

They validate, change the session and flush; the caller (a controller or CLI command)
commits once at the end, so a failure half-way leaves nothing behind.
"""

from __future__ import annotations

import re
import secrets

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from zxcvbn import zxcvbn

from app.auth import device_cookies, queries, throttle
from app.auth.models import (
    AccountStatus,
    ClassJoinRequest,
    ClassLanguage,
    ClassMembership,
    Role,
    School,
    SchoolClass,
    SchoolKind,
    User,
)
from app.auth.passwords import hash_password, needs_rehash, one_time_password, verify_password
from app.auth.sessions import end_all_sessions
from app.core import geo
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from app.core.isced import is_detailed_field, isced_names
from app.core.signals import access_reduced, class_field_changed, teacher_validated
from app.extensions import db

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# zxcvbn's cost grows with the length (and it refuses more than 72 characters); 64 characters
# that are not guessable make the whole password strong enough, so it only sees those.
STRENGTH_CHECK_LENGTH = 64
# zxcvbn score 3: at least 10^8 guesses (NIST SP 800-63B: no common, breached or
# context-specific passwords). zxcvbn ships its frequency lists, so nothing goes online.
MIN_PASSWORD_SCORE = 3
PRODUCT_NAME = "crossclass"
_NOT_ALNUM = re.compile(r"[\W_]+")
_GUESSABLE_PATTERNS = {"repeat", "sequence", "spatial"}
CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
ERASMUS_OID = re.compile(r"^E\d{8}$")

# Pseudonymous usernames: pupils are never identified by name outside their own class.
_ADJECTIVES = [
    "amber",
    "azure",
    "brave",
    "bright",
    "calm",
    "clever",
    "coral",
    "cosmic",
    "crimson",
    "daring",
    "eager",
    "fair",
    "gentle",
    "golden",
    "happy",
    "honest",
    "jolly",
    "keen",
    "kind",
    "lively",
    "lucky",
    "merry",
    "mighty",
    "noble",
    "polar",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "ruby",
    "shiny",
    "silver",
    "smart",
    "snowy",
    "sunny",
    "swift",
    "teal",
    "tidy",
    "vivid",
    "witty",
]
_ANIMALS = [
    "badger",
    "beaver",
    "bison",
    "condor",
    "crane",
    "dolphin",
    "eagle",
    "falcon",
    "ferret",
    "fox",
    "gecko",
    "heron",
    "ibex",
    "jaguar",
    "koala",
    "lemur",
    "lynx",
    "marten",
    "otter",
    "owl",
    "panda",
    "puffin",
    "raven",
    "robin",
    "salmon",
    "seal",
    "sparrow",
    "stork",
    "swan",
    "tiger",
    "turtle",
    "walrus",
    "whale",
    "wolf",
    "wren",
    "yak",
    "zebra",
]


def check_password_strength(
    password: str, username: str | None = None, *, display_name: str | None = None, email: str | None = None
) -> None:
    """Refuses short, common, guessable and personal passwords, saying why in plain words."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH), field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(_("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH), field="password")
    if username and password.strip().lower() == username.lower():
        raise InvalidInput(_("Your password must not be your username."), field="password")
    if len(set(password)) < 4:
        raise InvalidInput(_("This password is too easy to guess."), field="password")
    if PRODUCT_NAME in _compact(password):
        raise InvalidInput(
            _("Do not use the name CrossClass in your password: it is one of the first things anyone would try."),
            field="password",
        )
    personal = _personal_words(username, display_name, email)
    if _contains_personal(password, personal):
        raise InvalidInput(
            _(
                "Your password must not contain your name, username or e-mail address: "
                "people who know you could guess it."
            ),
            field="password",
        )
    result = zxcvbn(password[:STRENGTH_CHECK_LENGTH], user_inputs=[PRODUCT_NAME, *personal])
    if result["score"] >= MIN_PASSWORD_SCORE:
        return
    matches = result["sequence"]
    if any(match.get("dictionary_name") == "passwords" for match in matches):
        message = _(
            "This password is one of the most used ones, so it is easy to guess. Try three or four unrelated words."
        )
    elif any(match["pattern"] in _GUESSABLE_PATTERNS for match in matches):
        message = _(
            "This password is too easy to guess. It follows a simple pattern like aaaa, 1234 or qwerty. "
            "Try three or four unrelated words."
        )
    else:
        message = _("This password is too easy to guess. Try three or four unrelated words.")
    raise InvalidInput(message, field="password")


def _compact(text: str) -> str:
    """Lower case without spaces, dots, dashes and the like: "Cross-Class" is "crossclass"."""
    return _NOT_ALNUM.sub("", text.casefold())


def _personal_words(username: str | None, display_name: str | None, email: str | None) -> list[str]:
    # Teachers' and guests' usernames are their e-mail addresses: the part before @ counts too.
    addresses = [username or "", email or ""]
    words = [*addresses, *(address.partition("@")[0] for address in addresses), display_name or ""]
    words += re.split(r"[\W\d_]+", display_name or "")
    return [word.casefold() for word in dict.fromkeys(words) if len(_compact(word)) >= 3]


def _contains_personal(password: str, personal: list[str]) -> bool:
    compact = _compact(password)
    lowered = password.casefold()
    for word in personal:
        if word.isalpha():
            # A first name counts as a whole word only: "Anna" is not in "Hannah".
            if re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", lowered):
                return True
        elif _compact(word) in compact:
            return True
    return False


def authenticate(login: str, password: str, address: str, device_cookie: str | None = None) -> User:
    """The user these credentials belong to, or an error that does not say which part was wrong.

    A browser whose device cookie names this account is throttled by its own failures only
    (throttle.py); a name that matches no account can have no such cookie, and is throttled
    like an account tried from a browser that never logged in to it."""
    user = queries.user_by_login(login)
    device = throttle.usable_device(device_cookies.nonce_for(device_cookie, user))
    wait = throttle.seconds_to_wait(login, address, device)
    if wait:
        raise RateLimited(
            ngettext(
                "Too many failed attempts. Please wait %(num)d second and try again.",
                "Too many failed attempts. Please wait %(num)d seconds and try again.",
                wait,
            )
        )
    if not verify_password(user.password_hash if user else None, password) or not user.is_active:
        throttle.record_failure(login, address, device)
        raise InvalidInput(_("The username or password is not correct."))
    throttle.record_success(login, address, device)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def create_school(
    name: str,
    country: str,
    city: str,
    kind: SchoolKind = SchoolKind.VET_SCHOOL,
    erasmus_oid: str | None = None,
    is_verified: bool = False,
) -> School:
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter the school's name."), field="school_name")
    if country not in geo.EUROPEAN_COUNTRIES:
        raise InvalidInput(_("Choose a country from the list."), field="country")
    place = geo.find_city(country, city)
    if place is None:
        raise InvalidInput(
            _(
                "We do not know a town called %(city)s in this country. Choose the nearest town from the list.",
                city=city,
            ),
            field="city",
        )
    oid = (erasmus_oid or "").strip().upper() or None
    if oid and not ERASMUS_OID.match(oid):
        raise InvalidInput(_("An Erasmus organisation ID is an E followed by 8 digits."), field="erasmus_oid")
    if oid and db.session.scalar(select(School.id).where(School.erasmus_oid == oid)):
        raise Conflict(_("A school with this Erasmus organisation ID is already registered."), field="erasmus_oid")
    duplicate = db.session.scalar(
        select(School.id).where(
            func.lower(School.name) == name.lower(), School.country == country, School.city == place["name"]
        )
    )
    if duplicate:
        # Only verified schools are in the list; an unverified one waits for an administrator.
        if db.session.get(School, duplicate).is_verified:
            raise Conflict(_("This school is already registered: choose it from the list."), field="school_name")
        raise Conflict(
            _(
                "This school was registered a moment ago and waits for a CrossClass administrator. "
                "Please register again once it is in the list."
            ),
            field="school_name",
        )
    school = School(
        name=name,
        country=country,
        city=place["name"],
        latitude=place["latitude"],
        longitude=place["longitude"],
        timezone=place["timezone"],
        kind=kind,
        erasmus_oid=oid,
        is_verified=is_verified,
    )
    db.session.add(school)
    db.session.flush()
    return school


def register_teacher(display_name: str, email: str, password: str, school: School) -> User | None:
    """A new pending teacher; None when the e-mail is taken (the caller shows the same page)."""
    email = email.strip().lower()
    check_password_strength(password, email, display_name=display_name, email=email)
    password_hash = hash_password(password)  # hashed even when unused: equal timing
    if db.session.scalar(select(User.id).where((User.email == email) | (User.username == email))):
        return None
    teacher = User(
        username=email,
        email=email,
        password_hash=password_hash,
        display_name=display_name.strip(),
        role=Role.TEACHER,
        status=AccountStatus.PENDING,
        school=school,
    )
    db.session.add(teacher)
    db.session.flush()
    return teacher


def validate_teacher(reviewer: User, teacher: User) -> User:
    _check_may_review(reviewer, teacher)
    was_pending = teacher.is_pending
    teacher.status = AccountStatus.ACTIVE
    teacher.validated_at = utcnow()
    teacher.validated_by_id = reviewer.id
    if reviewer.is_admin and teacher.school is not None:
        # A teacher who registered a new school vouches for it; the admin confirms both.
        teacher.school.is_verified = True
    if was_pending:
        # The teacher is told in the app and by e-mail (app/modules/notifications).
        teacher_validated.send(teacher)
    return teacher


def reject_teacher(reviewer: User, teacher: User) -> None:
    _check_may_review(reviewer, teacher)
    if teacher.status != AccountStatus.PENDING:
        raise Conflict(_("Only pending registrations can be rejected."))
    school = teacher.school
    db.session.delete(teacher)
    db.session.flush()
    if school is not None and not school.is_verified and not _school_in_use(school):
        # A new school came with this registration; nobody vouches for it any more.
        db.session.delete(school)


def _school_in_use(school: School) -> bool:
    return bool(
        db.session.scalar(select(User.id).where(User.school_id == school.id).limit(1))
        or db.session.scalar(select(SchoolClass.id).where(SchoolClass.school_id == school.id).limit(1))
    )


def set_teacher_status(reviewer: User, teacher: User, status: AccountStatus) -> User:
    _check_may_review(reviewer, teacher)
    if teacher.id == reviewer.id:
        raise InvalidInput(_("You cannot change your own account's status."))
    if teacher.status == AccountStatus.PENDING:
        # Validation records who vouched for the teacher; enabling would skip that.
        raise InvalidInput(_("Validate or reject this registration first."))
    teacher.status = status
    if status == AccountStatus.DISABLED:
        end_all_sessions(teacher)
    return teacher


def make_coordinator(reviewer: User, teacher: User) -> User:
    _check_may_review(reviewer, teacher)
    if teacher.status != AccountStatus.ACTIVE:
        raise InvalidInput(_("Validate the teacher first."))
    teacher.role = Role.COORDINATOR
    return teacher


def _check_may_review(reviewer: User, teacher: User) -> None:
    if not teacher.is_teacher:
        raise PermissionDenied(_("Only teachers' accounts are managed here."))
    if reviewer.is_admin:
        return
    if reviewer.is_coordinator and reviewer.school_id == teacher.school_id and reviewer.status == AccountStatus.ACTIVE:
        return
    raise PermissionDenied(_("Only a coordinator of this teacher's school can do this."))


def create_admin(username: str, email: str, password: str) -> User:
    username = username.strip().lower()
    email = email.strip().lower()
    if not username or len(username) > 64:
        raise InvalidInput(_("A username has 1 to 64 characters."), field="username")
    if email and "@" not in email:
        raise InvalidInput(_("Enter a valid e-mail address."), field="email")
    check_password_strength(password, username, email=email)
    taken = (User.username == username) | (User.email == username)
    if email:
        taken = taken | (User.email == email) | (User.username == email)
    if db.session.scalar(select(User.id).where(taken)):
        raise Conflict(_("This username or e-mail is already taken."))
    admin = User(
        username=username,
        email=email or None,
        password_hash=hash_password(password),
        display_name=username,
        role=Role.ADMIN,
        status=AccountStatus.ACTIVE,
    )
    db.session.add(admin)
    db.session.flush()
    return admin


def change_password(user: User, current_password: str | None, new_password: str, keep_session: str | None) -> User:
    if not user.must_change_password and not verify_password(user.password_hash, current_password or ""):
        raise InvalidInput(_("Your current password is not correct."), field="current_password")
    if verify_password(user.password_hash, new_password):
        raise InvalidInput(_("Choose a password different from the old one."), field="password")
    check_password_strength(new_password, user.username, display_name=user.display_name, email=user.email)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    end_all_sessions(user, keep_token=keep_session)
    return user


def update_profile(
    user: User, display_name: str, locale: str | None, timezone: str | None, wants_email_updates: bool = False
) -> User:
    display_name = display_name.strip()
    if not display_name:
        raise InvalidInput(_("Enter a name."), field="display_name")
    user.display_name = display_name[:120]
    user.locale = locale or None
    user.timezone = timezone or None
    # Only teachers with an address can be e-mailed; pupils never are.
    user.wants_email_updates = bool(wants_email_updates and user.is_teacher and user.email)
    return user


def new_join_code() -> str:
    while True:
        code = "".join(secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _position in range(8))
        if not db.session.scalar(select(SchoolClass.id).where(SchoolClass.join_code == code)):
            return code


def _set_class_fields(school_class: SchoolClass, fields: dict, languages: list[tuple[str, str]]) -> None:
    if fields["age_min"] > fields["age_max"]:
        raise InvalidInput(_("The youngest age cannot be above the oldest."), field="age_max")
    if not languages:
        raise InvalidInput(_("Add at least one working language."), field="languages")
    seen = set()
    for code, level in languages:
        if code in seen:
            raise InvalidInput(_("Each language can be listed once."), field="languages")
        if level not in CEFR_LEVELS:
            raise InvalidInput(_("Choose a CEFR level from A1 to C2."), field="languages")
        seen.add(code)
    if not is_detailed_field(fields["isced_code"]):
        raise InvalidInput(_("Choose the vocational field from the list."), field="isced_code")
    field_changed = school_class.isced_code != fields["isced_code"]
    for key in ("name", "isced_code", "eqf_level", "size", "age_min", "age_max", "partners_see_first_names"):
        setattr(school_class, key, fields[key])
    # The name is kept beside the code: every page that shows a class shows it, in one column.
    school_class.vocational_field = isced_names()[school_class.isced_code]
    if field_changed and school_class.id is not None:
        class_field_changed.send(school_class)
    by_code = {language.language: language for language in school_class.languages}
    school_class.languages = [_reuse_language(by_code.get(code), code, level) for code, level in languages]


def _reuse_language(existing: ClassLanguage | None, code: str, level: str) -> ClassLanguage:
    if existing is None:
        return ClassLanguage(language=code, cefr_level=level)
    existing.cefr_level = level
    return existing


def create_class(teacher: User, fields: dict, languages: list[tuple[str, str]]) -> SchoolClass:
    if not teacher.is_teacher or teacher.is_pending or teacher.school_id is None:
        raise PermissionDenied(_("Only validated teachers can create classes."))
    school_class = SchoolClass(school_id=teacher.school_id, teacher_id=teacher.id, join_code=new_join_code())
    _set_class_fields(school_class, fields, languages)
    db.session.add(school_class)
    db.session.flush()
    return school_class


def update_class(school_class: SchoolClass, fields: dict, languages: list[tuple[str, str]]) -> SchoolClass:
    _set_class_fields(school_class, fields, languages)
    return school_class


def _new_username() -> str:
    for _attempt in range(50):
        name = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_ANIMALS)}-{secrets.randbelow(90) + 10}"
        if not db.session.scalar(select(User.id).where(User.username == name)):
            return name
    # 40 x 40 x 90 names; this only happens once the space is crowded.
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_ANIMALS)}-{secrets.token_hex(3)}"


def add_student(
    school_class: SchoolClass,
    display_name: str,
    password: str,
    must_change: bool,
    with_code: bool,
    waits_for_approval: bool = False,
) -> User:
    """A new pupil account in this class; one that waits for approval gets a join request
    instead of the membership (app/auth/join_codes.py)."""
    username = _new_username()
    student = User(
        username=username,
        password_hash=hash_password(password),
        display_name=(display_name.strip() or username)[:120],
        role=Role.STUDENT,
        status=AccountStatus.ACTIVE,
        school_id=school_class.school_id,
        must_change_password=must_change,
    )
    if waits_for_approval:
        student.join_request = ClassJoinRequest(school_class=school_class, requested_at=utcnow())
    else:
        student.memberships.append(
            ClassMembership(school_class=school_class, joined_at=utcnow(), joined_with_code=with_code)
        )
    db.session.add(student)
    return student


def create_students(school_class: SchoolClass, names: list[str], count: int, max_batch: int) -> list[tuple[User, str]]:
    """New student accounts with one-time passwords, by pasted names or by a count."""
    names = [name.strip() for name in names if name.strip()]
    if names and count:
        raise InvalidInput(_("Either paste names or give a number, not both."), field="names")
    total = len(names) or count
    if total < 1:
        raise InvalidInput(_("Paste at least one name or give a number of students."), field="names")
    if total > max_batch:
        raise InvalidInput(_("At most %(count)d students at a time.", count=max_batch), field="names")
    if any(len(name) > 120 for name in names):
        raise InvalidInput(_("A name can have at most 120 characters."), field="names")
    cards = []
    for index in range(total):
        password = one_time_password()
        student = add_student(school_class, names[index] if names else "", password, must_change=True, with_code=False)
        cards.append((student, password))
    db.session.flush()
    return cards


def reset_student_password(school_class: SchoolClass, student: User) -> str:
    if not any(m.class_id == school_class.id for m in student.memberships):
        raise PermissionDenied(_("This student is not in this class."))
    password = one_time_password()
    student.password_hash = hash_password(password)
    student.must_change_password = True
    end_all_sessions(student)
    return password


def remove_student(school_class: SchoolClass, student: User) -> None:
    membership = next((m for m in student.memberships if m.class_id == school_class.id), None)
    if membership is None:
        raise PermissionDenied(_("This student is not in this class."))
    student.memberships.remove(membership)
    # Their open sockets are ended after the commit (app/realtime/revoke.py): a socket already
    # in a chat room would otherwise keep receiving the class's exchanges until it next spoke.
    access_reduced.send(student.id)
    if not student.memberships:
        delete_classless_student(student)


def delete_classless_student(student: User) -> None:
    """A pupil with no class has nothing left to do here: the account goes."""
    end_all_sessions(student)
    try:
        with db.session.begin_nested():
            db.session.delete(student)
            db.session.flush()
    except IntegrityError:
        # Their chat messages (or other shared work) still point at the account, and the
        # exchange's history must keep its order: the account is closed and stripped of
        # the pupil's name instead, so nothing of it can log in or identify them.
        _retire_student(student)


def _retire_student(student: User) -> None:
    student.status = AccountStatus.DISABLED
    student.username = f"removed-{secrets.token_hex(8)}"
    student.email = None
    student.display_name = "—"
    student.password_hash = hash_password(secrets.token_urlsafe(32))
    student.timezone = None
