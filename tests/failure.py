"""A mediation that fails, with what its filing package gathers: parties with their
identities, a served complaint, case-wide and side-only evidence, one party who
confirmed an address for service and one who did not. Built through the services."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import TestCase
from weasyprint import HTML

from documents.models import Document, Service
from documents.services import serving
from documents.services.uploads import upload_document
from mediation.models import MediationCase, User, WorkOrder
from mediation.services import cases
from tests.factories import UserFactory
from tests.workflows import order_in_state, refer

PLAINTIFF_ID_NUMBER = "11010519491231002X"
UNDISPUTED = "双方确认于2025年3月1日签订《设备买卖合同》，被告已收到全部设备。"
REASON = "双方对剩余货款金额分歧较大，调解不成。"


def pdf_of(text: str) -> bytes:
    return HTML(string=f"<html><body><h1>{text}</h1></body></html>").write_pdf()


@dataclass
class FailingWorld:
    case: MediationCase
    order: WorkOrder | None
    mediator: User
    judge: User
    plaintiff: User
    defendant: User
    complaint: Document
    evidence: Document
    side_only_evidence: Document
    complaint_bytes: bytes
    service: Service


def failing_world(people, *, with_order: bool = True) -> FailingWorld:
    """A case in mediation, referred from a dispatched order handled by the judge (or
    opened directly by the mediator), with a complaint served on the defendant, who
    consented to electronic service; the plaintiff confirmed no address."""
    mediator, judge = people["mediator"], people["judge"]
    facts = "原告向被告出售设备一批，被告尚欠货款。"
    if with_order:
        order = order_in_state(WorkOrder.Status.DISPATCHED, people)
        case = refer(order, judge, mediator, facts=facts)
    else:
        order = None
        case = cases.open_mediation_case(
            actor=mediator, cause_of_action="买卖合同纠纷", claim_amount=120000, judge=judge, facts=facts
        )
    plaintiff_party = cases.add_party(
        case=case,
        actor=mediator,
        side="plaintiff",
        kind="person",
        name="张三",
        id_number=PLAINTIFF_ID_NUMBER,
        phone="13812345678",
        address="北京市朝阳区建国路1号",
    )
    defendant_party = cases.add_party(
        case=case,
        actor=mediator,
        side="defendant",
        kind="organisation",
        name="北京某科技有限公司",
        credit_code="91310000MA1FL0000X",
        legal_representative="李四",
    )
    plaintiff = UserFactory(full_name="张三")
    defendant = UserFactory(full_name="李四")
    cases.attach_participant(case=case, party=plaintiff_party, user=plaintiff, role="party", actor=mediator)
    cases.attach_participant(
        case=case, party=defendant_party, user=defendant, role="legal_representative", actor=mediator
    )
    case = cases.start_mediation(case=case, actor=mediator)
    complaint_bytes = pdf_of("民事起诉状")
    complaint = upload_document(
        case=case,
        actor=plaintiff,
        data=complaint_bytes,
        filename="起诉状.pdf",
        kind=Document.Kind.COMPLAINT,
        title="民事起诉状",
    )
    evidence = upload_document(
        case=case,
        actor=plaintiff,
        data=pdf_of("送货单"),
        filename="送货单.pdf",
        kind=Document.Kind.EVIDENCE,
        title="送货单",
    )
    side_only = upload_document(
        case=case,
        actor=defendant,
        data=pdf_of("内部对账"),
        filename="对账.pdf",
        kind=Document.Kind.EVIDENCE,
        title="内部对账单",
        visibility=Document.Visibility.DEFENDANT,
    )
    serving.record_consent(case=case, user=defendant, email="lisi@example.com")
    with TestCase.captureOnCommitCallbacks(execute=True):
        service = serving.serve_electronically(case=case, actor=mediator, recipient=defendant, documents=[complaint])
        serving.acknowledge_service(service=service, user=defendant)
    return FailingWorld(
        case=MediationCase.objects.get(pk=case.pk),
        order=order,
        mediator=mediator,
        judge=judge,
        plaintiff=plaintiff,
        defendant=defendant,
        complaint=complaint,
        evidence=evidence,
        side_only_evidence=side_only,
        complaint_bytes=complaint_bytes,
        service=service,
    )


def fail(world: FailingWorld, *, undisputed_facts: str = UNDISPUTED) -> MediationCase:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return cases.fail_case(case=world.case, actor=world.mediator, reason=REASON, undisputed_facts=undisputed_facts)
