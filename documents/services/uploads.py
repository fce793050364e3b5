"""Uploading case documents: the type is decided by the content, and a file that is
disguised, too large, empty or unreadable is refused before anything is stored."""

from __future__ import annotations

from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from documents.access import side_of
from documents.models import Document
from documents.services.storage import store_blob
from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.file_types import (  # noqa: F401 (what a file is: one rule, shared; callers import it here)
    CANONICAL_EXTENSION,
    DOCX,
    EXTENSIONS,
    JPEG,
    PDF,
    PNG,
    TYPE_NAMES,
    clean_filename,
    detect_type,
    stored_filename,
    too_large,
)
from mediation.models import MediationCase, Party, User


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
    if kind not in Document.Kind.values or kind == Document.Kind.RECORDING:
        # A recording is stored by the platform from the room's media only.
        errors["kind"] = _("Choose what kind of document this is.")
    if visibility not in Document.Visibility.values:
        errors["visibility"] = _("Choose who may see the document.")
    elif side != "mediator" and visibility not in (Document.Visibility.CASE, side):
        errors["visibility"] = _("You can share a document with the whole case or with your own side only.")
    if party is not None and party.case_id != case.pk:
        errors["party"] = _("This party belongs to another case.")
    if errors:
        raise ValidationError(errors)
    return store_document(
        case=case, actor=actor, data=data, filename=filename, kind=kind, title=title, visibility=visibility, party=party
    )


def store_document(
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
    """Store a file as a case document once the caller has decided that `actor` may add
    it (upload_document for the documents page; the performance report for a receipt,
    after the case has ended). The file's type is checked here, for every caller."""
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
