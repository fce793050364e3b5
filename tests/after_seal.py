"""What follows a sealed agreement, for tests, built through the services at the days
the tests name (the clock travels there with time_machine): a case whose agreement is
drafted, signed by everyone and sealed (which makes its obligations), the parties'
application for judicial confirmation signed by both, the judge's acceptance and
ruling (signing it seals it and serves it on those who consented to electronic
service), the obligor's reports and the obligee's confirmations, and the sweep that
marks an obligation overdue."""

from __future__ import annotations

import datetime as dt
import io
from contextlib import contextmanager

import time_machine
from django.test import TestCase
from django.utils import timezone
from PIL import Image, ImageDraw
from weasyprint import HTML

from documents.models import Agreement, Document, JudicialConfirmation, Obligation
from documents.reauthentication import Reauthentication
from documents.services import agreements
from documents.services import confirmation_court as court
from documents.services.confirmation import apply_for_confirmation
from documents.services.performance import confirm_performance, follow_obligations, report_performed
from documents.services.serving import record_consent
from documents.signing import document_timestamp, seal
from tests.cases import CaseWorld, make_case
from tests.court_documents import sign
from tests.factories import PASSWORD

Status = JudicialConfirmation.Status


def drawn_signature(seed: int = 0) -> bytes:
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(40, 180 - seed), (200, 60), (320, 170), (560, 50)], fill=(0, 0, 0, 255), width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def moment(when: dt.date | dt.datetime, hour: int = 10) -> dt.datetime:
    """A day (at `hour`, court time) or a moment, as an aware datetime."""
    if isinstance(when, dt.datetime):
        return when if timezone.is_aware(when) else timezone.make_aware(when)
    return timezone.make_aware(dt.datetime.combine(when, dt.time(hour)))


@contextmanager
def clock_at(when: dt.date | dt.datetime, hour: int = 10):
    """The clock at that day (or moment), ticking."""
    with time_machine.travel(moment(when, hour), tick=True):
        yield


@contextmanager
def done_at(when: dt.date | dt.datetime, hour: int = 10):
    """The clock at that day, and the work to do once committed done."""
    with clock_at(when, hour), TestCase.captureOnCommitCallbacks(execute=True):
        yield


def instalments(world: CaseWorld, dates: list[str], amount: str = "100000") -> list[dict]:
    return [
        {
            "kind": "payment",
            "obligor": world.defendant_participant.party_id,
            "obligee": world.plaintiff_participant.party_id,
            "amount": amount,
            "method": "银行转账",
            "due_date": due,
        }
        for due in dates
    ]


def seal_agreement_of(world: CaseWorld, terms: list[dict]) -> Agreement:
    """Draft, lock, and have the mediator and both sides sign: sealed by the services
    (sealing makes the obligations, one per term)."""
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=terms,
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    version = agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    signers = [
        (world.mediator, None),
        (world.plaintiff, world.plaintiff_participant.party),
        (world.defendant, world.defendant_participant.party),
    ]
    with TestCase.captureOnCommitCallbacks(execute=True):
        for index, (user, party) in enumerate(signers):
            agreements.sign_agreement(
                agreement=Agreement.objects.get(pk=agreement.pk),
                actor=user,
                version_hash=version.content_hash,
                party=party,
                method="drawn",
                image_png=drawn_signature(index),
                reauthentication=Reauthentication(password=PASSWORD),
                ip="203.0.113.5",
                user_agent="pytest",
            )
    agreement = Agreement.objects.select_related("current_version", "sealed_blob").get(pk=agreement.pk)
    assert agreement.status == Agreement.Status.SEALED
    return agreement


def sealed_pdf(text: str) -> bytes:
    pdf = HTML(string=f"<html><body><h1>{text}</h1></body></html>").write_pdf()
    return document_timestamp(seal(pdf, reason="test"))


