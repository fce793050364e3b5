"""The settlement agreement as it prints: the context of its PDF template (terms in the
document's language, the fingerprint, the verification code and its QR code), the
HTML preview, and the signing certificate's context."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from documents.agreement_rules import labelled_slots, required_slots
from documents.models import Agreement, AgreementVersion, Signature
from documents.rendering import document_context, qr_data_uri, verification_url
from documents.services.agreement_content import content_hash, parties_snapshot


def document_date(iso_date: str) -> str:
    """A due date as the document's language writes dates (2026年12月31日)."""
    parsed = parse_date(iso_date) if iso_date else None
    return formats.date_format(parsed, "DATE_FORMAT") if parsed else ""


def terms_rendered(content: dict, parties: dict[int, str]) -> list[str]:
    lines = []
    for term in content["terms"]:
        values = {
            "obligor": parties.get(term["obligor"], ""),
            "obligee": parties.get(term["obligee"], ""),
            "due": document_date(term.get("due_date", "")),
        }
        if term["kind"] == "payment":
            values.update(amount=f"{Decimal(term['amount']):,.2f}", method=term.get("method") or _("bank transfer"))
            lines.append(_("%(obligor)s pays %(obligee)s RMB %(amount)s yuan by %(due)s, by %(method)s.") % values)
        else:
            values["act"] = term["act"]
            if term.get("due_date"):
                lines.append(_("%(obligor)s, for %(obligee)s, by %(due)s: %(act)s") % values)
            else:
                lines.append(_("%(obligor)s, for %(obligee)s: %(act)s") % values)
    return lines


def agreement_document_context(agreement: Agreement, version: AgreementVersion, slots: list[dict]) -> dict:
    content = version.content
    parties = {party["id"]: party["name"] for party in content["parties"]}
    with translation.override(settings.DOCUMENT_LANGUAGE):
        rendered_terms = terms_rendered(content, parties)
        slots = labelled_slots(slots, content)
    return document_context(
        content={
            **content,
            "facts_lines": [line for line in content["facts"].splitlines() if line.strip()],
            "terms_rendered": rendered_terms,
        },
        version_number=version.number,
        content_hash_short=(version.content_hash or content_hash(content))[:16],
        slots=slots,
        verification_code=agreement.verification_code,
        verification_url=verification_url(agreement.verification_code),
        qr=qr_data_uri(verification_url(agreement.verification_code)),
    )


def preview_html(agreement: Agreement) -> str:
    """The current version as it will print, at any time, as HTML."""
    version = agreement.current_version
    content = {
        **version.content,
        "parties": parties_snapshot(agreement.case),
        "case_number": agreement.case.number,
        "cause_of_action": agreement.case.cause_of_action,
    }
    preview = AgreementVersion(agreement=agreement, number=version.number, content=content)
    with translation.override(settings.DOCUMENT_LANGUAGE):
        return render_to_string(
            "documents/pdf/agreement.html",
            agreement_document_context(agreement, preview, required_slots(agreement.case)),
        )


def signing_certificate_context(agreement: Agreement, version: AgreementVersion, signatures: list[Signature]) -> dict:
    """The context of the signing certificate issued with the sealed agreement."""
    return document_context(
        case=agreement.case,
        agreement=agreement,
        version=version,
        signatures=signatures,
        verification_code=agreement.verification_code,
        verification_url=verification_url(agreement.verification_code),
        qr=qr_data_uri(verification_url(agreement.verification_code)),
    )
