"""An exchange between a class in Porto and one in Helsinki, with pupils in both."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from app.auth.models import SchoolClass, User
from app.modules.projects.models import Project
from app.modules.projects.operations import create_project
from tests.auth.conftest import text_of
from tests.matching.test_profile_pages import class_in


def plain_text(response) -> str:
    """The page as a reader sees it: without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text_of(response)).split()).replace(" )", ")").replace("( ", "(")


@dataclass
class Exchange:
    project: Project
    porto: SchoolClass
    helsinki: SchoolClass
    porto_pupils: list[User]
    helsinki_pupils: list[User]

    @property
    def path(self) -> str:
        return f"/exchanges/{self.project.id}"


def build_exchange(make, porto_pupils: int = 3, helsinki_pupils: int = 3) -> Exchange:
    porto = class_in(make, "PT", name="Cozinha 11A")
    helsinki = class_in(make, "FI", name="Kokki 2B")
    project = create_project(porto.teacher_id, [porto, helsinki])
    return Exchange(
        project,
        porto,
        helsinki,
        [make.student(porto, display_name=f"Ana {n}") for n in range(porto_pupils)],
        [make.student(helsinki, display_name=f"Aino {n}") for n in range(helsinki_pupils)],
    )


@pytest.fixture
def exchange(make) -> Exchange:
    return build_exchange(make)
