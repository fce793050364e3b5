"""Parties' resident ID numbers in the settlement agreement. The court's practice is
the full number in the signed agreement (it identifies the parties in the document
the court confirms and enforces), so the PDF prints it; the version's stored content,
a plain JSON record kept as long as the agreement, holds only the number's keyed hash
(which the content hash covers) and its masked form."""

import io
import json
import re

import pytest
from pypdf import PdfReader

from documents.agreement_rendering import agreement_document_context
from documents.agreement_rules import required_slots
from documents.models import AgreementVersion
from documents.services import agreements
from documents.services.storage import read_blob
from mediation import id_numbers
from mediation.models import Party
from tests.cases import make_case
from tests.documents.test_agreements import draft, fresh

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def world(people):
    world = make_case(people["mediator"], people["judge"])
    party = Party.objects.get(pk=world.plaintiff_participant.party_id)
    party.kind, party.name, party.id_number = Party.Kind.PERSON, "蒋敏", ID_NUMBER
    party.save()
    return world


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_a_locked_agreement_prints_the_whole_id_number_but_stores_only_its_hash(world):
    agreement = draft(world)

    agreements.lock_agreement(agreement=agreement, actor=world.mediator)

    version = fresh(agreement).current_version
    stored = json.dumps(version.content, ensure_ascii=False)
    assert ID_NUMBER not in stored and ID_NUMBER[:14] not in stored
    plaintiff = next(party for party in version.content["parties"] if party["side"] == "plaintiff")
    assert plaintiff["id_number_hash"] == id_numbers.keyed_hash(ID_NUMBER)
    assert plaintiff["id_number_masked"] == id_numbers.mask(ID_NUMBER)
    assert ID_NUMBER in pdf_text(read_blob(version.locked_blob))


def test_a_version_locked_with_the_number_itself_still_prints_it(world):
    agreement = draft(world)
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    version = fresh(agreement).current_version
    old_content = {
        **version.content,
        "parties": [
            {key: value for key, value in party.items() if not key.startswith("id_number")}
            | {"id_number": ID_NUMBER if party["side"] == "plaintiff" else ""}
            for party in version.content["parties"]
        ],
    }
    context = agreement_document_context(
        agreement,
        AgreementVersion(agreement=agreement, number=version.number, content=old_content),
        required_slots(agreement.case),
    )

    assert [party["id_number"] for party in context["content"]["parties"] if party["side"] == "plaintiff"] == [
        ID_NUMBER
    ]
