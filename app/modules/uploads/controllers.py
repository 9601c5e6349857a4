"""Serving an upload: only to whoever may read it, and never as something the browser runs."""

from __future__ import annotations

from flask import abort, send_file
from flask_login import current_user, login_required

from app.modules.uploads.operations import storage
from app.modules.uploads.queries import may_read, upload_by_token

# Whatever a file holds, opened from our origin it may run nothing, load nothing, and be
# framed by nobody: a PDF viewer or an image opened in its own tab stays inert.
UPLOAD_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"


@login_required
def serve_upload(token: str):
    return _serve(token, thumbnail=False)


@login_required
def serve_thumbnail(token: str):
    return _serve(token, thumbnail=True)


def _serve(token: str, *, thumbnail: bool):
    upload = upload_by_token(token)
    # The same 404 for "no such file" and "not yours": a token proves nothing by itself.
    if upload is None or not may_read(current_user, upload):
        abort(404)
    key = upload.thumbnail_key if thumbnail else upload.storage_key
    if key is None:
        abort(404)
    try:
        file = storage().open(key)
    except FileNotFoundError:
        abort(404)
    response = send_file(
        file,
        mimetype=upload.media_type,
        # Images are shown in the page; everything else is saved, never opened by the browser.
        as_attachment=not upload.is_image,
        download_name=upload.filename,
        conditional=True,
        etag=f"{upload.sha256[:32]}{'-t' if thumbnail else ''}",
        max_age=None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = UPLOAD_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    # Kept by the reader's browser only, and asked again each time, so a reader who lost
    # access does not keep reading from the cache (an unchanged file costs a 304).
    response.headers["Cache-Control"] = "private, no-cache"
    return response
