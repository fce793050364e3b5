"""What an uploaded file really is, decided by its content: a file that is disguised,
too large, empty or unreadable is refused with a clear error before anything is
stored. Case documents (documents.services.uploads) and the evidence of an in-person
identity check (mediation.identity) both ask here, so there is one rule for what an
upload may be."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import PurePath
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The names a file may have, each tied to the type its content must sniff as.
EXTENSIONS = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".docx": DOCX}
CANONICAL_EXTENSION = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", DOCX: ".docx"}
TYPE_NAMES = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", DOCX: "Word (DOCX)"}
# A DOCX is a zip; one that unpacks to far more than its own size is refused, and so
# is one that unpacks to more than DOCUMENT_MAX_UNPACKED_BYTES whatever its size.
MAX_UNPACKED_RATIO = 100
# A Word file has a few dozen parts; thousands are only there to cost us.
MAX_DOCX_MEMBERS = 1000
XML_CHUNK = 64 * 1024


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
    return None


def clean_filename(filename: str) -> str:
    """The last component of the name a browser sent, without control or invisible
    formatting characters (a NUL, a newline, a right-to-left override that shows
    "exe.pdf" for "fdp.exe")."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    return name.strip().strip(".").strip()


def stored_filename(filename: str, content_type: str) -> str:
    """The name the file is kept and offered for download under: the cleaned name,
    with the extension of its real type when it had none, at most 255 characters."""
    name = clean_filename(filename)
    path = PurePath(name or "document")
    if path.suffix.lower() in EXTENSIONS:
        stem, suffix = path.stem, path.suffix
    else:
        stem, suffix = path.name, CANONICAL_EXTENSION[content_type]
    return stem[: 255 - len(suffix)] + suffix


def _pixel_limit_error() -> ValidationError:
    return ValidationError(
        {
            "file": _("The image is too large: at most %(megapixels)s megapixels can be uploaded.")
            % {"megapixels": settings.DOCUMENT_MAX_IMAGE_PIXELS // 1_000_000}
        }
    )


def _unpacked_limit_error() -> ValidationError:
    return ValidationError(
        {
            "file": _("The Word file unpacks to more than %(limit)s; save it again or upload it as PDF.")
            % {"limit": filesizeformat(settings.DOCUMENT_MAX_UNPACKED_BYTES)}
        }
    )


def _readable_image(data: bytes) -> bool:
    """Decoding an image costs memory by its pixels, not its bytes: the size in the
    header is checked before any pixel is decoded."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > settings.DOCUMENT_MAX_IMAGE_PIXELS:
                raise _pixel_limit_error()
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Image.DecompressionBombError:
        raise _pixel_limit_error() from None
    return True


def _well_formed_xml(stream) -> bool:
    """Parse without building a tree, a chunk at a time: memory stays flat whatever
    the number of elements. A DOCTYPE (never in Word's own XML) is refused, so no
    entity can expand."""

    def refuse_doctype(*args):
        raise ValueError("DOCTYPE in a Word part")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    try:
        while chunk := stream.read(XML_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, ValueError):
        return False
    return True


def _readable_docx(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_DOCX_MEMBERS:
            return False
        # The declared sizes bound what reading yields: zipfile stops at them.
        unpacked = sum(info.file_size for info in members)
        if unpacked > settings.DOCUMENT_MAX_UNPACKED_BYTES:
            raise _unpacked_limit_error()
        if unpacked > max(len(data) * MAX_UNPACKED_RATIO, 1_000_000):
            raise _unpacked_limit_error()
        if archive.testzip() is not None:
            return False
        with archive.open("word/document.xml") as stream:
            return _well_formed_xml(stream)


def _readable(data: bytes, content_type: str) -> bool:
    try:
        if content_type == PDF:
            from pypdf import PdfReader

            return len(PdfReader(io.BytesIO(data)).pages) > 0
        if content_type in (PNG, JPEG):
            return _readable_image(data)
        if content_type == DOCX:
            return _readable_docx(data)
    except ValidationError:
        raise
    except Exception:
        return False
    return False


# What may be uploaded as a picture or scan of a paper (an ID card, a power of
# attorney): no Word files.
IMAGES_AND_PDF = frozenset({PDF, PNG, JPEG})
ANY_DOCUMENT = frozenset({PDF, PNG, JPEG, DOCX})


def too_large(limit: int | None = None) -> ValidationError:
    limit = settings.DOCUMENT_MAX_BYTES if limit is None else limit
    return ValidationError({"file": _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}})


def _wrong_type_error(allowed: frozenset[str]) -> ValidationError:
    if DOCX in allowed:
        return ValidationError({"file": _("Only PDF, PNG, JPEG and Word (DOCX) files can be uploaded.")})
    return ValidationError({"file": _("Only PDF, PNG and JPEG files can be uploaded.")})


def _wrong_extension_error(allowed: frozenset[str], suffix: str) -> ValidationError:
    if DOCX in allowed:
        message = _(
            "Only files named .pdf, .png, .jpg, .jpeg or .docx can be uploaded; this one ends in “%(extension)s”."
        )
    else:
        message = _("Only files named .pdf, .png, .jpg or .jpeg can be uploaded; this one ends in “%(extension)s”.")
    return ValidationError({"file": message % {"extension": suffix}})


def detect_type(
    data: bytes, filename: str, *, allowed: frozenset[str] = ANY_DOCUMENT, max_bytes: int | None = None
) -> str:
    """The file's real type, one of `allowed`, or a ValidationError saying what is
    wrong with it. At most `max_bytes` (DOCUMENT_MAX_BYTES unless given)."""
    limit = settings.DOCUMENT_MAX_BYTES if max_bytes is None else max_bytes
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    if len(data) > limit:
        raise too_large(limit)
    content_type = _sniff(data)
    if content_type is None or content_type not in allowed:
        raise _wrong_type_error(allowed)
    suffix = PurePath(clean_filename(filename)).suffix.lower()
    if suffix and EXTENSIONS.get(suffix) not in allowed:
        raise _wrong_extension_error(allowed, suffix)
    claimed = EXTENSIONS.get(suffix)
    if claimed is not None and claimed != content_type:
        raise ValidationError(
            {
                "file": _("This file is named as %(claimed)s but is really %(actual)s; rename it and try again.")
                % {"claimed": TYPE_NAMES[claimed], "actual": TYPE_NAMES[content_type]}
            }
        )
    if not _readable(data, content_type):
        raise ValidationError({"file": _("The file is damaged or cannot be read.")})
    return content_type
