"""Reads of documents, services of documents and settlement agreements, for pages, the
API, the services and the commands. Who may see what is decided in documents.access."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from documents.models import (
    Agreement,
    AgreementVersion,
    CourtDocument,
    Document,
    Service,
    ServiceConsent,
    Signature,
)
from mediation.models import MediationCase, User


def document_with_blob(document_id: int) -> Document | None:
    return Document.objects.select_related("case", "blob").filter(pk=document_id).first()


def consent_of(case: MediationCase, user: User) -> ServiceConsent | None:
    return ServiceConsent.objects.filter(case=case, user=user).first()


def service_with_case(service_id: int) -> Service | None:
    return Service.objects.select_related("case", "recipient").filter(pk=service_id).first()


def services_delivered_to(user: User, document: Document) -> QuerySet[Service]:
    """The services that delivered `document` to `user` and that they have not opened."""
    return Service.objects.filter(recipient=user, documents=document, status=Service.Status.DELIVERED)


def services_past_their_deadline(now: dt.datetime) -> QuerySet:
    """Ids of the electronic services still waiting for their recipient after the
    deadline to acknowledge them."""
    return Service.objects.filter(
        method=Service.Method.ELECTRONIC, status__in=Service.AWAITING_RECIPIENT, acknowledge_by__lte=now
    ).values_list("pk", flat=True)


def latest_agreement(case: MediationCase) -> Agreement | None:
    """The case's agreement in progress, or its newest sealed one."""
    return case.agreements.order_by("-created_at").first()


def agreement_with_case(agreement_id: int) -> Agreement | None:
    return Agreement.objects.select_related("case", "current_version").filter(pk=agreement_id).first()


def agreement_by_verification_code(code: str) -> Agreement | None:
    return Agreement.objects.select_related("case", "current_version").filter(verification_code=code.upper()).first()


def court_document_by_verification_code(code: str) -> CourtDocument | None:
    return CourtDocument.objects.select_related("case").filter(verification_code=code.upper()).first()


def live_signatures(version: AgreementVersion) -> list[Signature]:
    """The signatures on the version that a new version has not voided, in order."""
    return list(Signature.objects.filter(version=version, voided_at__isnull=True).select_related("signer", "party"))


def signed_slots(version: AgreementVersion) -> set[str]:
    """The version's filled slots: signed digitally (and not voided), or on paper in
    person by a confirmed act (`paper_signatures`)."""
    digital = set(Signature.objects.filter(version=version, voided_at__isnull=True).values_list("slot", flat=True))
    return digital | {act.slot for act in paper_signatures(version)}


def paper_signatures(version: AgreementVersion) -> list:
    """The confirmed signatures on paper copies of this version (documents.InPersonAct),
    signed on it as it is (its content hash), in order. One signed on a version since
    replaced never counts for another: it belongs to the version it was signed on."""
    from documents.models.in_person import InPersonAct

    if version is None or version.pk is None:
        return []
    return list(
        InPersonAct.objects.filter(
            agreement_version=version,
            kind=InPersonAct.Kind.PAPER_SIGNATURE,
            content_hash=version.content_hash,
            confirmed_at__isnull=False,
            withdrawn_at__isnull=True,
        ).select_related("party", "witness", "confirmed_by", "scan")
    )


def agreements_waiting_for_seal() -> list[Agreement]:
    """Agreements whose signatures are all on but which were not sealed (a crash
    between the last signature and the seal)."""
    waiting = []
    for agreement in Agreement.objects.filter(status=Agreement.Status.SIGNING).select_related("current_version"):
        version = agreement.current_version
        slots = {entry["slot"] for entry in version.signature_slots}
        if slots and slots == signed_slots(version):
            waiting.append(agreement)
    return waiting


def agreement_reading(agreement: Agreement) -> dict:
    """The agreement's current version to read on the signing page, in the reader's
    language: its parties, facts, terms (worded as the PDF words them), costs and
    effect. A locked version is read as it was locked; a draft with the parties as
    they are now."""
    from documents.agreement_rendering import terms_rendered
    from documents.services.agreement_content import parties_snapshot

    content = agreement.current_version.content
    parties = content.get("parties") or parties_snapshot(agreement.case)
    names = {party["id"]: party["name"] for party in parties}
    return {
        "parties": parties,
        "facts_lines": [line for line in content.get("facts", "").splitlines() if line.strip()],
        "terms": terms_rendered(content, names) if content.get("terms") else [],
        "costs": content.get("costs", ""),
        "effectiveness": content.get("effectiveness", ""),
        "judicial_confirmation": content.get("judicial_confirmation", False),
    }


def confirmation_panel(case: MediationCase, user: User) -> dict | None:
    """What the case page shows of judicial confirmation to `user`: for a case whose
    agreement is sealed, the newest application (status, signatures, the case number
    and the ruling once the court has them), the time left to apply, and what this
    reader may do (apply, sign, withdraw), by the rules the services follow. None
    when the case has no sealed agreement. The court's side adds to the dict."""
    from documents.models import JudicialConfirmation
    from documents.services import confirmation as confirmations
    from documents.services import court_documents

    agreement = latest_agreement(case)
    if agreement is None or not agreement.is_sealed:
        return None
    confirmation = (
        JudicialConfirmation.objects.filter(agreement=agreement)
        .select_related("application", "ruling", "judge")
        .order_by("-created_at", "-pk")
        .first()
    )
    apply_by = confirmation.apply_by if confirmation is not None else confirmations.apply_by_of(agreement)
    days_left = confirmations.days_left_to_apply(apply_by)
    application = confirmation.application if confirmation is not None else None
    live = confirmation is not None and confirmation.is_live
    return {
        "agreement": agreement,
        "confirmation": confirmation,
        # The parties said in the agreement that they would apply.
        "wanted": bool(agreement.current_version.content.get("judicial_confirmation")),
        "apply_by": apply_by,
        "days_left": days_left,
        "window_open": days_left >= 0,
        # Whether the time left still matters: nothing applied yet, or being signed.
        "window_running": days_left >= 0 and (confirmation is None or not live or confirmation.status == "preparing"),
        "may_apply": confirmations.application_refusal(agreement, user) is None,
        "sign_slots": court_documents.court_document_signer_slots(application, user)
        if application is not None and confirmation.status == "preparing"
        else [],
        "places": court_documents.labelled_slots(application) if application is not None else [],
        "may_withdraw": confirmation is not None and confirmations.withdrawal_refusal(confirmation, user) is None,
        # The ruling once sealed: a draft the judge has not signed is nobody's to read.
        "ruling": confirmation.ruling
        if confirmation is not None and confirmation.ruling_id and confirmation.ruling.is_sealed
        else None,
    }
