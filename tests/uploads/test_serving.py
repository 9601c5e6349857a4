"""Serving uploads: only to readers of the exchange, with headers that keep the file inert."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from PIL import Image

from app.extensions import db
from app.modules.uploads import queries
from app.modules.uploads.controllers import UPLOAD_CSP
from app.modules.uploads.operations import save_upload
from tests.conftest import log_in
from tests.projects.conftest import build_exchange
from tests.uploads.conftest import file_named, jpeg_bytes, minimal_pdf


def stored(exchange, name, content, uploader=None, owner_kind="test_card"):
    upload = save_upload(
        file_named(name, content),
        owner_kind=owner_kind,
        owner_id=7,
        project=exchange.project,
        uploader=uploader or exchange.porto_pupils[0],
    )
    db.session.commit()
    return upload


def test_an_image_is_served_inline_with_the_safe_headers(client, exchange, store):
    upload = stored(exchange, "Café in Porto.jpg", jpeg_bytes())
    log_in(client, exchange.helsinki_pupils[0])
    response = client.get(f"/uploads/{upload.token}", buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == UPLOAD_CSP and "sandbox" in UPLOAD_CSP
    assert "default-src 'none'" in UPLOAD_CSP
    assert response.headers["Cache-Control"] == "private, no-cache"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert f"filename*=UTF-8''{quote('Café in Porto.jpg')}" in disposition
    assert Image.open(io.BytesIO(response.data)).format == "JPEG"

    thumbnail = client.get(f"/uploads/{upload.token}/thumb", buffered=True)
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/jpeg"
    assert thumbnail.headers["X-Content-Type-Options"] == "nosniff"


def test_a_pdf_is_sent_as_an_attachment_unchanged(client, exchange, store):
    upload = stored(exchange, "plan.pdf", minimal_pdf())
    log_in(client, exchange.porto.teacher)
    response = client.get(f"/uploads/{upload.token}", buffered=True)
    assert response.status_code == 200 and response.data == minimal_pdf()
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "plan.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Content-Security-Policy"] == UPLOAD_CSP
    assert client.get(f"/uploads/{upload.token}/thumb", buffered=True).status_code == 404  # no thumbnail for a PDF


def test_the_uploader_and_the_members_read_it_and_nobody_outside_the_exchange(app, client, make, exchange, store):
    upload = stored(exchange, "photo.jpg", jpeg_bytes())
    other = build_exchange(make, porto_pupils=1, helsinki_pupils=0)
    readers = [
        exchange.porto_pupils[0],
        exchange.porto_pupils[1],
        exchange.helsinki_pupils[0],
        exchange.helsinki.teacher,
    ]
    outsiders = [other.porto_pupils[0], other.porto.teacher, make.teacher()]
    reader_ids = {person.id for person in readers}
    for person in readers + outsiders:
        browser = app.test_client()  # of the FreshContextClient class the client fixture set
        log_in(browser, person)
        for path in (f"/uploads/{upload.token}", f"/uploads/{upload.token}/thumb"):
            expected = 200 if person.id in reader_ids else 404  # (User's == compares login ids)
            assert browser.get(path, buffered=True).status_code == expected, (person.display_name, path)


def test_not_logged_in_and_unknown_tokens_learn_nothing(client, exchange, store):
    upload = stored(exchange, "photo.jpg", jpeg_bytes())
    assert client.get(f"/uploads/{upload.token}", buffered=True).status_code in (302, 401)
    log_in(client, exchange.porto_pupils[0])
    assert client.get("/uploads/not-a-token").status_code == 404
    assert client.get("/uploads/" + "x" * 200).status_code == 404


def test_a_pupil_who_left_the_exchange_still_reads_only_what_they_uploaded(client, exchange, store):
    own = stored(exchange, "mine.jpg", jpeg_bytes(), uploader=exchange.porto_pupils[0])
    others = stored(exchange, "theirs.jpg", jpeg_bytes(), uploader=exchange.helsinki_pupils[0])
    pupil = exchange.porto_pupils[0]
    pupil.memberships.clear()
    db.session.commit()
    log_in(client, pupil)
    assert client.get(f"/uploads/{own.token}", buffered=True).status_code == 200
    assert client.get(f"/uploads/{others.token}", buffered=True).status_code == 404


@pytest.fixture
def teachers_only_kind():
    def only_teachers(user, upload):
        return not user.is_student

    queries.register_owner_kind("teachers_note", only_teachers)
    yield
    queries._read_checks.pop("teachers_note")


def test_a_registered_owner_kind_decides_who_reads(app, client, exchange, store, teachers_only_kind):
    upload = stored(exchange, "note.pdf", minimal_pdf(), uploader=exchange.porto.teacher, owner_kind="teachers_note")
    log_in(client, exchange.helsinki_pupils[0])
    assert client.get(f"/uploads/{upload.token}", buffered=True).status_code == 404
    teacher = app.test_client()
    log_in(teacher, exchange.helsinki.teacher)
    assert teacher.get(f"/uploads/{upload.token}", buffered=True).status_code == 200
