"""app/realtime/ is plumbing every module shares: it never imports a feature module.
Modules reach it instead (socket_event, watch_changes for the kept checks, signals), so a
new module (boards) plugs in without the plumbing growing a list of features."""

from __future__ import annotations

import ast
from pathlib import Path

REALTIME = Path(__file__).resolve().parents[2] / "app" / "realtime"
FEATURES = "app.modules"


def feature_imports(source: str) -> list[str]:
    """Every feature module `source` imports, at its top or inside a function, also by name
    through importlib.import_module or __import__."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        found += [name for name in names if name == FEATURES or name.startswith(FEATURES + ".")]
    return found


def test_the_guard_sees_every_way_of_importing_a_feature():
    source = """
import app.modules.chat.models
from app.modules.projects import models
from app import modules
def later():
    from app.modules.chat.models import Channel
    importlib.import_module("app.modules.boards.models")
"""
    assert sorted(feature_imports(source)) == [
        "app.modules",
        "app.modules.boards.models",
        "app.modules.chat.models",
        "app.modules.chat.models",
        "app.modules.chat.models.Channel",
        "app.modules.projects",
        "app.modules.projects.models",
    ]
    assert feature_imports("from app.auth import queries\nimport app.realtime.rooms\n") == []


def test_the_realtime_plumbing_imports_no_feature_module():
    files = sorted(REALTIME.rglob("*.py"))
    assert files, REALTIME
    offenders = {
        str(path.relative_to(REALTIME.parent.parent)): names
        for path in files
        if (names := feature_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "app/realtime/ must not import feature modules (register from the module instead)"
