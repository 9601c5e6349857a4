"""An exchange of two classes from two countries, with its chat channels."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.modules.chat import operations
from app.modules.chat.models import Channel
from app.modules.projects.operations import create_project
from tests.realtime.conftest import browsers  # noqa: F401  (the socket clients, reused)


@pytest.fixture
def exchange(make):
    teacher_pt = make.teacher(make.school(country="PT"))
    teacher_de = make.teacher(make.school(country="DE", city="Berlin", timezone="Europe/Berlin"))
    class_pt, class_de = make.school_class(teacher_pt), make.school_class(teacher_de)
    project = create_project(teacher_pt.id, [class_pt, class_de])
    operations.ensure_channels(project)
    db.session.flush()
    channels = {c.slug: c for c in db.session.query(Channel).filter_by(project_id=project.id)}
    return SimpleNamespace(
        project=project,
        teacher=teacher_pt,
        partner_teacher=teacher_de,
        class_pt=class_pt,
        class_de=class_de,
        ana=make.student(class_pt, display_name="Ana"),
        ben=make.student(class_de, display_name="Ben"),
        channel=channels["project"],
        teachers_channel=channels["teachers"],
    )


def new_client_id() -> str:
    return str(uuid.uuid4())


def send(sock, channel_id: int, body: str, client_id: str | None = None, **extra) -> dict:
    payload = {"channel_id": channel_id, "client_id": client_id or new_client_id(), "body": body, **extra}
    return sock.emit("chat_send", payload, callback=True)


def join(sock, channel_id: int, last_seq: int | None = None) -> dict:
    return sock.emit("chat_join", {"channel_id": channel_id, "last_seq": last_seq}, callback=True)
