"""Images re-encoded from their pixels: no EXIF (GPS, camera, time), no XMP, no comments.

Pure functions over bytes; operations.py runs them off the event loop.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.modules.uploads.sniffing import GIF, JPEG, PNG, WEBP

_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}
JPEG_QUALITY = 85
# Colour profiles say how to show the colours (a phone's Display P3) and hold no place or
# person; kept so photos do not turn dull, but only a profile of ordinary size.
_MAX_ICC_BYTES = 64 * 1024


class ImageRefused(Exception):
    """The image cannot be taken; `reason` is "too_many_pixels" or "unreadable"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    media_type: str
    width: int
    height: int
    thumbnail: bytes


def reencode_image(content: bytes, sniffed_type: str, max_pixels: int, thumbnail_pixels: int) -> CleanImage:
    """The image drawn anew: orientation applied, metadata gone; JPEG for photos, PNG when
    it has transparency (or is a GIF: its first frame only). Raises ImageRefused."""
    with warnings.catch_warnings():
        # Pillow's own bomb check warns between its limit and twice it; ours is stricter.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content), formats=[_PILLOW_FORMATS[sniffed_type]])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused("too_many_pixels") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ImageRefused("unreadable") from None
        # The header tells the size before any pixel is decoded.
        if image.width * image.height > max_pixels:
            raise ImageRefused("too_many_pixels")
        try:
            image.seek(0)  # animated GIF or WebP: the first frame
            # A CMYK or greyscale profile would be wrong for the RGB pixels written below.
            icc_profile = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA", "P") else None
            image = ImageOps.exif_transpose(image)
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            raise ImageRefused("unreadable") from None
    # The pixels alone: Pillow writes the EXIF, XMP and comments it finds in `info` (the
    # JPEG comment, for one, survives otherwise: tested), so that dict is emptied; cheaper
    # than copying the pixels into a new image, and as clean.
    clean = image
    clean.info = {}
    keep_icc = {"icc_profile": icc_profile} if icc_profile and len(icc_profile) <= _MAX_ICC_BYTES else {}
    media_type = PNG if has_alpha or sniffed_type == GIF else JPEG
    encoded = _encode(clean, media_type, keep_icc)
    thumbnail = clean.copy()
    thumbnail.thumbnail((thumbnail_pixels, thumbnail_pixels), Image.Resampling.LANCZOS)
    return CleanImage(encoded, media_type, clean.width, clean.height, _encode(thumbnail, media_type, keep_icc))


def _encode(image: Image.Image, media_type: str, extra: dict) -> bytes:
    out = io.BytesIO()
    if media_type == JPEG:
        # Without optimize=True: its extra Huffman pass holds the GIL (the event loop) for
        # about 100 ms per 12 megapixels, for files only a few per cent smaller.
        image.save(out, "JPEG", quality=JPEG_QUALITY, **extra)
    else:
        image.save(out, "PNG", optimize=False, **extra)
    return out.getvalue()
