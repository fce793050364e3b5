"""Demo data for `make run`: the report's court, its people and a dozen work orders
in various states, created through the services so that timelines and the audit
trail are real. Idempotent: people and orders are looked up by email and by
external id before anything is created."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from mediation.models import Department, MediationCase, ParticipantRole, User, WorkOrder
from mediation.roles import Role
from mediation.services import cases, sessions, supervision, work_orders

DEMO_PASSWORD = "mediate-demo-2026"
DEMO_SOURCE = "demo"

DEPARTMENTS = [
    ("filing", "立案庭/诉讼服务中心"),
    ("civil-1", "民一庭"),
    ("civil-2", "民二庭"),
    ("enforcement", "执行局"),
]


@dataclass(frozen=True)
class DemoPerson:
    email: str
    full_name: str
    department: str | None
    role: Role | None
    superuser: bool = False


STAFF = [
    DemoPerson("liaison@demo.court", "李静", "filing", Role.GENERAL_LIAISON),
    DemoPerson("dept.liaison@demo.court", "赵敏", "civil-2", Role.DEPARTMENT_LIAISON),
    DemoPerson("head@demo.court", "陈刚", "civil-2", Role.DEPARTMENT_HEAD),
    DemoPerson("judge@demo.court", "张伟", "civil-2", Role.JUDGE),
    DemoPerson("mediator@demo.court", "刘洋", "filing", Role.MEDIATOR),
    DemoPerson("admin@demo.court", "系统管理员", None, None, superuser=True),
]

REPORT_CASE_CONTENT = (
    "我司（上海某文化传媒有限公司）诉北京某科技有限公司视频制作合同纠纷一案，"
    "请求支付制作费50万元。公司急需这笔款项发放员工工资，恳请法院尽快推进。"
)


def seed_people() -> dict[str, User]:
    departments = {}
    for code, name in DEPARTMENTS:
        departments[code], _created = Department.objects.get_or_create(code=code, defaults={"name": name})
    people = {}
    for person in STAFF:
        user = User.objects.filter(email=person.email).first()
        if user is None:
            user = User(email=person.email)
        user.full_name = person.full_name
        user.department = departments[person.department] if person.department else None
        user.is_staff = person.superuser
        user.is_superuser = person.superuser
        user.set_password(DEMO_PASSWORD)
        user.save()
        if person.role:
            user.groups.add(Group.objects.get(name=person.role))
        people[person.email.split("@")[0]] = user
    people.update({f"dept:{code}": department for code, department in departments.items()})
    return people


def _receive(external_id: str, days_ago: float, **fields) -> WorkOrder | None:
    """Record a demo order unless it exists; returns None when it already did, so the
    steps that follow run once only."""
    if WorkOrder.objects.filter(external_source=DEMO_SOURCE, external_id=external_id).exists():
        return None
    order, _created = work_orders.receive_work_order(
        actor=None,
        external_source=DEMO_SOURCE,
        external_id=external_id,
        received_at=timezone.now() - dt.timedelta(days=days_ago),
        **fields,
    )
    return order


def _handled(order, people, *, department="civil-2", judge=True) -> WorkOrder:
    order = work_orders.dispatch_work_order(
        order=order,
        actor=people["liaison"],
        department=people[f"dept:{department}"],
        assignee=people["judge"] if judge else None,
    )
    return work_orders.start_work_order(order=order, actor=people["judge"] if judge else people["dept.liaison"])


def _replied(order, people, answer: str) -> WorkOrder:
    order = _handled(order, people)
    work_orders.reply_to_requester(order=order, actor=people["judge"], content=answer, channel="phone")
    return WorkOrder.objects.get(pk=order.pk)


def _closed(order, people, answer: str, outcome: str) -> WorkOrder:
    order = _replied(order, people, answer)
    order = work_orders.submit_for_confirmation(order=order, actor=people["dept.liaison"])
    return work_orders.close_work_order(order=order, actor=people["liaison"], outcome=outcome)


@transaction.atomic
def seed_work_orders(people) -> int:
    created = 0
    # The report's own case: a WeChat message urging progress because wages are due.
    order = _receive(
        "demo-01",
        2,
        channel="wechat",
        category="urge",
        requester_name="上海某文化传媒有限公司（王经理）",
        requester_phone="021-5555-0101",
        requester_role="plaintiff",
        case_number="(2026)京0107民初1234号",
        content=REPORT_CASE_CONTENT,
    )
    if order:
        _handled(order, people)
        created += 1

    order = _receive(
        "demo-02",
        0.1,
        channel="hotline",
        category="contact_judge",
        requester_name="孙丽",
        requester_phone="13800010002",
        content="想联系承办法官，询问下次开庭时间。",
    )
    created += bool(order)

    order = _receive(
        "demo-03",
        3,
        channel="portal",
        category="consultation",
        requester_name="周建国",
        requester_phone="13800010003",
        content="咨询劳动争议案件需要准备哪些起诉材料。",
    )
    created += bool(order)

    order = _receive(
        "demo-04",
        1,
        channel="window",
        category="materials",
        requester_name="吴芳",
        requester_phone="13800010004",
        case_number="(2026)京0107民初2210号",
        content="到窗口递交补充证据材料一份，请转交承办法官。",
    )
    if order:
        work_orders.dispatch_work_order(order=order, actor=people["liaison"], department=people["dept:civil-1"])
        created += 1

    order = _receive(
        "demo-05",
        2,
        channel="hotline",
        category="case_query",
        requester_name="郑强",
        requester_phone="13800010005",
        case_number="(2025)京0107执456号",
        content="查询执行案件进展，被执行人财产是否已查控。",
    )
    if order:
        order = work_orders.dispatch_work_order(order=order, actor=people["liaison"], department=people["dept:civil-2"])
        work_orders.return_work_order(order=order, actor=people["dept.liaison"], reason="执行案件，请转执行局办理。")
        created += 1

    order = _receive(
        "demo-06",
        6,
        channel="wechat",
        category="urge",
        requester_name="冯涛",
        requester_phone="13800010006",
        case_number="(2026)京0107民初3301号",
        content="买卖合同纠纷案件立案已两个月，催问何时排期。",
    )
    if order:
        order = _handled(order, people)
        work_orders.pause_work_order(order=order, actor=people["judge"], reason="等待当事人补充提交送货单原件。")
        created += 1

    order = _receive(
        "demo-07",
        4,
        channel="hotline",
        category="contact_judge",
        requester_name="陈晨",
        requester_phone="13800010007",
        case_number="(2026)京0107民初2876号",
        content="希望与法官沟通调解意向。",
    )
    if order:
        _replied(order, people, "已电话联系当事人，告知法官将于下周组织调解。")
        created += 1

    order = _receive(
        "demo-08",
        8,
        channel="portal",
        category="complaint",
        requester_name="褚亮",
        requester_phone="13800010008",
        content="反映诉讼服务大厅周末咨询窗口排队时间过长。",
    )
    if order:
        order = _replied(order, people, "已电话回复，说明周末增设咨询窗口的安排。")
        work_orders.submit_for_confirmation(order=order, actor=people["dept.liaison"], note="已答复，请确认办结。")
        created += 1

    order = _receive(
        "demo-09",
        15,
        channel="letter",
        category="other",
        requester_name="卫红",
        requester_phone="13800010009",
        content="来信询问诉讼费缓交的条件。",
    )
    if order:
        order = _closed(order, people, "已书面答复缓交条件及申请材料。", "已答复，当事人表示清楚。")
        supervision.record_return_visit(
            order=order,
            actor=people["liaison"],
            reached=True,
            resolved=True,
            satisfaction="satisfied",
            comment="对答复满意。",
        )
        created += 1

    order = _receive(
        "demo-10",
        20,
        channel="hotline",
        category="mediation_request",
        requester_name="蒋敏",
        requester_phone="13800010010",
        content="邻里房屋漏水纠纷，申请诉前调解。",
    )
    if order:
        order = _closed(order, people, "已告知诉前调解申请方式。", "已答复调解申请流程。")
        order = supervision.record_return_visit(
            order=order,
            actor=people["liaison"],
            reached=True,
            resolved=False,
            satisfaction="unsatisfied",
            comment="当事人表示尚未安排调解，不满意。",
            reopen=True,
        ).order
        work_orders.start_work_order(order=order, actor=people["judge"], note="重新联系当事人安排调解。")
        created += 1

    order = _receive(
        "demo-11",
        5,
        channel="window",
        category="consultation",
        requester_name="沈阳",
        requester_phone="13800010011",
        content="咨询网上立案材料被退回的原因。",
    )
    if order:
        order = _handled(order, people)
        supervision.issue_supervision_notice(
            order=order,
            actor=people["liaison"],
            content="请于明日前回复当事人。",
            due_at=timezone.now() + dt.timedelta(days=1),
        )
        created += 1

    order = _receive(
        "demo-12",
        1.5,
        channel="hotline",
        category="case_query",
        requester_name="韩梅",
        requester_phone="13800010012",
        case_number="(2025)京0107执789号",
        content="查询执行款何时发放。",
    )
    if order:
        work_orders.dispatch_work_order(order=order, actor=people["liaison"], department=people["dept:enforcement"])
        created += 1
    return created


PARTIES = [
    DemoPerson("plaintiff@demo.court", "王律师（原告代理人）", None, None),
    DemoPerson("defendant@demo.court", "赵总（被告法定代表人）", None, None),
]
PLAINTIFF = {
    "side": "plaintiff",
    "kind": "organisation",
    "name": "上海某文化传媒有限公司",
    "credit_code": "91310000MA1FL0X12A",
    "legal_representative": "孙某",
    "phone": "021-5555-0101",
    "address": "上海市徐汇区某路100号",
}
DEFENDANT = {
    "side": "defendant",
    "kind": "organisation",
    "name": "北京某科技有限公司",
    "credit_code": "91110107MA01ABCD3K",
    "legal_representative": "赵某",
    "phone": "010-5555-0202",
    "address": "北京市石景山区某街200号",
}
REPORT_CASE_FACTS = (
    "原告为被告制作宣传视频，双方约定制作费50万元。视频已交付验收，被告至今未付款。原告请求被告支付制作费50万元。"
)


# The demo people's identities (实名): mobile numbers (verified as by an SMS code) and,
# for those checked in person by the mediator, the resident ID number's first 17
# digits (its check digit is computed: GB 11643-1999). Made-up numbers.
DEMO_IDENTITIES = {
    "plaintiff@demo.court": ("+8613800020001", "31010419850312203"),
    "defendant@demo.court": ("+8613800020002", "11010719780905151"),
    "neighbour.a@demo.court": ("+8613800010010", "11010719620718242"),
    # The neighbours' defendant stays at "mobile verified": no ID check yet.
    "neighbour.b@demo.court": ("+8613800010013", None),
}


def demo_id_number(first_17_digits: str) -> str:
    from stdnum.cn import ric

    return first_17_digits + ric.calc_check_digit(first_17_digits + "0")


def _demo_id_card_scan(full_name: str) -> bytes:
    """A stand-in for a scanned ID card: a card-shaped PNG that says it is a demo."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (856, 540), (226, 238, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 16, 840, 524), outline=(60, 90, 130), width=6)
    draw.text((60, 60), "DEMO ID CARD SCAN - NOT A REAL DOCUMENT", fill=(60, 90, 130))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seed_identity(user: User, *, by: User, case: MediationCase) -> User:
    """Give a demo person their verified mobile number and, where DEMO_IDENTITIES has
    an ID number, an in-person ID check by `by` (the case's mediator) through the
    service. Idempotent: what is verified already is left as it is."""
    from mediation.services.identity import verify_real_name

    phone, id_digits = DEMO_IDENTITIES[user.email]
    if user.phone_verified_at is None:
        User.objects.filter(pk=user.pk).update(phone=phone, phone_verified_at=timezone.now())
        user.refresh_from_db()
    if id_digits and user.real_name_verified_at is None:
        verify_real_name(
            person=user,
            actor=by,
            full_name=user.full_name,
            id_number=demo_id_number(id_digits),
            evidence=(_demo_id_card_scan(user.full_name), "id-card.png"),
            case=case,
        )
        user.refresh_from_db()
    return user