def confirm(
    world: CaseWorld,
    agreement: Agreement,
    *,
    status=Status.CONFIRMED,
    applied_at: dt.date | dt.datetime | None = None,
    decided_at: dt.date | dt.datetime | None = None,
    serve: bool = True,
) -> JudicialConfirmation:
    """The parties apply (both sign the application: APPLIED at `applied_at`, by
    default the day after the seal); unless `status` is APPLIED the judge accepts the
    next day, then on `decided_at` (by default ten days after applying) declines it
    (NOT_ACCEPTED) or drafts and signs the ruling confirming the agreement or
    rejecting the application. With `serve`, both parties consented to electronic
    service first, so the sealed ruling is served on each of them."""
    applied_at = moment(applied_at or timezone.localtime(agreement.sealed_at).date() + dt.timedelta(days=1))
    decided_at = moment(decided_at or applied_at + dt.timedelta(days=10))
    with done_at(applied_at):
        if serve:
            for user in (world.plaintiff, world.defendant):
                record_consent(case=world.case, user=user)
        confirmation = apply_for_confirmation(agreement=agreement, actor=world.plaintiff)
        sign(confirmation.application, world.plaintiff, f"party-{world.plaintiff_participant.party_id}")
        sign(confirmation.application, world.defendant, f"party-{world.defendant_participant.party_id}", seed=1)
    confirmation.refresh_from_db()
    assert confirmation.status == Status.APPLIED
    if status == Status.APPLIED:
        return confirmation
    if status == Status.NOT_ACCEPTED:
        with done_at(decided_at):
            court.decline_confirmation(confirmation=confirmation, actor=world.judge, reason="不属于受理范围。")
        confirmation.refresh_from_db()
        return confirmation
    with done_at(min(applied_at + dt.timedelta(days=1), decided_at)):
        court.accept_confirmation(confirmation=confirmation, actor=world.judge)
    with done_at(decided_at):
        if status == Status.CONFIRMED:
            ruling = court.draft_ruling(confirmation=confirmation, actor=world.judge, decision="confirm")
        else:
            ruling = court.draft_ruling(
                confirmation=confirmation, actor=world.judge, decision="reject", ground="sham", note="双方恶意串通。"
            )
        sign(ruling, world.judge, "judge")
    confirmation.refresh_from_db()
    assert confirmation.status == status
    return confirmation


def obligations_of(world: CaseWorld, agreement: Agreement) -> list[Obligation]:
    """The obligations sealing made, one per term, in the terms' order."""
    return list(Obligation.objects.filter(agreement=agreement).order_by("term_number"))


def perform(world: CaseWorld, obligation: Obligation, *, on: dt.date, confirmed: bool = True) -> Document:
    """The obligor's side reports on that day that it performed, with a receipt; the
    obligee's side confirms two hours later (unless not `confirmed`)."""
    day = on
    with done_at(day):
        report_performed(
            obligation=obligation,
            actor=world.defendant,
            performed_on=day,
            note="已转账",
            receipt=sealed_pdf(f"转账回单 {obligation.term_number}"),
            receipt_name=f"回单{obligation.term_number}.pdf",
        )
    if confirmed:
        with done_at(day, 12):
            confirm_performance(obligation=obligation, actor=world.plaintiff)
    obligation.refresh_from_db()
    return obligation.steps.get(step="reported").evidence.get()


def become_overdue(obligation: Obligation, *, since: dt.date | None = None) -> Obligation:
    """The sweep runs on `since` (by default the day after the due date): the
    obligation, still due, becomes overdue."""
    since = since or obligation.due_date + dt.timedelta(days=1)
    with done_at(since, 0):
        follow_obligations(today=since)
    obligation.refresh_from_db()
    assert obligation.status == Obligation.Status.OVERDUE
    return obligation


def sealed_world(mediator, judge, *, label="A", dates=("2026-10-07", "2026-11-07", "2027-01-07"), sealed_on=None):
    """A case whose agreement of instalments due on `dates` was sealed on `sealed_on`
    (by default 40 days before the first one)."""
    sealed_on = sealed_on or min(dt.date.fromisoformat(day) for day in dates) - dt.timedelta(days=40)
    with clock_at(sealed_on, 9):
        world = make_case(mediator, judge, label=label, agent_authority=True)
        agreement = seal_agreement_of(world, instalments(world, list(dates)))
    world.case.refresh_from_db()
    return world, agreement
