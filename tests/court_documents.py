"""Court documents for tests, laid out and signed through the services."""

from __future__ import annotations

import io
from contextlib import contextmanager

from PIL import Image, ImageDraw

from documents.models import CourtDocument
from documents.reauthentication import Reauthentication
from documents.services import court_documents
from tests.factories import PASSWORD

IP = "203.0.113.30"


def drawn_signature(seed: int = 0) -> bytes:
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    points = [(40 + 100 * i, 60 + ((i * 37 + seed * 53) % 140)) for i in range(6)]
    ImageDraw.Draw(image).line(points, fill=(10, 20, 120, 255), width=9)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def party_slots(case) -> list[dict]:
    return [
        {"slot": f"party-{party.pk}", "role": "party", "party": party.pk, "side": party.side, "name": party.name}
        for party in case.parties.all()
    ]


def simple_content(case) -> dict:
    """What the application's template needs to lay out a document, as content."""
    return {
        "case_number": case.number,
        "cause_of_action": case.cause_of_action,
        "parties": [
            {
                "id": p.pk,
                "side": p.side,
                "side_label": p.get_side_display(),
                "kind_label": p.get_kind_display(),
                "name": p.name,
                "credit_code": "",
                "id_number": "",
                "address": "",
                "legal_representative": "",
            }
            for p in case.parties.all()
        ],
        "agreement": {"verification_code": "TEST-CODE-0001"},
        "agreement_sealed_on": "2026-12-01",
        "mediator": str(case.mediator),
        "mediation_organisation": "Test court",
        "terms_rendered": ["The defendant pays the plaintiff RMB 1,000.00 yuan."],
        "court": "Test court",
    }


def prepare(world, *, slots=None, kind=CourtDocument.Kind.CONFIRMATION_APPLICATION, actor=None) -> CourtDocument:
    content = simple_content(world.case)
    return court_documents.prepare_court_document(
        case=world.case,
        kind=kind,
        template="documents/pdf/confirmation_application.html",
        context={"content": content},
        content=content,
        slots=party_slots(world.case) if slots is None else slots,
        actor=actor or world.mediator,
    )


def sign(document, user, slot, *, password=PASSWORD, sms_code="", content_hash=None, method="drawn", seed=0):
    document = CourtDocument.objects.select_related("case").get(pk=document.pk)
    return court_documents.sign_court_document(
        document=document,
        actor=user,
        slot=slot,
        content_hash=document.content_hash if content_hash is None else content_hash,
        method=method,
        image_png=drawn_signature(seed) if method == "drawn" else None,
        reauthentication=Reauthentication(password=password, sms_code=sms_code),
        ip=IP,
        user_agent="pytest",
    )


def sealed_agreement(world, *, judicial_confirmation: bool = True):
    """The case's settlement agreement drafted, locked, signed by the mediator and both
    parties, and sealed (the parties' agent needs special authority)."""
    from django.test import TestCase

    from documents.models import Agreement
    from documents.services import agreements

    plaintiff, defendant = world.plaintiff_participant.party, world.defendant_participant.party
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=[
            {
                "kind": "payment",
                "obligor": defendant.pk,
                "obligee": plaintiff.pk,
                "amount": "500000",
                "method": "银行转账",
                "due_date": "2027-03-31",
            }
        ],
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=judicial_confirmation,
    )
    version = agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    with TestCase.captureOnCommitCallbacks(execute=True):
        for index, (user, party) in enumerate(
            [(world.mediator, None), (world.plaintiff, plaintiff), (world.defendant, defendant)]
        ):
            agreements.sign_agreement(
                agreement=Agreement.objects.get(pk=agreement.pk),
                actor=user,
                version_hash=version.content_hash,
                party=party,
                method="drawn",
                image_png=drawn_signature(index),
                reauthentication=Reauthentication(password=PASSWORD),
                ip=IP,
                user_agent="pytest",
            )
    agreement = Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)
    assert agreement.is_sealed
    return agreement


def storages_at(location) -> dict:
    """The documents' storage in `location`: a module's files, kept for its tests."""
    from django.conf import settings

    return {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }


@contextmanager
def module_transaction(django_db_blocker):
    """A transaction around a whole module, rolled back at its end: what a module
    builds once (slow PDFs) is undone, and each test runs in a savepoint of it."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
