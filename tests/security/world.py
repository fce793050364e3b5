"""One court with an object behind every URL parameter and a person in every role,
built once per test module inside a transaction that is rolled back at its end (each
test runs in a savepoint of it, so what a test changes is undone).

Case A (the report's case) has the mediator, the judge, the plaintiff's agent and the
defendant's representative; case B has the other mediator and a party of its own."""

from __future__ import annotations

import datetime as dt
import io
from contextlib import contextmanager
from types import SimpleNamespace

from django.conf import settings as django_settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from pypdf import PdfWriter

from documents.models import CourtDocument, Document, JudicialConfirmation
from documents.pki import load_platform_pki
from documents.services import agreements, mediation_records, performance, powers_of_attorney, serving
from documents.services.storage import store_blob
from documents.services.uploads import upload_document
from mediation.models import IdentityCheck, Notification, WorkOrder
from mediation.notifications import notify
from mediation.roles import Role
from mediation.services import cases, sessions, supervision
from mediation.services.api_tokens import create_api_token
from mediation.services.invitations import invite_participant
from tests.cases import make_case
from tests.factories import DepartmentFactory, UserFactory, staff
from tests.identities import valid_id_number, verify_in_person, verify_phone
from tests.in_person import record as record_in_person
from tests.mediation_records import record_data
from tests.recordings import stored_recording
from tests.roster import make_roster_world
from tests.workflows import order_in_state, refer

# Side-only facts the world holds, for the tests that no channel shows them to the
# other side: the staff's notes on each side's caucus session, and the addresses the
# steps of service were taken from (the court's only).
PRIVATE_NOTES = {
    "plaintiff": "PRIVATE: plaintiff will accept 60 percent",
    "defendant": "PRIVATE: defendant's bottom line 8000 yuan",
}
# Why the mediator rejected the plaintiff's agent's first power of attorney: for the
# plaintiff's side and the court only.
POWER_OF_ATTORNEY_REASON = "PRIVATE: the plaintiff's power of attorney lacks the company seal"
POWER_OF_ATTORNEY_FILE = "Plaintiff agent power of attorney.pdf"
MEDIATOR_IP = "198.51.100.10"
DEFENDANT_IP = "203.0.113.7"

ROLES = [
    "anonymous",
    "no_role",
    "general_liaison",
    "department_liaison",
    "department_head",
    "judge",
    "other_judge",
    "mediator",
    "other_mediator",
    "plaintiff",
    "defendant",
    "other_party",
    "organisation_admin",
    "superuser",
]


def storages_at(location) -> dict:
    return {
        **django_settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }


