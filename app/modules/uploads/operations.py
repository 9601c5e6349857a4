"""Storing and deleting uploads: checks, re-encoding, the file, then the row.

Order of a save: refuse early what is plainly wrong (size, type, quota), re-encode images
off the event loop, write the files, then add the row. A failure after a file was written
deletes it again; so does a rollback of the transaction the row was added in (a listener on
the session, below), so neither a row without its file nor a file without its row is left.
A crash of the whole process between the file write and the commit can still leave an
orphaned file, never a row without a file; docs/deployment.md says how to find such files.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from app.auth.models import User
from app.core.after_commit import run_after_commit, transaction_within
from app.core.db import serving_under_gevent, utcnow
from app.core.errors import InvalidInput, RateLimited
from app.extensions import db
from app.modules.projects.models import Project
from app.modules.uploads.images import ImageRefused, reencode_image
from app.modules.uploads.models import Upload
from app.modules.uploads.sniffing import EXTENSIONS, IMAGE_TYPES, detect_media_type
from app.modules.uploads.storage import LocalStorage, Storage, new_key

_STORAGE = "crossclass_upload_storage"
_OWNER_KIND = re.compile(r"^[a-z][a-z_]{0,39}$")
_WRITTEN = "crossclass_upload_files"  # files written in a transaction not yet committed


def storage(app=None) -> Storage:
    app = app or current_app
    if _STORAGE not in app.extensions:
        app.extensions[_STORAGE] = LocalStorage(app.config["UPLOAD_STORAGE_DIR"])
    return app.extensions[_STORAGE]


def use_storage(app, chosen: Storage) -> None:
    """Another store than the local directory (an S3-compatible one, later)."""
    app.extensions[_STORAGE] = chosen


def allowed_types_message() -> str:
    return _(
        "Only photos and pictures (JPEG, PNG, GIF, WebP), PDF files and office documents "
        "(Word, Excel, PowerPoint, OpenDocument) can be uploaded."
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def save_upload(file_storage, *, owner_kind: str, owner_id: int | None, project: Project | None, uploader: User):
    """Stores one file sent in a form (a werkzeug FileStorage) and returns its Upload row,
    flushed, not committed. The caller has checked that the uploader may add it there.

    Raises InvalidInput (empty, too large, a type we do not take, an unreadable or too large
    image) or RateLimited (the exchange's space or the uploader's daily allowance is used up).
    """
    if not _OWNER_KIND.match(owner_kind):
        raise ValueError(f"owner kind must be lower-case letters and underscores: {owner_kind!r}")
    config = current_app.config
    max_bytes = config["UPLOAD_MAX_BYTES"]
    content = file_storage.stream.read(max_bytes + 1)
    if not content:
        raise InvalidInput(_("The file is empty."), field="file")
    if len(content) > max_bytes:
        raise InvalidInput(
            _("The file is too large: at most %(size)s MB per file.", size=_megabytes(max_bytes)), field="file"
        )
    media_type = detect_media_type(content)
    if media_type is None:
        raise InvalidInput(_("This kind of file cannot be uploaded.") + " " + allowed_types_message(), field="file")
    # Before the costly re-encoding: a full quota refuses at once. An image's stored size is
    # known only afterwards (it is checked then), so here it counts as nothing.
    _check_quota(project, uploader, 0 if media_type in IMAGE_TYPES else len(content), lock=False)

    width = height = None
    thumbnail = None
    if media_type in IMAGE_TYPES:
        clean = _off_the_event_loop(
            _reencode, content, media_type, config["UPLOAD_IMAGE_MAX_PIXELS"], config["UPLOAD_THUMBNAIL_PIXELS"]
        )
        content, media_type, thumbnail = clean.content, clean.media_type, clean.thumbnail
        width, height = clean.width, clean.height
    # Re-encoding can make a file larger; the stored size is what counts against the quota,
    # checked again with the exchange's row locked (PostgreSQL) so that two uploads at once
    # cannot both take its last space.
    _check_quota(project, uploader, len(content) + len(thumbnail or b""), lock=True)

    store = storage()
    written: list[str] = []
    try:
        storage_key = new_key()
        store.put(storage_key, content)
        written.append(storage_key)
        thumbnail_key = None
        if thumbnail is not None:
            thumbnail_key = new_key()
            store.put(thumbnail_key, thumbnail)
            written.append(thumbnail_key)
        upload = Upload(
            token=secrets.token_urlsafe(24),
            owner_kind=owner_kind,
            owner_id=owner_id,
            project_id=project.id if project is not None else None,
            uploader_id=uploader.id,
            filename=display_filename(file_storage.filename, media_type),
            media_type=media_type,
            size_bytes=len(content),
            storage_key=storage_key,
            thumbnail_key=thumbnail_key,
            width=width,
            height=height,
            sha256=hashlib.sha256(content).hexdigest(),
        )
        db.session.add(upload)
        db.session.flush()
    except BaseException:
        for key in written:
            store.delete(key)
        raise
    _delete_files_on_rollback(db.session(), store, written)
    return upload


def delete_upload(upload: Upload) -> None:
    """Deletes the row now and the files once the deletion is committed (a rollback keeps both)."""
    store = storage()
    keys = [key for key in (upload.storage_key, upload.thumbnail_key) if key]
    db.session.delete(upload)
    db.session.flush()

    def delete_files() -> None:
        for key in keys:
            store.delete(key)

    run_after_commit(db.session, delete_files, "delete the files of an upload")


def _reencode(content: bytes, media_type: str, max_pixels: int, thumbnail_pixels: int):
    try:
        return reencode_image(content, media_type, max_pixels, thumbnail_pixels)
    except ImageRefused as refused:
        return refused


def _off_the_event_loop(function, *arguments):
    """Pillow's decoding and encoding hold the CPU for a good part of a second for a phone
    photo; in gevent's thread pool the other greenlets (chat, sockets) go on meanwhile."""
    if serving_under_gevent():
        import gevent

        result = gevent.get_hub().threadpool.apply(function, arguments)
    else:
        result = function(*arguments)
    if isinstance(result, ImageRefused):
        if result.reason == "too_many_pixels":
            raise InvalidInput(
                _(
                    "The picture has too many pixels (at most %(megapixels)s megapixels). Please make it smaller.",
                    megapixels=f"{current_app.config['UPLOAD_IMAGE_MAX_PIXELS'] / 1_000_000:g}",
                ),
                field="file",
            )
        raise InvalidInput(_("The picture cannot be read: the file may be damaged."), field="file")
    return result


