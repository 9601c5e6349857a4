"""flask create-admin and flask seed-demo, run through Flask's CLI runner on the test database."""

from sqlalchemy import func, select

from app.auth.models import AccountStatus, ClassMembership, Role, School, SchoolClass, User
from app.auth.passwords import verify_password
from app.demo import DEMO_PASSWORD, demo_logins
from app.extensions import db


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_create_admin_makes_a_platform_administrator(app):
    result = run(
        app, "create-admin", "--username", " Root ", "--email", "Root@Example.EU", "--password", "a-long-admin-pass-1"
    )

    assert result.exit_code == 0, result.output
    assert "Administrator root created." in result.output
    admin = db.session.scalar(select(User).where(User.username == "root"))
    assert (admin.role, admin.status, admin.email) == (Role.ADMIN, AccountStatus.ACTIVE, "root@example.eu")
    assert admin.password_hash.startswith("$argon2id$")
    assert verify_password(admin.password_hash, "a-long-admin-pass-1")


def test_create_admin_asks_for_the_password_twice(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--username", "root", "--email", ""],
        input="a-long-admin-pass-1\na-long-admin-pass-1\n",
    )

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).where(User.role == Role.ADMIN)) == 1


def test_create_admin_refuses_a_short_password(app):
    result = run(app, "create-admin", "--username", "root", "--email", "", "--password", "short")

    assert result.exit_code != 0
    assert "Use at least 8 characters." in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_admin_refuses_a_taken_name(app, make):
    make.teacher(username="root@example.eu")

    result = run(
        app, "create-admin", "--username", "boss", "--email", "ROOT@example.eu", "--password", "a-long-admin-pass-1"
    )

    assert result.exit_code != 0
    assert "This username or e-mail is already taken." in result.output
    assert db.session.scalar(select(func.count()).where(User.role == Role.ADMIN)) == 0


def count(query):
    db.session.expire_all()
    return db.session.scalar(query)


def test_seed_demo_loads_schools_classes_and_people_across_europe(app):
    result = run(app, "seed-demo", "--if-empty")

    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output
    schools = db.session.scalars(select(School)).all()
    assert len(schools) >= 6
    assert len({school.country for school in schools}) >= 6
    assert all(school.is_verified and school.timezone.startswith("Europe/") for school in schools)
    classes = db.session.scalars(select(SchoolClass)).all()
    assert len(classes) >= 12
    assert len({school_class.vocational_field for school_class in classes}) >= 4
    assert all(school_class.languages for school_class in classes)
    for school in schools:
        coordinators = [p for p in school.people if p.role == Role.COORDINATOR and p.status == AccountStatus.ACTIVE]
        assert coordinators, school.name
    assert count(select(func.count()).select_from(ClassMembership)) >= len(classes)
    # Every class has students, and every demo login printed for `make run` works.
    assert all(school_class.memberships for school_class in classes)
    for _role, username in demo_logins():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        assert user.status == AccountStatus.ACTIVE
        assert verify_password(user.password_hash, DEMO_PASSWORD)


def test_seed_demo_if_empty_changes_nothing_the_second_time(app):
    assert run(app, "seed-demo", "--if-empty").exit_code == 0
    people = count(select(func.count()).select_from(User))
    schools = count(select(func.count()).select_from(School))

    again = run(app, "seed-demo", "--if-empty")

    assert again.exit_code == 0
    assert "nothing changed" in again.output
    assert count(select(func.count()).select_from(User)) == people
    assert count(select(func.count()).select_from(School)) == schools


def test_seed_demo_if_empty_leaves_a_database_in_use_alone(app, make):
    make.teacher()

    result = run(app, "seed-demo", "--if-empty")

    assert result.exit_code == 0
    assert count(select(func.count()).select_from(School)) == 1


def test_seed_demo_on_a_seeded_database_says_why_it_stops(app):
    assert run(app, "seed-demo").exit_code == 0
    people = count(select(func.count()).select_from(User))

    again = run(app, "seed-demo")

    assert again.exit_code != 0
    assert "The demo data is already loaded." in again.output
    assert "Traceback" not in again.output
    assert count(select(func.count()).select_from(User)) == people
