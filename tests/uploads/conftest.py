"""An exchange of a class in Porto and one in Helsinki, and a storage directory per test."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from app.modules.uploads.operations import _STORAGE, use_storage
from app.modules.uploads.storage import LocalStorage
from tests.projects.conftest import build_exchange


@pytest.fixture
def exchange(make):
    return build_exchange(make, porto_pupils=2, helsinki_pupils=1)


@pytest.fixture
def store(app, tmp_path):
    previous = app.extensions.get(_STORAGE)
    local = LocalStorage(tmp_path / "uploads")
    use_storage(app, local)
    yield local
    if previous is None:
        app.extensions.pop(_STORAGE, None)
    else:
        use_storage(app, previous)


def stored_files(store: LocalStorage) -> list:
    return sorted(p for p in store.root.rglob("*") if p.is_file()) if store.root.exists() else []


def file_named(name: str, content: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name)


def jpeg_bytes(size=(64, 48), colour=(200, 30, 30), **metadata) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", **metadata)
    return out.getvalue()


def png_bytes(size=(32, 32), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 120, 200, 128) if mode == "RGBA" else (0, 120, 200)).save(out, "PNG")
    return out.getvalue()


def zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


DOCX_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
    b'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
    b'main+xml"/></Types>'
)


def docx_bytes() -> bytes:
    return zip_bytes([("[Content_Types].xml", DOCX_CONTENT_TYPES), ("word/document.xml", b"<w:document/>")])


def minimal_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