def _check_quota(project: Project | None, uploader: User, size: int, *, lock: bool) -> None:
    config = current_app.config
    if project is not None:
        if lock:
            # Serialises the uploads of one exchange until commit on PostgreSQL; SQLite has
            # no row locks (and writes one transaction at a time), so two uploads at the same
            # moment may there go past the quota by one file at most.
            db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
        used = db.session.scalar(
            select(func.coalesce(func.sum(Upload.size_bytes), 0)).where(Upload.project_id == project.id)
        )
        if used + size > config["UPLOAD_PROJECT_QUOTA_BYTES"]:
            raise RateLimited(
                _(
                    "This exchange has no room left for files (%(size)s MB in all). "
                    "A teacher can delete files that are no longer needed.",
                    size=_megabytes(config["UPLOAD_PROJECT_QUOTA_BYTES"]),
                ),
                code="upload_quota",
            )
    # Per person and 24 hours; not locked, so uploads by one person at the very same moment
    # may go past it by one file each.
    count, total = db.session.execute(
        select(func.count(Upload.id), func.coalesce(func.sum(Upload.size_bytes), 0)).where(
            Upload.uploader_id == uploader.id, Upload.created_at >= utcnow() - timedelta(days=1)
        )
    ).one()
    if count + 1 > config["UPLOADS_PER_USER_PER_DAY"] or total + size > config["UPLOAD_BYTES_PER_USER_PER_DAY"]:
        raise RateLimited(
            _("You have uploaded as many files as one person may in a day. Please try again tomorrow."),
            code="upload_quota",
        )


_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def display_filename(name: str | None, media_type: str) -> str:
    """The uploader's file name, fit to show and to put in Content-Disposition: no folders,
    no control characters, at most 120 characters, and the extension of what it really is."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_IN_NAME.sub("_", name).strip(" ._")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(" ._")[:120] or "file"
    return f"{stem}.{EXTENSIONS[media_type]}"


# ---- files of a transaction that does not commit --------------------------------------------


def _delete_files_on_rollback(session: Session, store: Storage, keys: list[str]) -> None:
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_WRITTEN, []).append((transaction, store, keys))


def _delete(entries) -> None:
    for _transaction, store, keys in entries:
        for key in keys:
            store.delete(key)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    entries = session.info.get(_WRITTEN)
    if entries:
        session.info[_WRITTEN] = [entry for entry in entries if not transaction_within(entry[0], previous_transaction)]
        _delete([entry for entry in entries if transaction_within(entry[0], previous_transaction)])


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without commit or rollback: its files were never kept.
    if transaction.parent is None and session.info.get(_WRITTEN):
        _delete(session.info.pop(_WRITTEN))
