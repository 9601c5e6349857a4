"""What a file is, from its first bytes (and, for office files, the entries of its ZIP).

The name a browser sends and its Content-Type are the uploader's claims; only the content
counts. Anything not recognised here is refused: SVG and HTML (they run script when opened
from our origin), executables, archives, and a text file named like an image.
"""

from __future__ import annotations

import io
import zipfile

JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

IMAGE_TYPES = frozenset({JPEG, PNG, GIF, WEBP})

EXTENSIONS = {
    JPEG: "jpg",
    PNG: "png",
    GIF: "gif",
    WEBP: "webp",
    PDF: "pdf",
    DOCX: "docx",
    XLSX: "xlsx",
    PPTX: "pptx",
    ODT: "odt",
    ODS: "ods",
    ODP: "odp",
}

# The main part an OOXML package declares in [Content_Types].xml; macro-enabled variants
# (docm, xlsm, pptm) declare other types and are refused.
_OOXML_MAIN_PARTS = {
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
_ODF_TYPES = frozenset({ODT, ODS, ODP})
# Only these small entries are read out of an office file, never the rest (a ZIP bomb
# would only be unpacked by whoever opens the document, on their own machine).
_MAX_MANIFEST_BYTES = 1024 * 1024


def detect_media_type(content: bytes) -> str | None:
    """The media type of the content, or None when it is not one we accept."""
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04"):
        return _office_type(content)
    return None


def _office_type(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            if not entries:
                return None
            # ODF: the entry "mimetype", first and stored uncompressed, names the type.
            first = entries[0]
            if first.filename == "mimetype" and first.file_size <= 200:
                declared = archive.read(first).decode("ascii", "replace").strip()
                return declared if declared in _ODF_TYPES else None
            manifest = next((e for e in entries if e.filename == "[Content_Types].xml"), None)
            if manifest is None or manifest.file_size > _MAX_MANIFEST_BYTES:
                return None
            declared = archive.read(manifest).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, RuntimeError):
        return None
    matches = [media_type for media_type, part in _OOXML_MAIN_PARTS.items() if f'"{part}"' in declared]
    return matches[0] if len(matches) == 1 else None
