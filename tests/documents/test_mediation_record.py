"""The mediation record (调解笔录) of a session: written from a template by the case's
mediator, editable until sent for signature, signed by each attending party (on the
platform or on paper in person) and the mediator, sealed and verifiable; a caucus's
record stays with its side and the court; it goes into the filing package and the
confirmation file."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from documents.models import CourtDocument, MediationRecord
from documents.models.in_person import InPersonAct
from documents.services import court_documents, mediation_records
from documents.services.storage import read_blob
from documents.verification import verify_pdf
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, Notification, ParticipantRole, RoomKind
from mediation.services import cases
from rooms.models import RoomEntry
from tests.cases import make_case
from tests.court_documents import sign
from tests.factories import UserFactory
from tests.in_person import confirm, scan_png
from tests.mediation_records import record_data, sent_record, started_session, written_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


def sign_all(world, document):
    users = {"plaintiff": world.plaintiff, "defendant": world.defendant}
    for entry in document.signature_slots:
        sign(document, users.get(entry.get("side"), world.mediator), entry["slot"])
    return CourtDocument.objects.get(pk=document.pk)


def pdf_text(data: bytes) -> str:
    import io

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# Writing ----------------------------------------------------------------------------------------


def test_the_mediator_writes_a_draft_and_edits_it_until_it_is_sent(world):
    session = started_session(world)
    record = mediation_records.write_record(session=session, actor=world.mediator, data=record_data(world, session))
    assert record.is_draft and record.document is None
    record = mediation_records.write_record(
        session=session, actor=world.mediator, data=record_data(world, session, agreed="被告一次性付清。")
    )
    assert MediationRecord.objects.get(pk=record.pk).agreed == "被告一次性付清。"
    assert AuditEntry.objects.filter(action="mediation_record.write").count() == 2

    mediation_records.send_record_for_signature(record=record, actor=world.mediator)
    with pytest.raises(TransitionNotAllowed):
        mediation_records.write_record(session=session, actor=world.mediator, data=record_data(world, session))
    with pytest.raises(TransitionNotAllowed):
        mediation_records.send_record_for_signature(record=record, actor=world.mediator)
    assert MediationRecord.objects.get(pk=record.pk).agreed == "被告一次性付清。"


def test_the_form_starts_from_the_session_and_its_people(world, client):
    session = started_session(world)
    client.force_login(world.mediator)
    page = client.get(reverse("mediation_record_edit", args=[session.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert f"participant-{world.defendant_participant.pk}" in form.initial["attendees"]
    assert "statements_plaintiff" in form.fields and "statements_defendant" in form.fields


def test_the_mediator_writes_and_sends_through_the_pages(world, client):
    session = started_session(world)
    client.force_login(world.mediator)
    data = record_data(world, session)
    post = {
        **{key: value for key, value in data.items() if key not in ("started_at", "ended_at", "attendees")},
        "started_at": timezone.localtime(data["started_at"]).strftime("%Y-%m-%dT%H:%M"),
        "ended_at": timezone.localtime(data["ended_at"]).strftime("%Y-%m-%dT%H:%M"),
        "attendees": data["attendees"],
    }
    response = client.post(reverse("mediation_record_edit", args=[session.pk]), post)
    assert response.status_code == 302
    record = MediationRecord.objects.get(session=session)
    response = client.post(reverse("mediation_record_send", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == MediationRecord.Status.SENT
    assert response["Location"] == reverse("court_document_sign", args=[record.document_id])
    case_page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert f'data-record-session="{session.pk}" data-record-status="awaiting"' in case_page


@pytest.mark.parametrize("who", ["judge", "plaintiff", "defendant"])
def test_only_the_cases_mediator_writes_a_record(world, client, who):
    session = started_session(world)
    user = getattr(world, who)
    with pytest.raises(ActionForbidden):
        mediation_records.write_record(session=session, actor=user, data=record_data(world, session))
    client.force_login(user)
    assert client.get(reverse("mediation_record_edit", args=[session.pk])).status_code == 404
    assert client.post(reverse("mediation_record_edit", args=[session.pk]), {}).status_code == 404
    assert not MediationRecord.objects.exists()


def test_another_cases_mediator_cannot_write_or_send(world, people, client):
    record = written_record(world)
    other = make_case(people["mediator"], label="B")
    stranger = UserFactory()
    for user in (stranger, other.plaintiff):
        client.force_login(user)
        assert client.get(reverse("mediation_record_edit", args=[record.session_id])).status_code == 404
        assert client.post(reverse("mediation_record_send", args=[record.pk])).status_code == 404
    assert MediationRecord.objects.get(pk=record.pk).is_draft


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"ended_at": timezone.now() - dt.timedelta(hours=3)}, "ended_at"),
        ({"mode": "telepathy"}, "mode"),
        ({"mode": "in_person", "place": ""}, "place"),
        ({"agreed": "长" * 8001}, "agreed"),
        ({"attendees": ["participant-999999"]}, "attendees"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, changes, field):
    session = started_session(world)
    with pytest.raises(ValidationError) as refused:
        mediation_records.write_record(
            session=session, actor=world.mediator, data=record_data(world, session, **changes)
        )
    assert field in refused.value.message_dict
    assert not MediationRecord.objects.exists()


def test_a_caucus_record_cannot_name_the_other_sides_people(world):
    session = started_session(world, RoomKind.CAUCUS_PLAINTIFF)
    data = record_data(world, session, attendees=[f"participant-{world.defendant_participant.pk}", "staff-mediator"])
    with pytest.raises(ValidationError) as refused:
        mediation_records.write_record(session=session, actor=world.mediator, data=data)
    assert "attendees" in refused.value.message_dict


def test_a_session_not_started_has_no_record(world):
    from mediation.services import sessions

    session = sessions.schedule_session(
        case=world.case, actor=world.mediator, starts_at=timezone.now() + dt.timedelta(days=1)
    )
    with pytest.raises(TransitionNotAllowed):
        mediation_records.write_record(session=session, actor=world.mediator, data=record_data(world, session))


# Signing and sealing ------------------------------------------------------------------------------


def test_each_attending_party_and_the_mediator_sign_then_it_is_sealed_and_verifiable(world, client):
    document = sent_record(world)
    parties = [world.plaintiff_participant.party, world.defendant_participant.party]
    assert [entry["slot"] for entry in document.signature_slots] == [f"party-{p.pk}" for p in parties] + ["mediator"]
    # The signers are told; the mediator who sent it is not.
    told = set(Notification.objects.filter(kind="mediation_record.to_sign").values_list("recipient_id", flat=True))
    assert told == {world.plaintiff.pk, world.defendant.pk}
    # Nobody signs another's place.
    with pytest.raises(ActionForbidden):
        sign(document, world.defendant, f"party-{parties[0].pk}")

    document = sign_all(world, document)
    assert document.is_sealed
    sealed = read_blob(document.sealed_blob)
    report = verify_pdf(sealed)
    assert (report.verification_code, report.document) == (document.verification_code, "mediation_record")
    assert all(check.valid and check.intact for check in report.signatures)
    text = pdf_text(sealed)
    assert "被告分期支付制作费" in text and document.case.number in text
    page = client.get(reverse("verify_record", args=[document.verification_code]))
    assert page.status_code == 200


def test_an_interpreter_signs_nothing_and_a_party_without_attendees_has_no_place(world):
    interpreter = UserFactory(full_name="Interpreter")
    participant = cases.attach_participant(
        case=world.case,
        party=world.defendant_participant.party,
        user=interpreter,
        role=ParticipantRole.INTERPRETER,
        actor=world.mediator,
    )
    document = sent_record(
        world, attendees=[f"participant-{world.plaintiff_participant.pk}", f"participant-{participant.pk}"]
    )
    assert [entry["slot"] for entry in document.signature_slots] == [
        f"party-{world.plaintiff_participant.party_id}",
        "mediator",
    ]
    assert court_documents.court_document_signer_slots(document, interpreter) == []


def test_a_party_signs_on_the_records_page(world, client):
    document = sent_record(world)
    client.force_login(world.defendant)
    page = client.get(reverse("court_document_sign", args=[document.pk]))
    assert page.status_code == 200
    assert "data-record-reading" in page.content.decode() and "视频质量未达约定" in page.content.decode()
    assert page.context["may_sign"]


def test_a_paper_signature_counts_once_confirmed_and_shows_in_the_sealed_record(world, client):
    document = sent_record(world)
    defendant = world.defendant_participant.party
    sign(document, world.plaintiff, f"party-{world.plaintiff_participant.party_id}")
    sign(document, world.mediator, "mediator")
    act = court_records_paper(world, document, defendant)
    assert act.scan.visibility == "case"
    # Recorded, not confirmed: the place is not filled, nothing is sealed.
    assert f"party-{defendant.pk}" not in court_documents.signed_slots(document)
    assert not CourtDocument.objects.get(pk=document.pk).is_sealed
    with pytest.raises(ActionForbidden):
        confirm(act, world.mediator)
    # The judge checks the scan on the acts-in-person page and confirms it there.
    client.force_login(world.judge)
    page = client.get(reverse("in_person_acts", args=[world.case.pk])).content.decode()
    assert f'href="{reverse("court_document_sign", args=[document.pk])}" data-signed-record' in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("in_person_confirm", args=[act.pk]))
    document = CourtDocument.objects.get(pk=document.pk)
    assert document.is_sealed
    report = verify_pdf(read_blob(document.sealed_blob))
    kinds = {check.field: check.kind for check in report.signatures}
    assert kinds[f"party-{defendant.pk}"] == "paper_signature"
    assert all(check.valid for check in report.signatures)


def court_records_paper(world, document, party, **changes):
    from documents.services import in_person

    return in_person.record_in_person_act(
        case=world.case,
        actor=changes.pop("actor", world.mediator),
        party=party,
        kind=InPersonAct.Kind.RECORD_PAPER_SIGNATURE,
        person_name="赵老伯",
        capacity="legal_representative",
        place="court",
        place_detail="第三调解室",
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        scan_file=scan_png(),
        court_document=document,
    )


def test_a_paper_signature_is_refused_for_a_place_already_signed(world):
    document = sent_record(world)
    sign(document, world.defendant, f"party-{world.defendant_participant.party_id}")
    with pytest.raises(TransitionNotAllowed):
        court_records_paper(world, document, world.defendant_participant.party)
    assert not InPersonAct.objects.exists()


def test_the_paper_signature_form_is_the_mediators(world, client):
    document = sent_record(world)
    record = document.mediation_record
    url = reverse("mediation_record_paper_signature", args=[record.pk])
    client.force_login(world.defendant)
    assert client.post(url, {}).status_code == 404
    client.force_login(world.mediator)
    page = client.get(reverse("court_document_sign", args=[document.pk]))
    assert "data-record-paper-signature" in page.content.decode()
    response = client.post(
        url,
        {
            "party": world.defendant_participant.party_id,
            "person_name": "赵老伯",
            "capacity": "legal_representative",
            "place": "court",
            "place_detail": "",
            "occurred_at": timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "scan": scan_png(),
        },
    )
    assert response.status_code == 302
    assert InPersonAct.objects.get().court_document_id == document.pk


# A caucus's record -----------------------------------------------------------------------------


def test_a_caucus_record_stays_with_its_side_and_the_court(world, client):
    document = sent_record(world, RoomKind.CAUCUS_PLAINTIFF)
    assert [entry["slot"] for entry in document.signature_slots] == [
        f"party-{world.plaintiff_participant.party_id}",
        "mediator",
    ]
    # Room events: the plaintiff's caucus only, never the joint room.
    kinds = RoomEntry.objects.filter(kind__startswith="court_document.").values_list("room__kind", flat=True)
    assert set(kinds) == {RoomKind.CAUCUS_PLAINTIFF}
    # Notices: the plaintiff's side only.
    assert not Notification.objects.filter(recipient=world.defendant).filter(kind__startswith="mediation_record")
    # Pages: the defendant sees neither the record, nor its row, nor its document.
    client.force_login(world.defendant)
    case_page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert "data-mediation-records" not in case_page
    assert client.get(reverse("court_document_sign", args=[document.pk])).status_code == 404
    assert client.get(reverse("court_document_pdf", args=[document.pk, "latest"])).status_code == 404
    for reader in (world.plaintiff, world.judge):
        client.force_login(reader)
        assert client.get(reverse("court_document_sign", args=[document.pk])).status_code == 200
        assert (
            f'data-record-session="{document.mediation_record.session_id}"'
            in client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
        )
    # Sealed, it still stays out of the other side's room.
    sign_all(world, document)
    kinds = RoomEntry.objects.filter(kind__startswith="court_document.").values_list("room__kind", flat=True)
    assert set(kinds) == {RoomKind.CAUCUS_PLAINTIFF}


def test_a_draft_is_the_mediators_alone(world, client):
    record = written_record(world)
    for user in (world.plaintiff, world.judge):
        assert not mediation_records.may_read_record(user, record)
        client.force_login(user)
        assert "data-mediation-records" not in client.get(reverse("case_detail", args=[world.case.pk])).content.decode()


# Where sealed records go ---------------------------------------------------------------------------


def test_the_filing_package_holds_the_joint_sessions_sealed_records_not_a_caucuss(world):
    joint = sign_all(world, sent_record(world))
    caucus = sign_all(world, sent_record(world, RoomKind.CAUCUS_DEFENDANT))
    with TestCase.captureOnCommitCallbacks(execute=True):
        cases.fail_case(case=world.case, actor=world.mediator, reason="双方分歧过大。")
    package = CourtDocument.objects.get(case=world.case, kind=CourtDocument.Kind.FILING_PACKAGE)
    listed = [item["verification_code"] for item in package.content["mediation_records"]]
    assert listed == [joint.verification_code]
    assert caucus.verification_code not in str(package.content)
    [item] = package.content["mediation_records"]
    reader = PdfReader(__import__("io").BytesIO(read_blob(package.sealed_blob)))
    assert reader.attachments[item["attachment"]][0] == read_blob(joint.sealed_blob)


def test_the_confirmation_file_shows_the_sealed_records_to_the_judge(world, client):
    from documents.models import Agreement
    from tests.confirmations import Settled, applied
    from tests.in_person import locked_agreement

    document = sign_all(world, sent_record(world))
    agreement = locked_agreement(world)
    # Stand-in for the agreement's signatures and seal, as tests.confirmations.settled_case.
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.SEALED, sealed_at=timezone.now())
    cases.settle_case(case=world.case, actor=world.mediator, note="", data={"agreement": agreement.pk})
    agreement.refresh_from_db()
    confirmation = applied(Settled(world=world, agreement=agreement))
    client.force_login(world.judge)
    page = client.get(reverse("confirmation_detail", args=[confirmation.pk])).content.decode()
    assert f'data-record="{document.verification_code}"' in page


def test_an_agent_signs_the_record_by_general_authority_but_not_the_agreement(people):
    """The record says what was said at the session: the agent who attended signs it
    without special authority to settle, which only the documents that bind the party
    (the agreement, the application for confirmation) ask for."""
    world = make_case(people["mediator"], people["judge"], agent_authority=False, label="G")
    document = sent_record(world)
    [plaintiff_slot] = [entry["slot"] for entry in document.signature_slots if entry.get("side") == "plaintiff"]
    assert court_documents.court_document_signing_refusal(document, world.plaintiff, plaintiff_slot) is None
    assert court_documents.authority_refusals(document, world.plaintiff) == []
    sign(document, world.plaintiff, plaintiff_slot)
    assert plaintiff_slot in court_documents.signed_slots(CourtDocument.objects.get(pk=document.pk))


def test_the_record_names_the_mediator_who_attended_not_one_who_took_the_case_over(world):
    """Written by the mediator who held the session, sent after the case passed to
    another: the record says who attended, not who mediates the case now."""
    from mediation.models import MediationCase

    record = written_record(world)
    held_by = world.mediator
    successor = UserFactory(full_name="Successor Mediator")
    MediationCase.objects.filter(pk=world.case.pk).update(mediator=successor)
    record.case.refresh_from_db()
    record = mediation_records.send_record_for_signature(record=record, actor=successor)
    attendees = record.document.content["attendees"]
    assert {"name": str(held_by), "role": "mediator"} in attendees
    assert str(successor) not in [row["name"] for row in attendees]