def _party_user(person: DemoPerson) -> User:
    user = User.objects.filter(email=person.email).first() or User(email=person.email)
    user.full_name = person.full_name
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


@transaction.atomic
def seed_report_case(people) -> MediationCase:
    """The report's dispute, referred to mediation, with both companies' people in it."""
    order = WorkOrder.objects.get(external_source=DEMO_SOURCE, external_id="demo-01")
    case = order.mediation_cases.first()
    if case is not None:
        return case
    case = cases.refer_to_mediation(
        order=order,
        actor=people["judge"],
        mediator=people["mediator"],
        cause_of_action="合同纠纷（视频制作合同）",
        claim_amount=Decimal("500000.00"),
        facts=REPORT_CASE_FACTS,
    )
    plaintiff = cases.add_party(case=case, actor=people["mediator"], **PLAINTIFF)
    defendant = cases.add_party(case=case, actor=people["mediator"], **DEFENDANT)
    case = cases.lock_case(case)
    cases.attach_participant(
        case=case, party=plaintiff, user=_party_user(PARTIES[0]), role=ParticipantRole.AGENT, actor=people["mediator"]
    )
    cases.attach_participant(
        case=case,
        party=defendant,
        user=_party_user(PARTIES[1]),
        role=ParticipantRole.LEGAL_REPRESENTATIVE,
        actor=people["mediator"],
    )
    session = sessions.schedule_session(
        case=case, actor=people["mediator"], starts_at=timezone.now() + dt.timedelta(days=1), duration_minutes=90
    )
    sessions.start_session(session=session, actor=people["mediator"])
    return case


