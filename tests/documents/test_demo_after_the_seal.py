"""The demo after the seal (`seed_demo`, what `make run` loads): the report's agreement
is confirmed by a sealed ruling served on both parties, and of its three instalments
the first is performed and confirmed, the second reported and waiting for the
plaintiff, the third due next month; the neighbours' agreement is still half signed.
Seeding again changes nothing."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from documents.models import (
    Agreement,
    CourtDocument,
    CourtSignature,
    Document,
    JudicialConfirmation,
    MediationRecord,
    Obligation,
    ObligationStep,
    Service,
)
from documents.models.confirmation import ConfirmationReview
from documents.services.storage import read_blob
from documents.verification import verify_pdf
from mediation.models import AuditEntry, CaseEvent, MediationCase, Notification, User

pytestmark = pytest.mark.django_db(transaction=True)


def seed():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def report_case() -> MediationCase:
    return MediationCase.objects.get(work_order__external_source="demo", work_order__external_id="demo-01")


def snapshot() -> dict:
    """What a second seeding must leave as it is: every row the story writes, and
    where each obligation and application stands."""
    counted = [
        Agreement,
        CourtDocument,
        CourtSignature,
        JudicialConfirmation,
        ConfirmationReview,
        MediationRecord,
        Obligation,
        ObligationStep,
        Document,
        Service,
        CaseEvent,
        AuditEntry,
        Notification,
    ]
    return {
        **{model.__name__: model.objects.count() for model in counted},
        "obligations": list(Obligation.objects.order_by("pk").values_list("pk", "status")),
        "confirmations": list(JudicialConfirmation.objects.order_by("pk").values_list("pk", "status", "case_number")),
    }


def test_the_report_case_is_confirmed_by_a_sealed_ruling_and_paid_in_instalments_and_seeding_again_changes_nothing(
    settings, client
):
    settings.SMS_BACKEND = "locmem"
    seed()
    case = report_case()
    today = timezone.localdate()

    # Judicial confirmation: applied for by both parties, accepted by the demo judge with
    # a 民特 number, reviewed, and confirmed by a ruling the judge signed and the court sealed.
    confirmation = JudicialConfirmation.objects.get(case=case)
    assert confirmation.status == JudicialConfirmation.Status.CONFIRMED
    assert confirmation.judge.email == "judge@demo.court"
    assert f"{settings.COURT_CODE}民特" in confirmation.case_number
    assert confirmation.reviews.count() == 1
    application = confirmation.application
    assert application.status == CourtDocument.Status.SEALED
    assert {signature.party.side for signature in application.signatures.all()} == {"plaintiff", "defendant"}
    ruling = confirmation.ruling
    assert ruling.status == CourtDocument.Status.SEALED
    assert [signature.signer.email for signature in ruling.signatures.all()] == ["judge@demo.court"]
    report = verify_pdf(read_blob(ruling.sealed_blob))
    assert report.all_valid
    # Served on both parties' people, who acknowledged it.
    ruling_document = Document.objects.get(case=case, kind=Document.Kind.RULING)
    services = Service.objects.filter(documents=ruling_document)
    assert {service.recipient.email for service in services} == {"plaintiff@demo.court", "defendant@demo.court"}
    assert {service.status for service in services} == {Service.Status.ACKNOWLEDGED}

    # Performance: three instalments of the 500,000 yuan from the defendant to the
    # plaintiff, and the plaintiff's act.
    sealed = case.agreements.get(status=Agreement.Status.SEALED)
    payments = list(sealed.obligations.filter(kind=Obligation.Kind.PAYMENT).order_by("instalment"))
    assert [(p.instalment, p.instalments) for p in payments] == [(1, 3), (2, 3), (3, 3)]
    assert sum(p.amount for p in payments) == 500000
    assert {(p.obligor.side, p.obligee.side) for p in payments} == {("defendant", "plaintiff")}
    first, second, third = payments
    assert first.status == Obligation.Status.PERFORMED
    assert first.performed_on_time is True
    assert first.steps.get(step=ObligationStep.Step.CONFIRMED).actor.email == "plaintiff@demo.court"
    assert second.status == Obligation.Status.REPORTED
    assert second.due_date > today
    for reported in (first, second):
        evidence = reported.steps.get(step=ObligationStep.Step.REPORTED).evidence.get()
        assert evidence.kind == Document.Kind.PERFORMANCE_EVIDENCE
        assert read_blob(evidence.blob).startswith(b"%PDF")
    assert third.status == Obligation.Status.DUE
    assert today + dt.timedelta(days=20) <= third.due_date <= today + dt.timedelta(days=45)
    act = sealed.obligations.get(kind=Obligation.Kind.ACT)
    assert act.status == Obligation.Status.DUE

    # The neighbours' agreement still waits for the defendant's signature.
    neighbours = MediationCase.objects.get(work_order__external_source="demo", work_order__external_id="demo-10")
    agreement = neighbours.agreements.get()
    assert agreement.status != Agreement.Status.SEALED
    assert not neighbours.obligations.exists()
    assert not neighbours.confirmations.exists()

    # The session's mediation record (调解笔录): signed by both companies' people and the
    # mediator, sealed, and on the mediator's and the parties' case pages.
    record = MediationRecord.objects.get(case=case)
    assert record.document.status == CourtDocument.Status.SEALED
    signers = {signature.signer.email for signature in record.document.signatures.all()}
    assert signers == {"plaintiff@demo.court", "defendant@demo.court", "mediator@demo.court"}
    assert verify_pdf(read_blob(record.document.sealed_blob)).all_valid
    for email in ("mediator@demo.court", "plaintiff@demo.court", "defendant@demo.court"):
        client.force_login(User.objects.get(email=email))
        page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        assert f'data-record-session="{record.session_id}" data-record-status="sealed"' in page, email

    before = snapshot()
    seed()
    assert snapshot() == before
