"""Uploading case documents: the type is decided by the content, and a file that is
disguised, too large, empty or unreadable is refused before anything is stored."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import PurePath
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from documents.access import side_of
from documents.models import Document
from documents.services.storage import store_blob
from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, Party, User

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


def too_large() -> ValidationError:
    return ValidationError(
        {"file": _("The file is larger than %(limit)s.") % {"limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)}}
    )


def detect_type(data: bytes, filename: str) -> str:
    """The file's real type, or a ValidationError saying what is wrong with it."""
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    if len(data) > settings.DOCUMENT_MAX_BYTES:
        raise too_large()
    content_type = _sniff(data)
    if content_type is None:
        raise ValidationError({"file": _("Only PDF, PNG, JPEG and Word (DOCX) files can be uploaded.")})
    suffix = PurePath(clean_filename(filename)).suffix.lower()
    if suffix and suffix not in EXTENSIONS:
        raise ValidationError(
            {
                "file": _(
                    "Only files named .pdf, .png, .jpg, .jpeg or .docx can be uploaded; this one ends in "
                    "“%(extension)s”."
                )
                % {"extension": suffix}
            }
        )
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


@transaction.atomic
def upload_document(
    *,
    case: MediationCase,
    actor: User,
    data: bytes,
    filename: str,
    kind: str,
    title: str = "",
    visibility: str = Document.Visibility.CASE,
    party: Party | None = None,
) -> Document:
    """Store a case document. The mediator may share with the whole case or one side;
    a party's people share with the whole case or their own side only."""
    side = side_of(actor, case)
    if side is None:
        raise ActionForbidden(_("Only the mediator and the parties' people can add documents to this case."))
    if not case.is_open:
        raise TransitionNotAllowed(_("This case has ended; no more documents can be added."))
    errors = {}
    if kind not in Document.Kind.values:
        errors["kind"] = _("Choose what kind of document this is.")
    if visibility not in Document.Visibility.values:
        errors["visibility"] = _("Choose who may see the document.")
    elif side != "mediator" and visibility not in (Document.Visibility.CASE, side):
        errors["visibility"] = _("You can share a document with the whole case or with your own side only.")
    if party is not None and party.case_id != case.pk:
        errors["party"] = _("This party belongs to another case.")
    if errors:
        raise ValidationError(errors)
    content_type = detect_type(data, filename)
    name = stored_filename(filename, content_type)
    blob = store_blob(data, content_type)
    document = Document.objects.create(
        case=case,
        kind=kind,
        title=(title or PurePath(name).stem)[:200],
        original_name=name,
        blob=blob,
        visibility=visibility,
        party=party,
        uploaded_by=actor,
    )
    audit.record(
        actor=actor,
        action="document.upload",
        target=document,
        data={"case": case.pk, "sha256": blob.sha256, "kind": kind, "visibility": visibility},
    )
    return document
