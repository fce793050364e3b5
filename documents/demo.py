"""Demo documents: the report's case served and settled by a sealed agreement of three
instalments, confirmed by the court in a sealed ruling, its first instalment performed
and confirmed, the second reported and waiting for the plaintiff, the third due next
month; and a second case whose agreement is half signed.

Everything goes through the services, as of now: the services refuse back-dated facts
(a payment performed before the agreement was sealed, a term overdue at sealing), so
the first instalment falls due on the day the demo is seeded and is paid that day.

Idempotent: a case that already has an agreement gets no other; the court's steps and
the payments each go only as far as they have not gone yet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from documents import selectors
from documents.models import (
    Agreement,
    CourtDocument,
    Document,
    JudicialConfirmation,
    MediationRecord,
    Obligation,
    Service,
)
from documents.models.confirmation import ConfirmationReview
from documents.reauthentication import Reauthentication
from documents.services import (
    agreements,
    confirmation_court,
    court_documents,
    mediation_records,
    performance,
    powers_of_attorney,
    serving,
)
from documents.services import confirmation as applying
from documents.services.agreement_content import instalment_terms
from documents.services.uploads import upload_document
from documents.stamps import typed_signature
from mediation.demo import DEMO_PASSWORD, DEMO_SOURCE, DemoPerson, _party_user, seed_identity
from mediation.models import MediationCase, Participant, ParticipantRole, User, WorkOrder
from mediation.services import cases, sessions, work_orders

COMPLAINT_HTML = """<html><body style="font-family: 'Noto Serif CJK SC'"><h1 style="text-align:center">民事起诉状</h1>
<p>原告：上海某文化传媒有限公司</p><p>被告：北京某科技有限公司</p>
<p>诉讼请求：判令被告支付视频制作费人民币500,000元。</p>
<p>事实与理由：原告按约为被告制作宣传视频并已交付验收，被告至今未付款。</p></body></html>"""

POWER_OF_ATTORNEY_HTML = """<html><body style="font-family: 'Noto Serif CJK SC'">
<h1 style="text-align:center">授权委托书</h1>
<p>委托人：上海某文化传媒有限公司</p><p>受托人：%(agent)s，律师</p>
<p>现委托上列受托人在委托人与北京某科技有限公司合同纠纷诉前调解一案中，作为委托人的代理人。</p>
<p>代理权限：特别授权，代为承认、放弃、变更诉讼请求，进行调解、和解，签署调解协议书。</p>
<p>代理期限：至本案调解终结。</p></body></html>"""

RECEIPT_HTML = """<html><body style="font-family: 'Noto Serif CJK SC'">
<h1 style="text-align:center">网上银行电子回单</h1>
<p>付款人：北京某科技有限公司</p><p>收款人：上海某文化传媒有限公司</p>
<p>金额：人民币%(amount)s元</p><p>用途：调解协议第%(n)s期款项</p><p>交易日期：%(date)s</p></body></html>"""

# The 500,000 yuan in three instalments, the first due the day the demo is seeded.
INSTALMENTS = 3
INSTALMENT_INTERVAL_DAYS = 15

NEIGHBOURS = [
    DemoPerson("neighbour.a@demo.court", "蒋敏", None, None),
    DemoPerson("neighbour.b@demo.court", "韩东", None, None),
]


def _complaint_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string=COMPLAINT_HTML).write_pdf()


def _power_of_attorney_pdf(agent: User) -> bytes:
    from django.utils.html import escape
    from weasyprint import HTML

    return HTML(string=POWER_OF_ATTORNEY_HTML % {"agent": escape(str(agent))}).write_pdf()


def _grant_special_authority(case: MediationCase) -> None:
    """The plaintiff's agent uploads the power of attorney; the mediator checks it
    and records its special authority to settle and sign (an agent signs only so)."""
    agents = Participant.active.filter(case=case, role=ParticipantRole.AGENT).select_related("user", "case")
    with transaction.atomic():
        for agent in agents:
            power = powers_of_attorney.submit_power_of_attorney(
                participant=agent, actor=agent.user, data=_power_of_attorney_pdf(agent.user), filename="授权委托书.pdf"
            )
            powers_of_attorney.accept_power_of_attorney(
                power=power,
                actor=case.mediator,
                may_change_claims=True,
                may_settle=True,
                may_sign_agreement=True,
                valid_until=None,
            )


def _receipt_pdf(obligation: Obligation, performed_on: dt.date) -> bytes:
    from weasyprint import HTML

    values = {"amount": f"{obligation.amount:,.2f}", "n": obligation.instalment, "date": performed_on.isoformat()}
    return HTML(string=RECEIPT_HTML % values).write_pdf()


def _sign(agreement, user, party):
    version = Agreement.objects.get(pk=agreement.pk).current_version
    with transaction.atomic():
        agreements.sign_agreement(
            agreement=agreement,
            actor=user,
            version_hash=version.content_hash,
            party=party,
            method="typed",
            image_png=typed_signature(str(user)),
            reauthentication=Reauthentication(password=DEMO_PASSWORD),
            ip="127.0.0.1",
            user_agent="seed_demo",
        )


def _settle_report_case(case: MediationCase) -> None:
    mediator = case.mediator
    plaintiff = case.parties.get(side="plaintiff")
    defendant = case.parties.get(side="defendant")
    plaintiff_user = plaintiff.participants.get(removed_at__isnull=True).user
    defendant_user = defendant.participants.get(removed_at__isnull=True).user
    with transaction.atomic():
        complaint = upload_document(
            case=case,
            actor=plaintiff_user,
            data=_complaint_pdf(),
            filename="起诉状.pdf",
            kind="complaint",
            title="民事起诉状",
        )
        serving.record_consent(case=case, user=defendant_user, email="", ip="127.0.0.1")
        served = serving.serve_electronically(
            case=case, actor=mediator, recipient=defendant_user, documents=[complaint], ip="127.0.0.1"
        )
        serving.acknowledge_service(service=served, user=defendant_user, ip="127.0.0.1")
    _grant_special_authority(case)
    agreement = agreements.start_agreement(case=case, actor=mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=mediator,
        facts=case.facts,
        terms=[
            *instalment_terms(
                obligor=defendant.pk,
                obligee=plaintiff.pk,
                total="500000",
                count=INSTALMENTS,
                first_due=timezone.localdate(),
                interval="days",
                interval_days=INSTALMENT_INTERVAL_DAYS,
                method="银行转账",
            ),
            {
                "kind": "act",
                "obligor": plaintiff.pk,
                "obligee": defendant.pk,
                "act": "原告收到全部款项后三日内撤回起诉，并不再就本合同向被告主张其他权利。",
            },
        ],
        costs="本案调解不收取费用，双方各自承担律师费等其他费用。",
        effectiveness="本协议经双方当事人及调解员签名并经平台签章后生效。",
        judicial_confirmation=True,
        # The payments are instalments: a missed one makes the rest due at once.
        default_clause={"enabled": True, "grace_days": 10, "penalty": "none"},
    )
    agreements.lock_agreement(agreement=agreement, actor=mediator)
    _sign(agreement, mediator, None)
    _sign(agreement, plaintiff_user, plaintiff)
    _sign(agreement, defendant_user, defendant)
    agreements.seal_agreement(agreement=Agreement.objects.get(pk=agreement.pk))
    _answer_the_requester(case.work_order)


def _sign_court_document(document: CourtDocument, user: User, slot: str) -> None:
    document = CourtDocument.objects.select_related("case").get(pk=document.pk)
    court_documents.sign_court_document(
        document=document,
        actor=user,
        slot=slot,
        content_hash=document.content_hash,
        method="typed",
        image_png=typed_signature(str(user)),
        reauthentication=Reauthentication(password=DEMO_PASSWORD),
        ip="127.0.0.1",
        user_agent="seed_demo",
    )


def _record_the_session(case: MediationCase) -> bool:
    """The report's session has its mediation record (调解笔录), written by the mediator,
    signed by both companies' people and the mediator, and sealed. Only what is not yet
    done; whether anything was."""
    session = mediation_records.sessions_to_record(case).order_by("started_at", "pk").first()
    if session is None:
        return False
    record = MediationRecord.objects.filter(session=session).select_related("document").first()
    if record is not None and record.document is not None and not record.document.allows("sign"):
        return False
    mediator = case.mediator
    if record is None:
        plaintiff = case.parties.get(side="plaintiff")
        defendant = case.parties.get(side="defendant")
        started = timezone.localtime(session.started_at)
        attendees = [
            f"participant-{participant.pk}"
            for participant in Participant.active.filter(case=case).order_by("party__side", "pk")
        ] + ["staff-mediator"]
        record = mediation_records.write_record(
            session=session,
            actor=mediator,
            data={
                "started_at": started,
                "ended_at": started + dt.timedelta(minutes=90),
                "mode": "video",
                "place": "",
                "recorder": "",
                "attendees": attendees,
                "others": "",
                f"statements_{plaintiff.side}": "原告已按约完成宣传视频制作并交付，被告至今未付制作费50万元。",
                f"claims_{plaintiff.side}": "请求被告支付视频制作费50万元。",
                f"statements_{defendant.side}": "被告确认收到视频，因资金周转困难未能按期付款，对欠款金额无异议。",
                f"claims_{defendant.side}": "请求分期支付。",
                "agreed": "被告欠付制作费50万元；被告分三期支付，原告收到全部款项后撤回起诉。",
                "disputed": "无。",
                "mediator_note": "双方在视频调解中就付款方式达成一致，调解员将据此起草调解协议书。",
            },
        )
    if record.is_draft:
        record = mediation_records.send_record_for_signature(record=record, actor=mediator)
    document = CourtDocument.objects.get(pk=record.document_id)
    for entry in document.signature_slots:
        if entry["slot"] in court_documents.signed_slots(document):
            continue
        if entry.get("party"):
            signer = (
                Participant.active.filter(case=case, party_id=entry["party"])
                .exclude(role__in=(ParticipantRole.INTERPRETER, ParticipantRole.HELPER))
                .first()
                .user
            )
        else:
            signer = User.objects.get(pk=entry["user"])
        _sign_court_document(document, signer, entry["slot"])
    return True


def _confirm_by_the_court(case: MediationCase, agreement: Agreement) -> JudicialConfirmation | None:
    """Judicial confirmation, each step through the services and only the steps not yet
    taken: the plaintiff's agent starts the joint application and both parties sign
    it; the judge (the case's, or one the head assigns) accepts it, records the review
    of the file, drafts a ruling confirming the agreement and signs it; its sealing
    serves it on both parties, who acknowledge it. None when the 30 days to apply have
    passed (a demo database seeded long ago)."""
    plaintiff_user, defendant_user = (
        case.parties.get(side=side).participants.get(removed_at__isnull=True).user
        for side in ("plaintiff", "defendant")
    )
    confirmation = agreement.confirmations.order_by("-pk").first()
    if confirmation is None:
        if applying.window_closed(applying.apply_by_of(agreement)):
            return None
        confirmation = applying.apply_for_confirmation(agreement=agreement, actor=plaintiff_user)
    if confirmation.status == JudicialConfirmation.Status.PREPARING:
        # The ruling is served electronically on those who consented to it.
        if selectors.consent_of(case, plaintiff_user) is None:
            serving.record_consent(case=case, user=plaintiff_user, email="", ip="127.0.0.1")
        for user in (plaintiff_user, defendant_user):
            for entry in court_documents.court_document_signer_slots(confirmation.application, user):
                _sign_court_document(confirmation.application, user, entry["slot"])
        confirmation.refresh_from_db()
    if confirmation.status == JudicialConfirmation.Status.APPLIED:
        if confirmation_court.judge_id_of(confirmation) is None:
            confirmation = confirmation_court.assign_judge(
                confirmation=confirmation,
                actor=User.objects.get(email="head@demo.court"),
                judge=User.objects.get(email="judge@demo.court"),
            )
        judge = User.objects.get(pk=confirmation_court.judge_id_of(confirmation))
        confirmation = confirmation_court.accept_confirmation(confirmation=confirmation, actor=judge)
    if confirmation.status == JudicialConfirmation.Status.ACCEPTED:
        judge = User.objects.get(pk=confirmation_court.judge_id_of(confirmation))
        if not confirmation.reviews.exists():
            confirmation_court.record_review(
                confirmation=confirmation,
                actor=judge,
                kind=ConfirmationReview.Kind.FILE,
                held_at=timezone.now(),
                note="审查了调解协议、双方当事人的身份证明及授权委托书。协议系双方自愿达成，"
                "内容不违反法律、行政法规的强制性规定，不损害国家利益、社会公共利益和他人合法权益。",
            )
        ruling = confirmation.ruling
        if ruling is None or ruling.status != CourtDocument.Status.AWAITING:
            ruling = confirmation_court.draft_ruling(
                confirmation=confirmation, actor=judge, decision=JudicialConfirmation.Decision.CONFIRM
            )
        _sign_court_document(ruling, judge, confirmation_court.JUDGE_SLOT)
        confirmation.refresh_from_db()
    if confirmation.status == JudicialConfirmation.Status.CONFIRMED:
        for user in (plaintiff_user, defendant_user):
            _acknowledge_ruling(case, confirmation, user)
    return confirmation


def _acknowledge_ruling(case: MediationCase, confirmation: JudicialConfirmation, user: User) -> None:
    ruling = Document.objects.filter(case=case, kind=Document.Kind.RULING, blob=confirmation.ruling.sealed_blob).first()
    for service in Service.objects.filter(case=case, recipient=user, documents=ruling):
        if service.allows("acknowledge"):
            serving.acknowledge_service(service=service, user=user, ip="127.0.0.1")


def _perform_instalments(case: MediationCase, agreement: Agreement) -> int:
    """The defendant pays the first instalment today (its due date) and reports it with
    the bank's receipt, and the plaintiff's agent confirms it; the defendant pays the
    second early and reports it, and it waits for the plaintiff. The third is due.
    Returns how many steps it took (none once taken)."""
    plaintiff_user, defendant_user = (
        case.parties.get(side=side).participants.get(removed_at__isnull=True).user
        for side in ("plaintiff", "defendant")
    )
    payments = list(
        agreement.obligations.filter(kind=Obligation.Kind.PAYMENT).select_related("case").order_by("due_date", "pk")
    )
    today = timezone.localdate()
    steps = 0
    for number, obligation in enumerate(payments[:2], start=1):
        if obligation.allows("report_performed"):
            steps += 1
            obligation = performance.report_performed(
                obligation=obligation,
                actor=defendant_user,
                performed_on=today,
                note=f"已通过银行转账支付第{number}期款项，回单附后。",
                receipt=_receipt_pdf(obligation, today),
                receipt_name=f"转账回单-第{number}期.pdf",
            )
        if number == 1 and obligation.allows("confirm"):
            steps += 1
            performance.confirm_performance(obligation=obligation, actor=plaintiff_user)
    return steps


def _answer_the_requester(order: WorkOrder) -> None:
    """The seal tells the requester nothing: the order's judge calls her and records
    it, and the department reports back, so the order awaits the liaison."""
    order.refresh_from_db()
    if order.status != WorkOrder.Status.IN_PROGRESS:
        return
    judge = order.assignee or User.objects.get(email="judge@demo.court")
    work_orders.reply_to_requester(
        order=order, actor=judge, content="已电话告知申请人：双方已达成调解协议并经平台签章。", channel="phone"
    )
    work_orders.submit_for_confirmation(order=order, actor=User.objects.get(email="dept.liaison@demo.court"))


@transaction.atomic
def _neighbours_case(people) -> MediationCase:
    order = WorkOrder.objects.get(external_source=DEMO_SOURCE, external_id="demo-10")
    case = order.mediation_cases.first()
    if case is not None:
        return case
    case = cases.refer_to_mediation(
        order=order,
        actor=people["liaison"],
        mediator=people["mediator"],
        cause_of_action="相邻关系纠纷（房屋漏水）",
        claim_amount=Decimal("8000.00"),
        facts="楼上住户卫生间漏水，导致楼下住户天花板及墙面受损，双方就维修及赔偿未能协商一致。",
    )
    a = cases.add_party(
        case=case, actor=people["mediator"], side="plaintiff", kind="person", name="蒋敏", phone="13800010010"
    )
    b = cases.add_party(
        case=case, actor=people["mediator"], side="defendant", kind="person", name="韩东", phone="13800010013"
    )
    case = cases.lock_case(case)
    cases.attach_participant(
        case=case, party=a, user=_party_user(NEIGHBOURS[0]), role=ParticipantRole.PARTY, actor=people["mediator"]
    )
    cases.attach_participant(
        case=case, party=b, user=_party_user(NEIGHBOURS[1]), role=ParticipantRole.PARTY, actor=people["mediator"]
    )
    session = sessions.schedule_session(
        case=case, actor=people["mediator"], starts_at=timezone.now() + dt.timedelta(hours=2), duration_minutes=60
    )
    sessions.start_session(session=session, actor=people["mediator"])
    return case


def _half_sign(case: MediationCase) -> None:
    mediator = case.mediator
    plaintiff = case.parties.get(side="plaintiff")
    defendant = case.parties.get(side="defendant")
    agreement = agreements.start_agreement(case=case, actor=mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=mediator,
        facts=case.facts,
        terms=[
            {
                "kind": "act",
                "obligor": defendant.pk,
                "obligee": plaintiff.pk,
                "act": "被告于十日内请专业人员修复卫生间防水层。",
                "due_date": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
            },
            {
                "kind": "payment",
                "obligor": defendant.pk,
                "obligee": plaintiff.pk,
                "amount": "5000",
                "method": "微信转账",
                "due_date": (timezone.localdate() + dt.timedelta(days=15)).isoformat(),
            },
        ],
        costs="本案调解不收取费用。",
        effectiveness="本协议经双方当事人及调解员签名并经平台签章后生效。",
        judicial_confirmation=False,
    )
    agreements.lock_agreement(agreement=agreement, actor=mediator)
    _sign(agreement, mediator, None)
    _sign(agreement, plaintiff.participants.get(removed_at__isnull=True).user, plaintiff)


def seed(stdout) -> None:
    report_case = MediationCase.objects.filter(
        work_order__external_source=DEMO_SOURCE, work_order__external_id="demo-01"
    ).first()
    if report_case is not None:
        if not report_case.agreements.exists():
            _settle_report_case(report_case)
            stdout.write("report's case: complaint served, agreement signed and sealed")
        sealed = report_case.agreements.filter(status=Agreement.Status.SEALED).order_by("-sealed_at").first()
        if _record_the_session(report_case):
            stdout.write("report's case: the session's mediation record signed by all and sealed")
        if sealed is not None:
            before = sealed.confirmations.values_list("status", flat=True).first()
            confirmation = _confirm_by_the_court(report_case, sealed)
            if confirmation is not None and confirmation.status != before:
                stdout.write(f"report's case: judicial confirmation {confirmation.case_number} {confirmation.status}")
            if _perform_instalments(report_case, sealed):
                stdout.write("report's case: first instalment performed and confirmed, second reported")
    people = {name: User.objects.get(email=f"{name}@demo.court") for name in ("liaison", "mediator")}
    neighbours = _neighbours_case(people)
    # One neighbour's real name checked in person; the other's mobile number only.
    for person in NEIGHBOURS:
        seed_identity(User.objects.get(email=person.email), by=people["mediator"], case=neighbours)
    if not neighbours.agreements.exists():
        _half_sign(neighbours)
        stdout.write(f"second case {neighbours.number}: agreement waiting for the defendant's signature")
