"""The one place that decides which name of a person a viewer sees.

A pupil's display name (a first name or a nickname) stays at their school: only the
pupil themself and the teachers and coordinators of the pupil's own school see it.
Everyone else (the partner schools' pupils and teachers, guests, mentors, visitors, the
site administrator, and fellow pupils too) sees the pupil's public name: the pseudonymous
username, or the display name when every class the pupil is in lets partners see first
names (SchoolClass.partners_see_first_names, which needs the pupils' and parents'
agreement). "Every class", not "a class shared with the exchange": a pupil's name then
reads the same in every exchange and list, and one teacher's opt-in never speaks for a
class whose teacher did not give it. Teachers, coordinators and guests are not pupils:
everyone sees their display name.

Pages use `NameResolver` (or the `shown_name` template filter, one resolver per request),
which answers for many people with one query. What goes to a whole socket room carries
public names only (`public_names`); a page for someone who may see more gets a roster of
the display names it may show (`private_roster`), which its script puts in.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import and_, exists, not_, select

from app.auth.models import ClassMembership, SchoolClass, User
from app.extensions import db


def sees_display_name(viewer: User | None, person: User) -> bool:
    """Whether this viewer may see the person's display name, whatever classes opted in."""
    if not person.is_student:
        return True
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == person.id:
        return True
    return (
        viewer.is_teacher
        and not viewer.is_pending
        and viewer.school_id is not None
        and viewer.school_id == person.school_id
    )


def shares_first_name_column(user_id):
    """SQL: whether partners may see this pupil's display name: they are in at least one
    class, and every class they are in opted in. (For a query that loads other things too,
    such as chat's one-query access check; `user_id` may be a bind parameter.)"""
    in_a_class = exists().where(ClassMembership.student_id == user_id)
    in_a_class_without = exists().where(
        ClassMembership.student_id == user_id,
        SchoolClass.id == ClassMembership.class_id,
        not_(SchoolClass.partners_see_first_names),
    )
    return and_(in_a_class, not_(in_a_class_without))


def pupils_sharing_first_name(pupil_ids: Iterable[int]) -> set[int]:
    """Of these pupils, those whose display name partners may see (one query)."""
    pupil_ids = sorted(set(pupil_ids))
    if not pupil_ids:
        return set()
    return set(db.session.scalars(select(User.id).where(User.id.in_(pupil_ids), shares_first_name_column(User.id))))


def public_name(person: User, shares_first_name: bool) -> str:
    """The name everyone may see; `shares_first_name` as pupils_sharing_first_name says."""
    if not person.is_student or shares_first_name:
        return person.display_name
    return person.username


def public_names(people: Iterable[User]) -> dict[int, str]:
    """The public name of each person, by id (one query for the pupils among them)."""
    people = list(people)
    sharing = pupils_sharing_first_name(p.id for p in people if p.is_student)
    return {p.id: public_name(p, p.id in sharing) for p in people}


class NameResolver:
    """The names one viewer sees of people, remembered: one query per batch of new pupils."""

    def __init__(self, viewer: User | None):
        self.viewer = viewer
        self._names: dict[int, str] = {}

    def load(self, people: Iterable[User | None]) -> NameResolver:
        """Works out the names of these people at once (so that later calls do not query)."""
        unknown = [p for p in people if p is not None and p.id not in self._names]
        public_for = [p for p in unknown if not sees_display_name(self.viewer, p)]
        sharing = pupils_sharing_first_name(p.id for p in public_for)
        for person in unknown:
            if sees_display_name(self.viewer, person):
                self._names[person.id] = person.display_name
            else:
                self._names[person.id] = public_name(person, person.id in sharing)
        return self

    def __call__(self, person: User) -> str:
        if person.id not in self._names:
            self.load([person])
        return self._names[person.id]

    def names(self, people: Iterable[User]) -> dict[int, str]:
        people = list(people)
        self.load(people)
        return {p.id: self._names[p.id] for p in people}

    def sort_key(self, person: User):
        """People sorted as this viewer reads their names (not by names they cannot see)."""
        return (self(person).casefold(), person.id)


def name_for(viewer: User | None, person: User) -> str:
    return NameResolver(viewer)(person)


def names_for(viewer: User | None, people: Iterable[User]) -> dict[int, str]:
    return NameResolver(viewer).names(people)


def private_roster(viewer: User | None, people: Iterable[User]) -> dict[int, str]:
    """The display names of the pupils among these people that this viewer may see, by id.

    A page whose live events carry only public names embeds this, and its script shows
    these names instead: own-school staff see their pupils' names, a pupil their own.
    """
    return {p.id: p.display_name for p in people if p.is_student and sees_display_name(viewer, p)}


def viewer_names() -> NameResolver:
    """The resolver of this request's user (one per request, shared by its templates)."""
    if not has_request_context():
        return NameResolver(None)
    resolver = g.get("_name_resolver")
    user = current_user._get_current_object() if current_user else None
    viewer = user if user is not None and user.is_authenticated else None
    if resolver is None or resolver.viewer is not viewer:
        resolver = g._name_resolver = NameResolver(viewer)
    return resolver


def shown_name(person: User | None) -> str:
    """Template filter: `{{ person|shown_name }}`, the name this request's user may see."""
    if person is None:
        return ""
    return viewer_names()(person)
