"""Who may read an upload: the module that owns it decides, through a registered check."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.modules.projects.models import Project
from app.modules.projects.queries import may_see_project
from app.modules.uploads.models import Upload

ReadCheck = Callable[[User, Upload], bool]
_read_checks: dict[str, ReadCheck] = {}


def register_owner_kind(kind: str, may_read: ReadCheck) -> None:
    """A module that attaches uploads to its objects says who may read them (boards: who may
    see the card). Called once at start-up, from the module's registration."""
    if kind in _read_checks and _read_checks[kind] is not may_read:
        raise ValueError(f"owner kind {kind!r} is registered twice")
    _read_checks[kind] = may_read


def may_read(user: User, upload: Upload) -> bool:
    if user is None or not user.is_authenticated:
        return False
    check = _read_checks.get(upload.owner_kind)
    if check is not None:
        return check(user, upload)
    return may_read_by_default(user, upload)


def may_read_by_default(user: User, upload: Upload) -> bool:
    """For kinds no module registered: the uploader, and whoever may see the upload's exchange."""
    if upload.uploader_id == user.id:
        return True
    if upload.project_id is None:
        return False
    project = db.session.get(Project, upload.project_id)
    return project is not None and may_see_project(project, user)


def upload_by_token(token: str) -> Upload | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Upload).where(Upload.token == token))
