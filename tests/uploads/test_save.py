"""Saving uploads: the type from the content, limits, images without metadata, no half-stored file."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import InvalidInput, RateLimited
from app.extensions import db
from app.modules.uploads import operations
from app.modules.uploads.models import Upload
from app.modules.uploads.operations import delete_upload, display_filename, save_upload
from app.modules.uploads.storage import LocalStorage
from tests.uploads.conftest import (
    docx_bytes,
    file_named,
    jpeg_bytes,
    minimal_pdf,
    png_bytes,
    stored_files,
    zip_bytes,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def save(exchange, name, content, uploader=None):
    return save_upload(
        file_named(name, content),
        owner_kind="test_card",
        owner_id=1,
        project=exchange.project,
        uploader=uploader or exchange.porto_pupils[0],
    )


def upload_count() -> int:
    return db.session.scalar(select(func.count(Upload.id)))


def read_stored(store, key) -> bytes:
    with store.open(key) as file:
        return file.read()


def test_a_text_file_with_an_image_name_is_refused_and_nothing_is_stored(exchange, store):
    with pytest.raises(InvalidInput) as refused:
        save(exchange, "holiday.jpg", b"just some text, not a picture\n" * 10)
    assert "cannot be uploaded" in refused.value.message
    assert "JPEG, PNG, GIF, WebP" in refused.value.message and "PDF" in refused.value.message
    assert upload_count() == 0 and stored_files(store) == []


@pytest.mark.parametrize(
    "name, content",
    [
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("page.png", b"<!doctype html><html><script>alert(1)</script></html>"),
        ("tool.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100),
        ("macro.docx", zip_bytes([("[Content_Types].xml", b"<Types/>"), ("evil.exe", b"MZ")])),
        ("archive.zip", zip_bytes([("notes.txt", b"hello")])),
        ("fake.odt", zip_bytes([("mimetype", b"text/html"), ("content.xml", b"<x/>")])),
    ],
)
def test_svg_html_executables_and_other_zips_are_refused(exchange, store, name, content):
    with pytest.raises(InvalidInput, match="cannot be uploaded"):
        save(exchange, name, content)
    assert upload_count() == 0 and stored_files(store) == []


def test_an_empty_file_is_refused(exchange, store):
    with pytest.raises(InvalidInput, match="empty"):
        save(exchange, "nothing.pdf", b"")
    assert upload_count() == 0


def test_a_file_over_the_size_limit_is_refused(app, exchange, store, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 2048)
    with pytest.raises(InvalidInput, match="too large"):
        save(exchange, "big.pdf", minimal_pdf() + b"%" * 3000)
    assert upload_count() == 0 and stored_files(store) == []
    assert save(exchange, "small.pdf", minimal_pdf()).size_bytes == len(minimal_pdf())


def test_an_exchange_over_its_quota_refuses_and_stores_nothing(app, exchange, store, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_PROJECT_QUOTA_BYTES", 2 * len(minimal_pdf()) + 10)
    save(exchange, "one.pdf", minimal_pdf())
    save(exchange, "two.pdf", minimal_pdf(), uploader=exchange.helsinki_pupils[0])
    files_before = stored_files(store)
    with pytest.raises(RateLimited, match="no room left"):
        save(exchange, "three.pdf", minimal_pdf(), uploader=exchange.porto_pupils[1])
    assert upload_count() == 2 and stored_files(store) == files_before


def test_a_person_over_the_daily_count_is_refused(app, exchange, store, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_PER_USER_PER_DAY", 2)
    save(exchange, "one.pdf", minimal_pdf())
    save(exchange, "two.pdf", minimal_pdf())
    with pytest.raises(RateLimited, match="in a day"):
        save(exchange, "three.pdf", minimal_pdf())
    # Someone else still may.
    save(exchange, "three.pdf", minimal_pdf(), uploader=exchange.porto_pupils[1])
    assert upload_count() == 3 and len(stored_files(store)) == 3


def test_gps_and_other_exif_are_gone_and_the_orientation_is_applied(exchange, store):
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was turned: shown rotated by 90 degrees
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (41.0, 9.0, 30.0), 3: "W", 4: (8.0, 36.0, 0.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>41,9.5N</exif:GPSLatitude></x:xmpmeta>'
    original = jpeg_bytes(size=(64, 48), exif=exif, xmp=xmp, comment=b"Ana at home")
    assert b"GPSLatitude" in original and b"Ana at home" in original
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test's photo has a place

    upload = save(exchange, "workshop.jpeg", original)

    stored = read_stored(store, upload.storage_key)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and upload.media_type == "image/jpeg"
    assert len(image.getexif()) == 0 and not image.getexif().get_ifd(GPS_IFD)
    assert "exif" not in image.info and b"PhoneMaker" not in stored and b"Exif" not in stored
    assert b"GPSLatitude" not in stored and b"xmpmeta" not in stored and b"Ana at home" not in stored
    assert (image.width, image.height) == (48, 64) == (upload.width, upload.height)
    assert upload.sha256 == hashlib.sha256(stored).hexdigest() and upload.size_bytes == len(stored)
    assert upload.filename == "workshop.jpg"


def test_text_chunks_and_exif_of_a_png_are_gone(exchange, store):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # (Pillow writes no EXIF chunk for a GPS block alone)
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (41.0, 9.0, 30.0)})
    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "Rua das Flores 12, Porto")
    original = io.BytesIO()
    Image.new("RGBA", (30, 20), (1, 2, 3, 100)).save(original, "PNG", pnginfo=text, exif=exif)
    assert b"Rua das Flores" in original.getvalue() and b"eXIf" in original.getvalue()
    upload = save(exchange, "map.png", original.getvalue())
    stored = read_stored(store, upload.storage_key)
    assert upload.media_type == "image/png" and b"Rua das Flores" not in stored and b"eXIf" not in stored
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0


def test_an_image_gets_a_smaller_thumbnail(app, exchange, store):
    upload = save(exchange, "wall.jpg", jpeg_bytes(size=(1600, 900)))
    thumbnail = Image.open(io.BytesIO(read_stored(store, upload.thumbnail_key)))
    limit = app.config["UPLOAD_THUMBNAIL_PIXELS"]
    assert max(thumbnail.size) == limit and thumbnail.size[0] / thumbnail.size[1] == pytest.approx(16 / 9, 0.01)
    assert len(thumbnail.getexif()) == 0


def test_transparency_stays_png_and_webp_and_gif_are_reencoded(exchange, store):
    assert save(exchange, "logo.png", png_bytes(mode="RGBA")).media_type == "image/png"
    assert save(exchange, "flat.png", png_bytes(mode="RGB")).media_type == "image/jpeg"
    webp = io.BytesIO()
    Image.new("RGB", (20, 20), (5, 6, 7)).save(webp, "WEBP")
    assert save(exchange, "photo.webp", webp.getvalue()).media_type == "image/jpeg"
    gif = io.BytesIO()
    frames = [Image.new("P", (20, 20), n) for n in range(3)]
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    upload = save(exchange, "moving.gif", gif.getvalue())
    assert upload.media_type == "image/png" and upload.filename == "moving.png"  # the first frame
    assert Image.open(io.BytesIO(read_stored(store, upload.storage_key))).format == "PNG"


def test_a_decompression_bomb_is_refused_before_decoding(app, exchange, store, monkeypatch):
    # 20 000 x 20 000 pixels of one colour: a few hundred kilobytes compressed, 1.2 GB decoded.
    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < app.config["UPLOAD_MAX_BYTES"]
    with pytest.raises(InvalidInput, match="too many pixels"):
        save(exchange, "bomb.png", bomb.getvalue())
    monkeypatch.setitem(app.config, "UPLOAD_IMAGE_MAX_PIXELS", 1000)
    with pytest.raises(InvalidInput, match="too many pixels"):
        save(exchange, "small-but-over.jpg", jpeg_bytes(size=(40, 40)))
    assert upload_count() == 0 and stored_files(store) == []


def test_a_damaged_image_is_refused_clearly(exchange, store):
    with pytest.raises(InvalidInput, match="cannot be read"):
        save(exchange, "broken.jpg", jpeg_bytes()[:40])
    assert stored_files(store) == []


def test_pdf_and_office_files_are_kept_byte_for_byte_with_their_type_from_the_content(exchange, store):
    pdf = save(exchange, "report.exe", minimal_pdf())
    assert read_stored(store, pdf.storage_key) == minimal_pdf()
    assert (pdf.media_type, pdf.filename, pdf.thumbnail_key) == ("application/pdf", "report.pdf", None)
    docx = save(exchange, "glossary.docx", docx_bytes())
    assert read_stored(store, docx.storage_key) == docx_bytes()
    assert docx.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    odt = zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<x/>")])
    assert save(exchange, "notes", odt).filename == "notes.odt"


class FailingOnSecondPut(LocalStorage):
    """A disk that fills up after the first file: the thumbnail cannot be written."""

    def put(self, key, content):
        if self.exists_any():
            raise OSError(28, "No space left on device")
        super().put(key, content)

    def exists_any(self) -> bool:
        return self.root.exists() and any(p.is_file() for p in self.root.rglob("*"))


def test_a_failure_while_writing_leaves_no_row_and_no_file(app, exchange, tmp_path):
    failing = FailingOnSecondPut(tmp_path / "full")
    previous = app.extensions.get(operations._STORAGE)
    operations.use_storage(app, failing)
    try:
        with pytest.raises(OSError, match="No space"):
            save(exchange, "photo.jpg", jpeg_bytes())
    finally:
        app.extensions[operations._STORAGE] = previous
    assert upload_count() == 0 and stored_files(failing) == []


def test_a_failing_row_deletes_the_files_written_for_it(exchange, store):
    with pytest.raises(IntegrityError):  # a row without its uploader
        save_upload(
            file_named("a.pdf", minimal_pdf()),
            owner_kind="test_card",
            owner_id=1,
            project=exchange.project,
            uploader=type("Nobody", (), {"id": None})(),
        )
    db.session.rollback()
    assert stored_files(store) == []


def test_a_rolled_back_transaction_takes_its_files_with_it_and_a_commit_keeps_them(exchange, store):
    save(exchange, "kept.pdf", minimal_pdf())
    db.session.commit()
    kept = stored_files(store)
    assert len(kept) == 1
    save(exchange, "photo.jpg", jpeg_bytes())
    assert len(stored_files(store)) == 3  # the photo and its thumbnail
    db.session.rollback()
    assert stored_files(store) == kept and upload_count() == 1


def test_deleting_an_upload_removes_its_files_once_committed(exchange, store):
    upload = save(exchange, "photo.jpg", jpeg_bytes())
    db.session.commit()
    delete_upload(upload)
    assert len(stored_files(store)) == 2  # not before the commit: a rollback would keep the row
    db.session.commit()
    assert stored_files(store) == [] and upload_count() == 0


@pytest.mark.parametrize(
    "given, expected",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\ana\\Desktop\\Bericht über.PDF", "Bericht über.pdf"),
        ("\x00\x1b[31mred.pdf", "[31mred.pdf"),
        ("...", "file.pdf"),
        (None, "file.pdf"),
        ("a" * 300 + ".pdf", "a" * 120 + ".pdf"),
        ('quote"and;semicolon.html', "quote_and;semicolon.pdf"),
    ],
)
def test_file_names_are_cleaned_for_display_and_given_the_real_extension(given, expected):
    assert display_filename(given, "application/pdf") == expected


def test_a_removed_pupils_uploads_stay_with_the_exchange_and_the_account_is_closed(exchange, store):
    from app.auth.models import AccountStatus, User
    from app.auth.operations import remove_student

    pupil = exchange.porto_pupils[0]
    upload = save(exchange, "our-workshop.jpg", jpeg_bytes(), uploader=pupil)
    db.session.commit()
    remove_student(exchange.porto, pupil)
    db.session.commit()
    closed = db.session.get(User, pupil.id)
    assert closed is not None and closed.status == AccountStatus.DISABLED and closed.display_name == "—"
    assert db.session.get(Upload, upload.id) is not None and len(stored_files(store)) == 2
