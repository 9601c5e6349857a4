"""An exchange between Porto and Helsinki with boards, teams, and a storage directory per test."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.extensions import db
from app.modules.boards import operations, queries
from app.modules.projects.models import Team, TeamMembership
from tests.projects.conftest import build_exchange

# A storage directory per test, as for the uploads' own tests.
from tests.uploads.conftest import store  # noqa: F401


@pytest.fixture
def exchange(make):
    return build_exchange(make, porto_pupils=2, helsinki_pupils=1)


def board_of(exchange, teacher=None, **fields):
    teacher = teacher or exchange.porto.teacher
    access = queries.exchange_access(exchange.project, teacher)
    values = {
        "title": "Meet our class",
        "description": "",
        "layout": "shelf",
        "background": "white",
        "who_may_add": "everyone",
        "reaction_kind": "none",
        "team_id": None,
        **fields,
    }
    board = operations.create_board(access, teacher, "Hello", **values)
    db.session.commit()
    return board


def team_with(exchange, *pupils, name="Team Sardinha"):
    team = Team(project_id=exchange.project.id, name=name, position=1)
    db.session.add(team)
    db.session.flush()
    for pupil in pupils:
        db.session.add(TeamMembership(project_id=exchange.project.id, team_id=team.id, student_id=pupil.id))
    db.session.commit()
    return team


def png_file(name="kitchen.png", size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    out.seek(0)
    return (out, name)
