"""Builders for acts done in person (documents.InPersonAct): a scan, an agreement
locked for signing, a digital signature, and an act recorded by the mediator."""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone
from PIL import Image, ImageDraw

from documents.models import Agreement
from documents.reauthentication import Reauthentication
from documents.services import agreements, in_person
from tests.factories import PASSWORD


def scan_png(seed: int = 0) -> SimpleUploadedFile:
    image = Image.new("RGB", (400, 300), (255, 255, 255))
    ImageDraw.Draw(image).line([(20, 200), (150 + seed, 80), (380, 220)], fill=(0, 0, 0), width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"scan-{seed}.png", buffer.getvalue(), content_type="image/png")


def drawn_signature() -> bytes:
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(40, 180), (200, 60), (320, 170), (560, 50)], fill=(0, 0, 0, 255), width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def fresh(agreement) -> Agreement:
    return Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)


def payment_term(world) -> dict:
    return {
        "kind": "payment",
        "obligor": world.defendant_participant.party_id,
        "obligee": world.plaintiff_participant.party_id,
        "amount": "500000",
        "method": "银行转账",
        "due_date": "2027-12-31",
    }


def locked_agreement(world) -> Agreement:
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=[payment_term(world)],
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    return fresh(agreement)


def sign(agreement, user, party=None):
    agreement = fresh(agreement)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return agreements.sign_agreement(
            agreement=agreement,
            actor=user,
            version_hash=agreement.current_version.content_hash,
            party=party,
            method="drawn",
            image_png=drawn_signature(),
            reauthentication=Reauthentication(password=PASSWORD),
            ip="203.0.113.9",
            user_agent="pytest",
        )


def record(world, *, kind, party=None, agreement=None, service=None, person_name="赵老伯", seed=0, **changes):
    party = party or world.defendant_participant.party
    return in_person.record_in_person_act(
        case=world.case,
        actor=changes.pop("actor", world.mediator),
        party=party,
        kind=kind,
        person_name=person_name,
        capacity=changes.pop("capacity", "party"),
        place=changes.pop("place", "court"),
        place_detail=changes.pop("place_detail", "第三调解室"),
        occurred_at=changes.pop("occurred_at", timezone.now() - dt.timedelta(hours=1)),
        scan_file=changes.pop("scan_file", scan_png(seed)),
        agreement_version=fresh(agreement).current_version if agreement is not None else None,
        service=service,
    )


def confirm(act, user):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return in_person.confirm_in_person_act(act=act, actor=user)
