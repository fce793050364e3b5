"""Court documents for tests, laid out and signed through the services."""

from __future__ import annotations

import io

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
