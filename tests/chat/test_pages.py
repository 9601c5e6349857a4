"""The chat page of an exchange."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.modules.chat.models import Channel
from app.modules.projects.operations import create_project


def test_members_see_the_chat_page_with_their_channels(exchange, browsers):
    page = browsers.http(exchange.ana).get(f"/exchanges/{exchange.project.id}/chat")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-channel-id="{exchange.channel.id}"' in html
    assert "Whole exchange" in html and "Teachers</a>" not in html
    assert "<script>" not in html and 'src="/static/js/chat.js"' in html

    teacher_page = browsers.http(exchange.teacher).get(
        f"/exchanges/{exchange.project.id}/chat/{exchange.teachers_channel.id}"
    )
    assert teacher_page.status_code == 200
    assert f'data-channel-id="{exchange.teachers_channel.id}"' in teacher_page.get_data(as_text=True)


def test_students_and_outsiders_are_kept_out(exchange, browsers, make):
    student = browsers.http(exchange.ana)
    assert student.get(f"/exchanges/{exchange.project.id}/chat/{exchange.teachers_channel.id}").status_code == 403
    outsider = browsers.http(make.student(make.school_class()))
    assert outsider.get(f"/exchanges/{exchange.project.id}/chat").status_code == 403


def test_channels_are_made_on_first_visit(make, browsers):
    teacher = make.teacher()
    project = create_project(teacher.id, [make.school_class(teacher), make.school_class()])
    assert browsers.http(teacher).get(f"/exchanges/{project.id}/chat").status_code == 200
    assert browsers.http(teacher).get(f"/exchanges/{project.id}/chat").status_code == 200
    kinds = db.session.scalars(select(Channel.kind).where(Channel.project_id == project.id).order_by(Channel.id))
    assert [k.value for k in kinds] == ["project", "teachers"]


def test_teachers_reach_moderation_from_the_chat_and_come_back(exchange, browsers):
    project_id = exchange.project.id
    queue, log, chat = (f"/exchanges/{project_id}/{path}" for path in ("moderation", "moderation/log", "chat"))

    teacher = browsers.http(exchange.teacher)
    chat_page = teacher.get(chat).get_data(as_text=True)
    assert f'href="{queue}"' in chat_page and f'href="{log}"' in chat_page
    for page in (queue, log):
        answer = teacher.get(page)
        assert answer.status_code == 200
        assert f'href="{chat}"' in answer.get_data(as_text=True), f"no way back to the chat from {page}"

    pupil_page = browsers.http(exchange.ana).get(chat).get_data(as_text=True)
    assert f'href="{queue}"' not in pupil_page and f'href="{log}"' not in pupil_page
