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
from documents.services.agreement_content import (
    content_hash,
    instalment_pairs,
    parties_snapshot,
    party_id_numbers,
    signing_place,
)
from mediation.models import Party, side_label


def document_date(iso_date: str) -> str:
    """A due date as the document's language writes dates (2026年12月31日)."""
    parsed = parse_date(iso_date) if iso_date else None
    return formats.date_format(parsed, "DATE_FORMAT") if parsed else ""


def default_clause_rendered(content: dict, parties: dict[int, str]) -> list[str]:
    """The default and acceleration clause, once per debtor paying in instalments."""
    clause = content.get("default_clause") or {}
    if not clause.get("enabled"):
        return []
    lines = []
    for obligor, obligee in instalment_pairs(content["terms"]):
        values = {
            "obligor": parties.get(obligor, ""),
            "obligee": parties.get(obligee, ""),
            "days": clause.get("grace_days") or 0,
        }
        if values["days"]:
            text = _(
                "If %(obligor)s pays any instalment above more than %(days)s days late or not in full, the whole "
                "unpaid balance becomes due at once, and %(obligee)s may apply for enforcement of all of it."
            )
        else:
            text = _(
                "If %(obligor)s fails to pay any instalment above in full and on time, the whole unpaid balance "
                "becomes due at once, and %(obligee)s may apply for enforcement of all of it."
            )
        text = text % values
        if clause.get("penalty") == "interest":
            # The leading space separates English sentences; Chinese runs on.
            text += _(
                " %(obligor)s also pays %(obligee)s interest on the overdue sum at %(rate)s%% a year, from the day "
                "after the missed due date until it is paid in full."
            ) % {**values, "rate": format(Decimal(clause["rate"]).normalize(), "f")}
        elif clause.get("penalty") == "fixed":
            text += _(" %(obligor)s also pays %(obligee)s liquidated damages of RMB %(amount)s yuan.") % {
                **values,
                "amount": f"{Decimal(clause['amount']):,.2f}",
            }
        lines.append(text)
    return lines


def signing_place_rendered(content: dict) -> str:
    """Where the agreement is concluded: stored when it is locked, today's court
    before that (a draft is not concluded anywhere yet)."""
    place = content.get("signing_place") or signing_place()
    return _("the online mediation platform of %(court)s") % {"court": place["court"]}


def agreed_clauses(content: dict, parties: dict[int, str]) -> list[str]:
    """The numbered clauses as the parties read them: the terms, then the default
    clause, in the active language."""
    return terms_rendered(content, parties) + default_clause_rendered(content, parties)


def instalment_label(instalment: dict) -> str:
    """A term's place in its schedule: 第2期（共3期） / Instalment 2 of 3."""
    return _("Instalment %(n)s of %(of)s") % {"n": instalment["n"], "of": instalment["of"]}


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
            line = _("%(obligor)s pays %(obligee)s RMB %(amount)s yuan by %(due)s, by %(method)s.") % values
            if term.get("instalment"):
                label = instalment_label(term["instalment"])
                line = _("%(instalment)s: %(term)s") % {"instalment": label, "term": line}
            lines.append(line)
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
        rendered_terms = agreed_clauses(content, parties)
        place = signing_place_rendered(content)
        designated = [
            {**party, "side_label": side_label(party["side"])} for party in party_id_numbers(content["parties"])
        ]
        slots = labelled_slots(slots, content)
    return document_context(
        content={
            **content,
            "parties": designated,
            "facts_lines": [line for line in content["facts"].splitlines() if line.strip()],
            "terms_rendered": rendered_terms,
            "signing_place_rendered": place,
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


def reader_text(agreement: Agreement) -> dict:
    """The current version's agreed clauses and place of signing in the reader's
    (active) language, for the agreement's page: the party names as locked, or as
    they stand now for a draft."""
    content = agreement.current_version.content
    names = content.get("parties") or [{"id": p.pk, "name": p.name} for p in agreement.case.parties.all()]
    parties = {party["id"]: party["name"] for party in names}
    return {"clauses": agreed_clauses(content, parties), "signing_place": signing_place_rendered(content)}


def paper_place(act) -> str:
    """Where a paper was signed in person, in the active language: "At the court, room 3"."""
    label = str(act.get_place_display())
    return _("%(place)s, %(detail)s") % {"place": label, "detail": act.place_detail} if act.place_detail else label


def paper_signature_rows(acts) -> list[dict]:
    """Confirmed paper signatures (documents.InPersonAct) as the signing certificate,
    the agreement's page and the verification page state them."""
    from mediation.models import ParticipantRole

    return [
        {
            "slot": act.slot,
            "person": act.person_name,
            "capacity": ParticipantRole(act.capacity).label if act.capacity in ParticipantRole.values else "",
            "party": act.party.name,
            "place": paper_place(act),
            "occurred_at": act.occurred_at,
            "witness": str(act.witness),
            "confirmed_by": str(act.confirmed_by),
            "confirmed_at": act.confirmed_at,
            "scan_sha256": act.scan.blob_id,
        }
        for act in acts
    ]


def signing_certificate_context(
    agreement: Agreement, version: AgreementVersion, signatures: list[Signature], paper_signatures=()
) -> dict:
    """The context of the signing certificate issued with the sealed agreement: the
    signatures made on the platform, and those made on a paper copy in person
    (confirmed documents.InPersonAct), each said for what it is."""
    with translation.override(settings.DOCUMENT_LANGUAGE):
        place = signing_place_rendered(version.content)
        paper = paper_signature_rows(paper_signatures)
    return document_context(
        case=agreement.case,
        agreement=agreement,
        version=version,
        signing_place_rendered=place,
        signatures=signatures,
        paper_signatures=paper,
        verification_code=agreement.verification_code,
        verification_url=verification_url(agreement.verification_code),
        qr=qr_data_uri(verification_url(agreement.verification_code)),
    )


def confirmation_application_context(content: dict) -> dict:
    """The context of the application for judicial confirmation's PDF: its content with
    the applicants designated (side, kind, the ID number as the agreement prints it)
    and the agreement's terms as the agreement words them, in the document's language."""
    with translation.override(settings.DOCUMENT_LANGUAGE):
        return {"content": {**content, **application_reading(content)}}


def application_reading(content: dict) -> dict:
    """The application's parties, terms and the agreement's date, in the active language."""
    names = {party["id"]: party["name"] for party in content.get("agreement_parties", [])}
    clauses = agreed_clauses(
        {"terms": content.get("terms", []), "default_clause": content.get("default_clause")}, names
    )
    parties = [
        {
            **party,
            "side_label": side_label(party["side"]),
            "kind_label": str(Party.Kind(party["kind"]).label) if party.get("kind") else party.get("kind_label", ""),
        }
        for party in party_id_numbers(content.get("parties", []))
    ]
    return {
        "parties": parties,
        "terms_rendered": clauses,
        "agreement_sealed_on": document_date(content.get("agreement", {}).get("sealed_on", "")),
    }
