"""The whole settlement: drafted, locked, signed by both parties and the mediator,
sealed; the order awaits confirmation and the PDF verifies."""

import pytest
from django.db import transaction

from documents.models import Agreement
from documents.reauthentication import Reauthentication
from documents.services import agreements
from documents.services.storage import read_blob
from documents.stamps import typed_signature
from documents.verification import verify_pdf
from mediation.models import MediationCase
from mediation.roles import Role
from tests.cases import make_case
from tests.factories import PASSWORD, DepartmentFactory, staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agreement_signed_by_everyone_is_sealed_and_verifies():
    department = DepartmentFactory(name="Civil", code="civil")
    world = make_case(
        staff(Role.MEDIATOR, department, full_name="刘洋"), staff(Role.JUDGE, department), agent_authority=True
    )
    case = world.case
    plaintiff, defendant = case.parties.get(side="plaintiff"), case.parties.get(side="defendant")
    agreement = agreements.start_agreement(case=case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频。",
        terms=[
            {
                "kind": "payment",
                "obligor": defendant.pk,
                "obligee": plaintiff.pk,
                "amount": "500000",
                "method": "银行转账",
                "due_date": "2026-12-31",
            }
        ],
        costs="调解不收费。",
        effectiveness="签章后生效。",
        judicial_confirmation=True,
    )
    version = agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    for user, party in ((world.mediator, None), (world.plaintiff, plaintiff), (world.defendant, defendant)):
        with transaction.atomic():
            agreements.sign_agreement(
                agreement=agreement,
                actor=user,
                version_hash=version.content_hash,
                party=party,
                method="typed",
                image_png=typed_signature(str(user)),
                reauthentication=Reauthentication(password=PASSWORD),
            )
    agreement = Agreement.objects.get(pk=agreement.pk)
    assert agreement.status == Agreement.Status.SEALED
    assert MediationCase.objects.get(pk=case.pk).status == MediationCase.Status.SETTLED
    report = verify_pdf(read_blob(agreement.sealed_blob))
    assert report.matches_sealed_original and report.all_valid
    # The three signers, the platform's seal (its visible seal over the court's name)
    # and the document timestamp.
    assert len(report.signatures) == 5
