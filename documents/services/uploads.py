"""Uploading case documents: the type is decided by the content, and a file that is
disguised, too large, empty or unreadable is refused before anything is stored."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

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
EXTENSIONS = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".docx": DOCX}
TYPE_NAMES = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", DOCX: "Word (DOCX)"}
# A DOCX is a zip; one that unpacks to far more than its own size is refused.
MAX_UNPACKED_RATIO = 100


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
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
    return None


def _readable(data: bytes, content_type: str) -> bool:
    try:
        if content_type == PDF:
            from pypdf import PdfReader

            return len(PdfReader(io.BytesIO(data)).pages) > 0
        if content_type in (PNG, JPEG):
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
            return True
        if content_type == DOCX:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
                if unpacked > max(len(data) * MAX_UNPACKED_RATIO, 1_000_000):
                    return False
                if archive.testzip() is not None:
                    return False
                from xml.etree import ElementTree

                ElementTree.fromstring(archive.read("word/document.xml"))
            return True
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
    claimed = EXTENSIONS.get(PurePath(filename).suffix.lower())
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
    blob = store_blob(data, content_type)
    document = Document.objects.create(
        case=case,
        kind=kind,
        title=(title or PurePath(filename).stem)[:200],
        original_name=PurePath(filename).name[:255],
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
