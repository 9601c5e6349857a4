"""Class codes: how long they work, turning them off and on, and pupils who join with one.

A code works while it is on and not expired; the teacher renews it (a new code), turns it
off, or gives it a new period of validity. A pupil who joins with a code that needs the
teacher's approval (the default) gets an account and a ClassJoinRequest, not a membership:
they can log in and see that they are waiting, and nothing of the class until the teacher
approves. Joining is throttled per client address (app/auth/throttle.py).
"""

from __future__ import annotations

import enum
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth import throttle
from app.auth.models import (
    JOIN_CODE_VALIDITY_DAYS,
    ClassJoinRequest,
    ClassMembership,
    SchoolClass,
    User,
)
from app.auth.operations import add_student, check_password_strength, delete_classless_student, new_join_code
from app.core.db import utcnow
from app.core.errors import InvalidInput, NotFound
from app.core.signals import pupil_waiting
from app.extensions import db

# A class holds at most this many pupils, those waiting for approval included.
MAX_CLASS_PUPILS = 60


class CodeState(enum.StrEnum):
    OPEN = "open"
    OFF = "off"
    EXPIRED = "expired"


class WrongClassCode(InvalidInput):
    """A code that belongs to no class: counted per address, so codes cannot be found by trying."""

    code = "wrong_class_code"


def code_state(school_class: SchoolClass, now=None) -> CodeState:
    if not school_class.join_code_active:
        return CodeState.OFF
    if school_class.join_code_expires_at <= (now or utcnow()):
        return CodeState.EXPIRED
    return CodeState.OPEN


def _new_period(school_class: SchoolClass, days: int) -> None:
    if days not in JOIN_CODE_VALIDITY_DAYS:
        raise InvalidInput(_("Choose how long the code works from the list."), field="validity_days")
    school_class.join_code_expires_at = utcnow() + timedelta(days=days)


def change_join_code(school_class: SchoolClass, action: str, days: int, needs_approval: bool) -> SchoolClass:
    """save: a new period from now and the approval setting; renew: the same with a new code
    (the old one stops working); disable / enable: off or on (an expired code turned on gets
    a new period)."""
    if action == "disable":
        school_class.join_code_active = False
    elif action == "enable":
        if school_class.join_code_expires_at <= utcnow():
            _new_period(school_class, days)
        school_class.join_code_active = True
    elif action in ("save", "renew"):
        _new_period(school_class, days)
        school_class.join_code_needs_approval = needs_approval
        if action == "renew":
            school_class.join_code = new_join_code()
            school_class.join_code_active = True
    else:
        raise InvalidInput(_("Unknown action."))
    return school_class


def class_of_code(code: str, address: str) -> SchoolClass:
    """The class whose code this is (on or not, expired or not). A code of no class raises
    WrongClassCode and is counted for the address (the caller commits even so); past the
    hour's wrong codes no code is looked up at all (RateLimited). The caller commits soon
    after: the address's counter stays locked until then."""
    throttle.lock_code_tries(address)
    code = code.strip().upper().replace(" ", "").replace("-", "")
    school_class = db.session.scalar(select(SchoolClass).where(SchoolClass.join_code == code))
    if school_class is None:
        throttle.count_wrong_code(address)
        raise WrongClassCode(_("This class code is not valid. Ask your teacher for the current code."), field="code")
    return school_class


def join_class_with_code(school_class: SchoolClass, display_name: str, password: str, address: str) -> User:
    """A new pupil account in the class of a code; it waits for approval when the code says so.

    Raises RateLimited past the hourly number of joins from the address, InvalidInput for a
    code turned off or expired, a full class or a bad name or password.
    """
    throttle.refuse_too_many_joins(address)  # early, before the password is hashed
    state = code_state(school_class)
    if state == CodeState.OFF:
        raise InvalidInput(
            _("Your teacher has turned this class code off. Ask your teacher for the current code."), field="code"
        )
    if state == CodeState.EXPIRED:
        raise InvalidInput(_("This class code has expired. Ask your teacher for a new one."), field="code")
    if not display_name.strip():
        raise InvalidInput(_("Enter a nickname or your first name."), field="display_name")
    check_password_strength(password, display_name=display_name)
    if len(school_class.memberships) + len(school_class.join_requests) >= MAX_CLASS_PUPILS:
        raise InvalidInput(_("This class is full. Ask your teacher."), field="code")
    waits = school_class.join_code_needs_approval
    student = add_student(
        school_class, display_name, password, must_change=False, with_code=True, waits_for_approval=waits
    )
    throttle.take_join(address)  # counted here, atomically: parallel joins cannot overshoot
    db.session.flush()
    if waits:
        pupil_waiting.send(student.join_request)
    return student


def _request_of(school_class: SchoolClass, student_id: int) -> ClassJoinRequest:
    request = db.session.scalar(
        select(ClassJoinRequest).where(
            ClassJoinRequest.class_id == school_class.id, ClassJoinRequest.student_id == student_id
        )
    )
    if request is None:
        raise NotFound(_("This pupil is not waiting to join this class."))
    return request


def approve_join_request(school_class: SchoolClass, student_id: int) -> ClassMembership:
    """The waiting pupil becomes a member, exactly as joining without approval makes one."""
    request = _request_of(school_class, student_id)
    student = request.student
    student.join_request = None
    db.session.flush()
    membership = ClassMembership(school_class=school_class, student=student, joined_at=utcnow(), joined_with_code=True)
    db.session.add(membership)
    db.session.flush()
    return membership


def refuse_join_request(school_class: SchoolClass, student_id: int) -> None:
    """The waiting pupil is turned away: the account made by joining goes too."""
    request = _request_of(school_class, student_id)
    student = request.student
    student.join_request = None
    db.session.flush()
    if not student.memberships:
        delete_classless_student(student)
