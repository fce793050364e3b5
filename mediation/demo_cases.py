"""The demo's cases of the mediation organisation (issue 20), made through the services
as people would: work orders referred by the judge and delegated to the people's
mediation committee, one in each state of delegation and of a case (waiting for
dispatch, waiting for the mediator, returned to the court, accepted, in mediation,
failed with its filing package, withdrawn); the report's case is the settled one.

Idempotent: each case belongs to a demo work order (external id "demo-org-…"), made
once with everything that follows it."""

from __future__ import annotations

from django.db import transaction

from mediation.demo import _receive
from mediation.models import MediationOrganisation, User
from mediation.services import cases, delegation, work_orders

COMMITTEE = "朝阳区八里庄街道人民调解委员会"

# (external id, days ago, requester, what they asked, cause of action, how far it goes)
DEMO_CASES = [
    (
        "demo-org-1",
        1.5,
        "周桂芳",
        "楼上邻居空调外机噪音扰民，协商不成，请求调解。",
        "相邻关系纠纷",
        "awaiting_dispatch",
    ),
    (
        "demo-org-2",
        2.5,
        "吴建华",
        "物业公司称我拖欠两年物业费，我认为服务不到位。",
        "物业服务合同纠纷",
        "awaiting_acceptance",
    ),
    ("demo-org-3", 6, "郑小红", "房东不退押金八千元。", "租赁合同纠纷", "returned"),
    ("demo-org-4", 4, "陈淑珍", "兄妹三人对母亲留下的房屋如何分割意见不一。", "继承纠纷", "accepted"),
    ("demo-org-5", 12, "刘国强", "邻居装修导致我家墙面开裂，要求赔偿修缮费用。", "相邻关系纠纷", "in_mediation"),
    ("demo-org-6", 40, "孙秀英", "前夫拒不支付孩子抚养费。", "婚姻家庭纠纷", "failed"),
    ("demo-org-7", 20, "黄志明", "物业公司停车位收费过高。", "物业服务合同纠纷", "withdrawn"),
]

STEPS = ["awaiting_dispatch", "awaiting_acceptance", "accepted", "in_mediation", "failed"]


def _parties(case, mediator: User, requester: str) -> None:
    cases.add_party(case=case, actor=mediator, side="plaintiff", kind="person", name=requester)
    cases.add_party(case=case, actor=mediator, side="defendant", kind="person", name="（对方当事人）")


@transaction.atomic
def _one(people, committee, admin, mediator, spec) -> None:
    external_id, days_ago, requester, content, cause, state = spec
    order = _receive(
        external_id,
        days_ago,
        channel="hotline",
        category="mediation_request",
        requester_name=requester,
        requester_phone=f"+86139001390{DEMO_CASES.index(spec):02d}",
        content=content,
    )
    if order is None:
        return
    judge = people["judge"]
    order = work_orders.dispatch_work_order(
        order=order, actor=people["liaison"], department=people["dept:civil-2"], assignee=judge
    )
    case = delegation.delegate_case(
        actor=judge, organisation=committee, order=order, cause_of_action=cause, facts=content
    ).case
    if state == "awaiting_dispatch":
        return
    if state == "withdrawn":
        cases.withdraw_case(case=case, actor=judge, reason="申请人表示双方已自行和解，撤回调解申请。")
        return
    chosen = mediator if state != "returned" else User.objects.get(email="mediator.yang@demo.court")
    delegation.dispatch_delegation(case=case, actor=admin, mediator=chosen)
    if state == "awaiting_acceptance":
        return
    if state == "returned":
        delegation.decline_delegation(case=case, actor=chosen, reason="本人与申请人系同一小区业主，需要回避。")
        return
    case = delegation.accept_delegation(case=case, actor=mediator)
    _parties(case, mediator, requester)
    if state == "accepted":
        return
    case = cases.start_mediation(case=case, actor=mediator)
    if state == "in_mediation":
        return
    cases.fail_case(
        case=case,
        actor=mediator,
        reason="被申请人坚持无力支付，双方对抚养费数额分歧较大，调解不成。",
        undisputed_facts="双方于2019年协议离婚，婚生子随申请人生活；被申请人自2025年3月起未支付抚养费。",
    )


def seed_organisation_cases(people) -> int:
    """The demo's delegated cases; returns how many there are."""
    committee = MediationOrganisation.objects.get(name=COMMITTEE)
    admin = User.objects.get(email="committee.admin@demo.court")
    mediator = User.objects.get(email="mediator.ma@demo.court")
    for spec in DEMO_CASES:
        _one(people, committee, admin, mediator, spec)
    return committee.delegations.count()
