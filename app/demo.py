"""Demo data: six vocational schools in six countries, their teachers, classes and students.

The schools are invented; their towns are real, so coordinates and time zones are real.
Every demo account has the same password, printed by `make run` and listed in the README.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth.models import AccountStatus, ClassLanguage, ClassMembership, Role, School, SchoolClass, User
from app.auth.operations import create_school, new_join_code
from app.auth.passwords import hash_password
from app.core.db import utcnow
from app.core.errors import Conflict
from app.core.isced import isced_names, match_field
from app.extensions import db
from app.modules.matching.models import AvailabilitySlot, ClassProfile, ExchangeMode

DEMO_PASSWORD = "crossclass-demo"  # noqa: S105 (public, printed for demo logins)
STUDENTS_PER_CLASS = 4

# (key, school name, country, town, [(teacher key, teacher name, is coordinator)], [classes])
# A class: (teacher key, name, field, EQF, size, age range, [(language, CEFR)])
DEMO_SCHOOLS = [
    (
        "porto",
        "Escola Profissional de Hotelaria (demo)",
        "PT",
        "Porto",
        [("ana", "Ana Ribeiro", True), ("joao", "João Matos", False)],
        [
            ("ana", "Cozinha 11A", "Cooking and catering", 4, 22, (16, 18), [("pt", "C2"), ("en", "B1"), ("es", "A2")]),
            (
                "joao",
                "Restaurante 12B",
                "Hotel, restaurants and catering",
                4,
                18,
                (17, 19),
                [("pt", "C2"), ("en", "B1")],
            ),
        ],
    ),
    (
        "helsinki",
        "Helsinki Vocational College (demo)",
        "FI",
        "Helsinki",
        [("aino", "Aino Virtanen", True), ("mikko", "Mikko Korhonen", False)],
        [
            ("aino", "ICT Support 2", "Computer use", 4, 20, (16, 19), [("fi", "C2"), ("en", "B2"), ("sv", "A2")]),
            ("mikko", "Electricians 1", "Electricity and energy", 4, 16, (16, 18), [("fi", "C2"), ("en", "B1")]),
            ("mikko", "Adult Electricians", "Electricity and energy", 4, 14, (20, 45), [("fi", "C2"), ("en", "B2")]),
        ],
    ),
    (
        "warsaw",
        "Zespół Szkół Samochodowych (demo)",
        "PL",
        "Warsaw",
        [("kasia", "Katarzyna Nowak", True), ("piotr", "Piotr Wiśniewski", False)],
        [
            (
                "piotr",
                "Mechanik 3T",
                "Motor vehicles, ships and aircraft",
                4,
                24,
                (17, 19),
                [("pl", "C2"), ("en", "B1"), ("de", "A2")],
            ),
            (
                "kasia",
                "Elektromobilność 2",
                "Motor vehicles, ships and aircraft",
                4,
                18,
                (16, 18),
                [("pl", "C2"), ("en", "A2")],
            ),
        ],
    ),
    (
        "bologna",
        "Istituto Professionale Aldini (demo)",
        "IT",
        "Bologna",
        [("giulia", "Giulia Rossi", True), ("marco", "Marco Bianchi", False)],
        [
            ("marco", "Meccatronica 4A", "Mechanics and metal trades", 4, 21, (17, 19), [("it", "C2"), ("en", "B1")]),
            (
                "giulia",
                "Elettrotecnica 3B",
                "Electricity and energy",
                4,
                19,
                (16, 18),
                [("it", "C2"), ("en", "A2"), ("fr", "A2")],
            ),
        ],
    ),
    (
        "nuremberg",
        "Berufliche Schule Nürnberg (demo)",
        "DE",
        "Nuremberg",
        [("stefan", "Stefan Weber", True), ("lena", "Lena Fischer", False)],
        [
            (
                "lena",
                "Kfz-Mechatronik 11",
                "Motor vehicles, ships and aircraft",
                4,
                23,
                (16, 20),
                [("de", "C2"), ("en", "B1")],
            ),
            ("stefan", "Fachinformatik 12", "Computer use", 4, 25, (18, 22), [("de", "C2"), ("en", "B2")]),
        ],
    ),
    (
        "valencia",
        "CIPFP Ciutat de València (demo)",
        "ES",
        "Valencia",
        [("carmen", "Carmen López", True), ("jorge", "Jorge Martín", False)],
        [
            (
                "jorge",
                "Cocina y Gastronomía 1",
                "Cooking and catering",
                4,
                20,
                (16, 19),
                [("es", "C2"), ("en", "A2"), ("pt", "A2")],
            ),
            ("carmen", "Cuidados Auxiliares 2", "Nursing and midwifery", 4, 18, (17, 21), [("es", "C2"), ("en", "B1")]),
            ("carmen", "Dietética 1", "Health", 5, 15, (18, 24), [("es", "C2"), ("en", "B1")]),
        ],
    ),
]


# Partner profiles of the demo classes, for the 2027 spring term, so that demo teachers get
# real suggestions. Slots are school hours in each school's local time (weekday 0 = Monday).
# class name: (ISCED-F detailed field, qualification, mode, can send, can host, themes, slots)
SPRING_2027 = (date(2027, 2, 1), date(2027, 5, 28))
_SCHOOL_HOURS = [(1, 9 * 60, 12 * 60), (3, 13 * 60, 16 * 60)]
_MORNINGS = [(0, 9 * 60, 11 * 60), (2, 10 * 60, 12 * 60), (3, 13 * 60, 15 * 60)]
DEMO_PROFILES = {
    "Cozinha 11A": ("1013", "Cook", "virtual", False, False, ["green_skills", "cultural_heritage"], _SCHOOL_HOURS),
    "Restaurante 12B": (
        "1013",
        "Restaurant and bar technician",
        "virtual",
        False,
        False,
        ["entrepreneurship", "cultural_heritage"],
        _SCHOOL_HOURS,
    ),
    "ICT Support 2": ("0611", "ICT support technician", "virtual", False, False, ["digital_skills"], _SCHOOL_HOURS),
    "Electricians 1": (
        "0713",
        "Electrician",
        "virtual",
        False,
        False,
        ["green_skills", "health_and_safety"],
        _SCHOOL_HOURS,
    ),
    "Adult Electricians": ("0713", "Electrician", "virtual", False, False, ["green_skills"], _MORNINGS),
    "Mechanik 3T": (
        "0716",
        "Motor vehicle mechanic",
        "blended",
        True,
        True,
        ["green_skills", "health_and_safety"],
        _SCHOOL_HOURS,
    ),
    "Elektromobilność 2": (
        "0716",
        "Electromobility technician",
        "virtual",
        False,
        False,
        ["green_skills", "digital_skills"],
        _SCHOOL_HOURS,
    ),
    "Meccatronica 4A": (
        "0715",
        "Mechatronics operator",
        "virtual",
        False,
        False,
        ["digital_skills", "health_and_safety"],
        _SCHOOL_HOURS,
    ),
    "Elettrotecnica 3B": ("0713", "Electrical technician", "virtual", False, False, ["green_skills"], _SCHOOL_HOURS),
    "Kfz-Mechatronik 11": (
        "0716",
        "Automotive mechatronics technician",
        "blended",
        True,
        True,
        ["green_skills", "digital_skills"],
        _SCHOOL_HOURS,
    ),
    "Fachinformatik 12": ("0613", "IT specialist", "virtual", False, False, ["digital_skills"], _MORNINGS),
    "Cocina y Gastronomía 1": (
        "1013",
        "Cooking and gastronomy technician",
        "virtual",
        False,
        False,
        ["green_skills", "cultural_heritage", "inclusion"],
        _SCHOOL_HOURS,
    ),
    "Cuidados Auxiliares 2": (
        "0913",
        "Nursing care assistant",
        "virtual",
        False,
        False,
        ["health_and_safety", "inclusion"],
        _SCHOOL_HOURS,
    ),
    "Dietética 1": ("0915", "Dietetics technician", "virtual", False, False, ["health_and_safety"], _MORNINGS),
}


def demo_profile(school_class: SchoolClass) -> ClassProfile | None:
    entry = DEMO_PROFILES.get(school_class.name)
    if entry is None:
        return None
    isced, qualification, mode, can_send, can_host, themes, slots = entry
    return ClassProfile(
        class_id=school_class.id,
        isced_code=isced,
        qualification=qualification,
        period_start=SPRING_2027[0],
        period_end=SPRING_2027[1],
        mode=ExchangeMode(mode),
        can_send=can_send,
        can_host=can_host,
        max_distance_km=2000 if mode == "blended" else None,
        wants_live=True,
        themes=themes,
        free_tags=[],
        preferred_countries=[],
        excluded_countries=[],
        is_searchable=True,
        slots=[AvailabilitySlot(weekday=d, start_minute=start, end_minute=end) for d, start, end in slots],
    )


def demo_logins() -> list[tuple[str, str]]:
    """(role, username) of the demo accounts worth showing, for `make run` and the README."""
    logins = [("admin", "admin")]
    for key, _name, _country, _city, teachers, _classes in DEMO_SCHOOLS:
        for teacher_key, _teacher_name, is_coordinator in teachers:
            role = "coordinator" if is_coordinator else "teacher"
            logins.append((role, f"{teacher_key}.{key}@demo.crossclass.eu"))
    logins.append(("student", "student.porto.1"))
    return logins


def seed_demo(only_if_empty: bool = True) -> str | None:
    """Adds the demo data; returns a summary, or None when there was data already."""
    if only_if_empty and db.session.scalar(select(func.count(User.id))):
        return None
    demo_usernames = [username for _role, username in demo_logins()]
    if db.session.scalar(select(User.id).where(User.username.in_(demo_usernames)).limit(1)):
        raise Conflict(_("The demo data is already loaded."))
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for all: argon2 is slow on purpose
    now = utcnow()
    db.session.add(
        User(
            username="admin",
            email="admin@demo.crossclass.eu",
            password_hash=password_hash,
            display_name="Platform admin",
            role=Role.ADMIN,
            status=AccountStatus.ACTIVE,
        )
    )
    class_count = student_count = 0
    for key, name, country, city, teachers, classes in DEMO_SCHOOLS:
        school: School = create_school(name, country, city, is_verified=True)
        people = {}
        school_students = 0
        for teacher_key, teacher_name, is_coordinator in teachers:
            email = f"{teacher_key}.{key}@demo.crossclass.eu"
            people[teacher_key] = User(
                username=email,
                email=email,
                password_hash=password_hash,
                display_name=teacher_name,
                role=Role.COORDINATOR if is_coordinator else Role.TEACHER,
                status=AccountStatus.ACTIVE,
                school=school,
                validated_at=now,
            )
            db.session.add(people[teacher_key])
        for teacher_key, class_name, field, eqf, size, (age_min, age_max), languages in classes:
            # The profile's field where there is one, so that class and profile agree.
            isced_code = DEMO_PROFILES[class_name][0] if class_name in DEMO_PROFILES else match_field(field)
            school_class = SchoolClass(
                school=school,
                teacher=people[teacher_key],
                name=class_name,
                isced_code=isced_code,
                vocational_field=isced_names()[isced_code] if isced_code else field,
                eqf_level=eqf,
                size=size,
                age_min=age_min,
                age_max=age_max,
                join_code=new_join_code(),
                languages=[ClassLanguage(language=code, cefr_level=level) for code, level in languages],
            )
            db.session.add(school_class)
            db.session.flush()
            profile = demo_profile(school_class)
            if profile is not None:
                db.session.add(profile)
            class_count += 1
            for number in range(1, STUDENTS_PER_CLASS + 1):
                student_count += 1
                school_students += 1
                username = f"student.{key}.{school_students}"
                db.session.add(
                    User(
                        username=username,
                        password_hash=password_hash,
                        display_name=f"{class_name.split()[0]} {number}",
                        role=Role.STUDENT,
                        status=AccountStatus.ACTIVE,
                        school=school,
                        memberships=[ClassMembership(school_class=school_class, joined_at=now)],
                    )
                )
    # A teacher waiting for validation, so a coordinator has something to review.
    db.session.add(
        User(
            username="new.teacher@demo.crossclass.eu",
            email="new.teacher@demo.crossclass.eu",
            password_hash=password_hash,
            display_name="Rui Costa",
            role=Role.TEACHER,
            status=AccountStatus.PENDING,
            school=db.session.scalar(select(School).where(School.city == "Porto")),
        )
    )
    db.session.flush()
    return f"{len(DEMO_SCHOOLS)} schools, {class_count} classes, {student_count} students"
