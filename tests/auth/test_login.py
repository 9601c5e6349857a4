from app.auth.models import UserSession
from app.extensions import db
from tests.conftest import PASSWORD, log_in, post_form


def test_teacher_logs_in_and_sees_dashboard(client, make):
    teacher = make.teacher(display_name="Ana Ribeiro")
    log_in(client, teacher)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Hello Ana Ribeiro" in page.get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make):
    teacher = make.teacher()
    wrong_password = post_form(client, "/login", {"login": teacher.username, "password": "not-the-password"})
    unknown_user = post_form(client, "/login", {"login": "nobody@example.eu", "password": "not-the-password"})
    assert wrong_password.status_code == unknown_user.status_code == 400
    for response in (wrong_password, unknown_user):
        assert "The username or password is not correct." in response.get_data(as_text=True)


def test_logout_ends_the_session_on_the_server(client, make):
    teacher = make.teacher()
    log_in(client, teacher)
    stolen_cookie = client.get_cookie("crossclass_session").value
    post_form(client, "/logout", {}, page="/dashboard")
    db.session.expire_all()
    assert db.session.query(UserSession).filter(UserSession.ended_at.is_(None)).count() == 0
    # Replaying the cookie from before the logout does not bring the session back.
    client.set_cookie("crossclass_session", stolen_cookie)
    assert client.get("/dashboard").status_code == 302


def test_login_renews_the_session(client, make):
    teacher = make.teacher()
    client.get("/login")
    before = client.get_cookie("crossclass_session").value
    log_in(client, teacher)
    assert client.get_cookie("crossclass_session").value != before


def test_login_without_csrf_token_is_refused(client, make):
    teacher = make.teacher()
    response = client.post("/login", data={"login": teacher.username, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code == 302
