"""One row per stored file; the file itself lives in the storage under storage_key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, utcnow
from app.extensions import db


class Upload(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # The only name of the file in URLs: random, so that ids cannot be counted through.
    token: Mapped[str] = mapped_column(String(43), unique=True)
    # What the file belongs to ("board_card", ...); the module of that kind decides who reads it.
    owner_kind: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column()
    # Null for a file that belongs to no exchange (a pupil's own mobility evidence, later).
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # sanitised, with the extension of media_type
    media_type: Mapped[str] = mapped_column(String(100))  # from the content, never from the name
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(64))
    thumbnail_key: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (Index("ix_upload_owner", "owner_kind", "owner_id"),)

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")
