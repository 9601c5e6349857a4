"""Routes of uploads: reading only; each owning module takes files in its own forms."""

from flask import Blueprint

from app.modules.uploads import controllers as c

bp = Blueprint("uploads", __name__)

bp.add_url_rule("/uploads/<token>", "serve_upload", c.serve_upload)
bp.add_url_rule("/uploads/<token>/thumb", "serve_thumbnail", c.serve_thumbnail)