def seed(stdout) -> None:
    people = seed_people()
    created = seed_work_orders(people)
    stdout.write(
        f"work orders: {created} created, {WorkOrder.objects.filter(external_source=DEMO_SOURCE).count()} in all"
    )
    case = seed_report_case(people)
    stdout.write(f"mediation case of the report: {case.number}")
    # Both companies' people: mobile numbers and real names verified (in person, by
    # the mediator), before they sign anything.
    for person in PARTIES:
        seed_identity(User.objects.get(email=person.email), by=case.mediator, case=case)
    # The roster (issue 20): organisations, their admins and mediators, /mediators/ filled.
    from mediation.demo_roster import seed_roster

    stdout.write(f"public roster: {seed_roster(people, DEMO_PASSWORD)} mediators")
    from mediation.demo_cases import seed_organisation_cases

    stdout.write(f"cases delegated to the people's mediation committee: {seed_organisation_cases(people)}")


def demo_logins() -> list[tuple[str, str]]:
    staff = [(person.email, str(person.role.label) if person.role else "administrator") for person in STAFF]
    from mediation.demo_roster import roster_logins

    parties = [(PARTIES[0].email, "plaintiff's agent"), (PARTIES[1].email, "defendant's legal representative")]
    return [*staff, *parties, *roster_logins()]
