"""Applications for judicial confirmation in the court's hands, for the court's side's
tests.

The case, its parties, the agreement's draft and the settlement go through the
services, and so does the parties' application (`apply_for_confirmation`, signed by
both parties, sealed: APPLIED). One step is a stand-in to keep the tests fast: the
agreement is locked through the service and then marked sealed instead of being
signed by everyone (that signing is tested in test_agreements). `decided` marks an
application decided for the tests of what follows a decision; the decisions
themselves are tested through the signed ruling (test_confirmation_court)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from documents.models import Agreement
from documents.models.confirmation import JudicialConfirmation
from documents.services import agreements
from mediation.services import cases
from tests.cases import CaseWorld, make_case


@dataclass
class Settled:
    world: CaseWorld
    agreement: Agreement


def settled_case(mediator, judge, *, label: str = "A", work_order=None) -> Settled:
    world = make_case(mediator, judge, label=label, agent_authority=True)
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
    """The parties' application, made and signed by both parties through the services:
    sealed, it is APPLIED and in the judge's queue. `accept_by` moves its deadline (as
    if it had arrived earlier); `judge` stands for a department head's assignment."""
    from documents.services.confirmation import apply_for_confirmation
    from tests.court_documents import sign

    world = settled.world
    confirmation = apply_for_confirmation(agreement=settled.agreement, actor=world.plaintiff)
    sign(confirmation.application, world.plaintiff, f"party-{world.plaintiff_participant.party_id}")
    sign(confirmation.application, world.defendant, f"party-{world.defendant_participant.party_id}", seed=1)
    confirmation.refresh_from_db()
    assert confirmation.status == JudicialConfirmation.Status.APPLIED
    changes = {}
    if accept_by is not None:
        changes["accept_by"] = accept_by
    if judge is not None:
        changes["judge"] = judge
    if changes:
        JudicialConfirmation.objects.filter(pk=confirmation.pk).update(**changes)
        confirmation.refresh_from_db()
    return confirmation


def decided(confirmation: JudicialConfirmation, status: str) -> JudicialConfirmation:
    """The application decided by a sealed ruling (stand-in, see above)."""
    JudicialConfirmation.objects.filter(pk=confirmation.pk).update(status=status, decided_at=timezone.now())
    confirmation.refresh_from_db()
    return confirmation