@contextmanager
def module_world(django_db_blocker, files_dir, platform_keys):
    """Build the court in a transaction that stays open for the module."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        with django_db_blocker.unblock(), override_settings(STORAGES=storages_at(files_dir), **platform_keys):
            load_platform_pki.cache_clear()
            try:
                built = build_court()
            finally:
                load_platform_pki.cache_clear()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def pdf_file(title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def build_court() -> SimpleNamespace:
    filing = DepartmentFactory(name="Filing division", code="filing")
    civil = DepartmentFactory(name="Second civil division", code="civil-2")
    people = {
        "general_liaison": staff(Role.GENERAL_LIAISON, filing, full_name="Li Jing"),
        "department_liaison": staff(Role.DEPARTMENT_LIAISON, civil, full_name="Zhao Min"),
        "department_head": staff(Role.DEPARTMENT_HEAD, civil, full_name="Chen Gang"),
        "judge": staff(Role.JUDGE, civil, full_name="Zhang Wei"),
        "other_judge": staff(Role.JUDGE, civil, full_name="Wang Fang"),
        "mediator": staff(Role.MEDIATOR, filing, full_name="Liu Yang"),
        "other_mediator": staff(Role.MEDIATOR, filing, full_name="Sun Li"),
        "no_role": UserFactory(full_name="No Role"),
        "superuser": UserFactory(full_name="Operator", is_superuser=True, is_staff=True),
    }
    # The helpers of tests.workflows name people by the conftest's names.
    workflow_people = {
        "liaison": people["general_liaison"],
        "dept_liaison": people["department_liaison"],
        "judge": people["judge"],
    }
    orders = {status: order_in_state(status, workflow_people) for status in WorkOrder.Status}
    # The judge's order in progress carries a supervision notice for its handlers.
    notice = supervision.issue_supervision_notice(
        order=orders[WorkOrder.Status.IN_PROGRESS],
        actor=people["general_liaison"],
        content="Call the requester back today.",
        due_at=timezone.now() + dt.timedelta(days=1),
    )

    case_a = make_case(people["mediator"], people["judge"], label="A")
    case_b = make_case(people["other_mediator"], None, label="B")
    people.update(plaintiff=case_a.plaintiff, defendant=case_a.defendant, other_party=case_b.plaintiff)

    mediator = people["mediator"]
    documents = {
        visibility: upload_document(
            case=case_a.case,
            actor=mediator,
            data=pdf_file(f"{visibility} document"),
            filename=f"{visibility}.pdf",
            title=f"For {visibility}",
            kind=Document.Kind.EVIDENCE,
            visibility=visibility,
        )
        for visibility in Document.Visibility.values
    }
    serving.record_consent(case=case_a.case, user=case_a.defendant, email=case_a.defendant.email)
    service_shared = serving.serve_electronically(
        case=case_a.case, actor=mediator, recipient=case_a.defendant, documents=[documents["case"]], ip=MEDIATOR_IP
    )
    service_private = serving.serve_electronically(
        case=case_a.case, actor=mediator, recipient=case_a.defendant, documents=[documents["defendant"]], ip=MEDIATOR_IP
    )
    serving.mark_opened(service=service_shared, user=case_a.defendant, ip=DEFENDANT_IP)
    # A session in each caucus, the defendant's in progress, with the mediator's notes.
    caucus_sessions = {
        side: sessions.schedule_session(
            case=case_a.case,
            actor=mediator,
            starts_at=timezone.now() + dt.timedelta(days=1),
            room_kind=f"caucus_{side}",
            note=note,
        )
        for side, note in PRIVATE_NOTES.items()
    }
    sessions.start_session(session=caucus_sessions["defendant"], actor=mediator)

    agreement = agreements.start_agreement(case=case_a.case, actor=mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=[
            {
                "kind": "payment",
                "obligor": case_a.defendant_participant.party_id,
                "obligee": case_a.plaintiff_participant.party_id,
                "amount": "500000",
                "method": "银行转账",
                "due_date": "2026-12-31",
            }
        ],
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=mediator)
    agreement.refresh_from_db()
    # The term as an obligation to perform (made at sealing; here from the locked
    # version, so that who may reach the performance page and its actions is tested
    # without signing): the defendant owes it to the plaintiff, due, whatever today is.
    [obligation] = performance.create_obligations(agreement, today=dt.date(2026, 12, 1))

    # An application for judicial confirmation being signed, its document laid out
    # (stored as it is: the pages read it, nobody signs it here).
    court_document = CourtDocument.objects.create(
        case=case_a.case,
        kind=CourtDocument.Kind.CONFIRMATION_APPLICATION,
        verification_code="MTRX-CORT-DOC1",
        content={"terms": [], "parties": [], "agreement": {"verification_code": agreement.verification_code}},
        content_hash="0" * 64,
        signature_slots=[],
        locked_blob=(blob := store_blob(pdf_file("application"), "application/pdf")),
        latest_blob=blob,
    )
    confirmation = JudicialConfirmation.objects.create(
        case=case_a.case,
        agreement=agreement,
        application=court_document,
        judge=people["judge"],
        started_by=mediator,
        apply_by=timezone.localdate() + dt.timedelta(days=30),
    )

    _invitation, invitation_token = invite_participant(
        case=case_a.case,
        actor=mediator,
        party=case_a.defendant_participant.party,
        role="agent",
        full_name="Invited Agent",
        phone="+8613700001111",
        email="invitee@example.test",
    )
    # The plaintiff's agent's powers of attorney: one rejected (with a side-only
    # reason), one waiting for the mediator's check.
    plaintiff_agent = case_a.plaintiff_participant
    rejected_power = powers_of_attorney.submit_power_of_attorney(
        participant=plaintiff_agent,
        actor=case_a.plaintiff,
        data=pdf_file("first power"),
        filename="First power of attorney.pdf",
    )
    powers_of_attorney.reject_power_of_attorney(power=rejected_power, actor=mediator, reason=POWER_OF_ATTORNEY_REASON)
    submitted_power = powers_of_attorney.submit_power_of_attorney(
        participant=plaintiff_agent,
        actor=case_a.plaintiff,
        data=pdf_file("second power"),
        filename=POWER_OF_ATTORNEY_FILE,
    )
    notification = notify(
        recipients=[case_a.plaintiff],
        kind="case.joined",
        params={"name": str(case_a.defendant), "number": case_a.case.number},
        url=f"/cases/{case_a.case.pk}/",
        email=False,
    )[0]
    _token, api_token = create_api_token(name="hotline")
    # The plaintiff's agent's ID card was checked in person; the defendant's
    # representative has a verified mobile number only, so a check can be recorded.
    verify_in_person(
        verify_phone(case_a.plaintiff, "+8613800138001"),
        by=mediator,
        full_name="王志强",
        id_number=valid_id_number("11010519800101001"),
        case=case_a.case,
    )
    verify_phone(case_a.defendant, "+8613800138002")
    # The roster (issue 20): adds people["organisation_admin"].
    roster = make_roster_world(people)

    # The defendant's consent to mediation, given in person (part offline): its scan is
    # the defendant's side's and the court's; it waits for the second confirmation.
    in_person_act = record_in_person(case_a, kind="consent")
    # A failed mediation of an order the judge handles, and its filing package.
    failed_case = refer(order_in_state(WorkOrder.Status.DISPATCHED, workflow_people), people["judge"], mediator)
    cases.fail_case(case=failed_case, actor=mediator, reason="No agreement.")

    # Issue 21: a recording of case A's joint room, stored (the parties may not see it
    # until the judge allows), and the mediator's draft record of the defendant's
    # caucus session.
    recording_document = stored_recording(case_a, case_a.joint)
    caucus_record = mediation_records.write_record(
        session=caucus_sessions["defendant"],
        actor=mediator,
        data=record_data(case_a, caucus_sessions["defendant"]),
    )

    return SimpleNamespace(
        people=people,
        civil=civil,
        orders=orders,
        judges_order=orders[WorkOrder.Status.IN_PROGRESS],
        notice=notice,
        case=case_a,
        other_case=case_b,
        documents=documents,
        service=service_shared,
        private_service=service_private,
        agreement=agreement,
        obligation=obligation,
        court_document=court_document,
        confirmation=confirmation,
        invitation_token=invitation_token,
        rejected_power=rejected_power,
        submitted_power=submitted_power,
        notification=Notification.objects.get(pk=notification.pk),
        api_token=api_token,
        identity_check=IdentityCheck.objects.get(user=case_a.plaintiff),
        in_person_act=in_person_act,
        recording_document=recording_document,
        caucus_session=caucus_sessions["defendant"],
        caucus_record=caucus_record,
        roster=roster,
        failed_case=failed_case,
    )
