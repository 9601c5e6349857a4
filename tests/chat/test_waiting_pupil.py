"""A pupil who joined with a class code that needs approval reaches nothing of the class's
exchanges (pages, lists, rosters, chat rooms, presence) until the teacher approves; then all.

The pupil's account is made through the real /join page; the checks go through the real
pages and sockets, so every access path built on class membership is exercised.
"""

from __future__ import annotations

from app.auth.models import Role, User
from app.extensions import db
from tests.auth.conftest import text_of
from tests.chat.conftest import join, send
from tests.conftest import csrf_token, post_form

PASSWORD = "my-own-secret-9"


def join_with_code(http, code: str, name: str):
    data = {"code": code, "display_name": name, "password": PASSWORD, "confirm": PASSWORD}
    return http.post("/join", data={"csrf_token": csrf_token(http, "/join"), **data})


def pupil_named(name: str) -> User:
    db.session.expire_all()
    return db.session.query(User).filter_by(display_name=name, role=Role.STUDENT).one()


def test_a_waiting_pupil_sees_nothing_until_approved_then_everything(exchange, browsers):
    project_path = f"/exchanges/{exchange.project.id}"
    pupil_http = browsers.http()
    assert join_with_code(pupil_http, exchange.class_pt.join_code, "Rui Waiting").status_code == 302
    rui = pupil_named("Rui Waiting")
    pupil_socket = browsers.socket(pupil_http)
    assert pupil_socket.is_connected()  # logged in: the socket is theirs, the rooms are not
    teacher_http = browsers.http(exchange.teacher)
    teacher_socket = browsers.socket(teacher_http)

    # Before approval: no page, list, roster, room or presence of the class.
    assert exchange.project.title not in text_of(pupil_http.get("/exchanges"))
    assert exchange.project.title not in text_of(pupil_http.get("/dashboard"))
    for path in (project_path, f"{project_path}/chat", f"{project_path}/people", f"{project_path}/sessions"):
        assert pupil_http.get(path).status_code in (403, 404), path
    refused = join(pupil_socket, exchange.channel.id)
    assert not refused["ok"]
    assert not send(pupil_socket, exchange.channel.id, "let me in")["ok"]
    assert "Rui Waiting" not in text_of(teacher_http.get(f"{project_path}/people"))
    assert "Rui Waiting" not in text_of(teacher_http.get(f"{project_path}/teams"))
    assert rui.id not in teacher_socket.emit("presence_sync", callback=True)["online"]
    class_page = text_of(teacher_http.get(f"/classes/{exchange.class_pt.id}"))
    assert "Rui Waiting" in class_page.split('id="waiting-pupils"')[1].split("</section>")[0]

    page = f"/classes/{exchange.class_pt.id}"
    assert post_form(teacher_http, f"{page}/waiting/{rui.id}/approve", {}, page=page).status_code == 302

    # After approval: the same paths open, without logging in again.
    assert exchange.project.title in text_of(pupil_http.get("/exchanges"))
    for path in (project_path, f"{project_path}/chat", f"{project_path}/people"):
        assert pupil_http.get(path).status_code == 200, path
    assert join(pupil_socket, exchange.channel.id)["ok"]
    assert send(pupil_socket, exchange.channel.id, "hello, I am in")["ok"]
    assert "Rui Waiting" in text_of(teacher_http.get(f"{project_path}/people"))
    assert rui.id in teacher_socket.emit("presence_sync", callback=True)["online"]


def test_a_code_without_approval_opens_the_exchanges_at_once(exchange, browsers):
    exchange.class_pt.join_code_needs_approval = False
    db.session.flush()
    pupil_http = browsers.http()

    assert join_with_code(pupil_http, exchange.class_pt.join_code, "Quick Pupil").status_code == 302

    assert pupil_http.get(f"/exchanges/{exchange.project.id}").status_code == 200
    assert join(browsers.socket(pupil_http), exchange.channel.id)["ok"]


def test_a_refused_pupil_is_logged_out_and_its_socket_ended(exchange, browsers):
    pupil_http = browsers.http()
    join_with_code(pupil_http, exchange.class_pt.join_code, "Not Mine")
    stranger = pupil_named("Not Mine")
    pupil_socket = browsers.socket(pupil_http)
    assert pupil_socket.is_connected()
    teacher_http = browsers.http(exchange.teacher)

    page = f"/classes/{exchange.class_pt.id}"
    assert post_form(teacher_http, f"{page}/waiting/{stranger.id}/refuse", {}, page=page).status_code == 302

    assert not pupil_socket.is_connected()
    assert pupil_http.get("/dashboard").status_code == 302
    assert db.session.query(User).filter_by(display_name="Not Mine").count() == 0
