"""Applications for judicial confirmation in the court's hands, for the court's side's
tests.

The case, its parties, the agreement's draft and the settlement go through the
services. Two steps are stand-ins until the court documents layer (courtdocs) is
merged into this branch: the agreement is marked sealed instead of being signed by
everyone (its PDF signing is tested in test_agreements), and the application arrives
APPLIED as a row instead of being signed by the parties (`apply_for_confirmation`).
A decided application (`decided`) is likewise a row until the ruling is signed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from documents.models import Agreement
from documents.models.confirmation import APPLY_WITHIN_DAYS, JudicialConfirmation
from documents.services import agreements
from mediation.services import cases
from tests.cases import CaseWorld, make_case


@dataclass
class Settled:
    world: CaseWorld
    agreement: Agreement


def settled_case(mediator, judge, *, label: str = "A", work_order=None) -> Settled:
    world = make_case(mediator, judge, label=label)
    case = world.case
    if work_order is not None:
        type(case).objects.filter(pk=case.pk).update(work_order=work_order)
        case.refresh_from_db()
    cases.start_mediation(case=case, actor=mediator)
    agreement = agreements.start_agreement(case=case, actor=mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=[
            {
                "kind": "payment",
                "obligor": world.defendant_participant.party_id,
                "obligee": world.plaintiff_participant.party_id,
                "amount": "500000",
                "method": "银行转账",
                "due_date": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
            }
        ],
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=mediator)
    # Stand-in for the signatures and the seal (see the module's docstring).
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.SEALED, sealed_at=timezone.now())
    cases.settle_case(case=case, actor=mediator, note="", data={"agreement": agreement.pk})
    world.case.refresh_from_db()
    agreement.refresh_from_db()
    return Settled(world=world, agreement=agreement)


def applied(settled: Settled, *, accept_by: dt.datetime | None = None, judge=None) -> JudicialConfirmation:
    """The parties' application, signed and in the judge's queue (stand-in, see above)."""
    now = timezone.now()
    return JudicialConfirmation.objects.create(
        case=settled.world.case,
        agreement=settled.agreement,
        status=JudicialConfirmation.Status.APPLIED,
        judge=judge,
        started_by=settled.world.plaintiff,
        apply_by=timezone.localdate() + dt.timedelta(days=APPLY_WITHIN_DAYS),
        applied_at=now,
        accept_by=accept_by or now + dt.timedelta(days=3),
    )


def decided(confirmation: JudicialConfirmation, status: str) -> JudicialConfirmation:
    """The application decided by a sealed ruling (stand-in, see above)."""
    JudicialConfirmation.objects.filter(pk=confirmation.pk).update(status=status, decided_at=timezone.now())
    confirmation.refresh_from_db()
    return confirmation
