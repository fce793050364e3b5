"""Drive a work order to a given state through the services, as the people of the
`people` fixture would."""

from decimal import Decimal

from mediation.models import WorkOrder
from mediation.services import cases, supervision
from mediation.services import work_orders as services
from tests.factories import WorkOrderFactory, refresh

Status = WorkOrder.Status


def order_in_state(status: str, people: dict, **intake) -> WorkOrder:
    order = WorkOrderFactory(**intake)
    if status == Status.RECEIVED:
        return order
    judge, liaison, civil = people["judge"], people["liaison"], people["judge"].department
    services.dispatch_work_order(order=order, actor=liaison, department=civil, assignee=judge)
    if status == Status.DISPATCHED:
        return refresh(order)
    if status == Status.RETURNED:
        services.return_work_order(order=order, actor=judge, reason="Not ours")
        return refresh(order)
    services.start_work_order(order=order, actor=judge)
    if status == Status.IN_PROGRESS:
        return refresh(order)
    services.reply_to_requester(order=order, actor=judge, content="We called back.", channel="phone")
    if status == Status.REPLIED:
        return refresh(order)
    services.submit_for_confirmation(order=order, actor=people["dept_liaison"])
    if status == Status.AWAITING_CONFIRMATION:
        return refresh(order)
    services.close_work_order(order=order, actor=liaison, outcome="Answered")
    if status == Status.CLOSED:
        return refresh(order)
    supervision.record_return_visit(
        order=order, actor=liaison, reached=True, resolved=False, satisfaction="unsatisfied", reopen=True
    )
    if status == Status.REOPENED:
        return refresh(order)
    raise ValueError(status)


def refer(order, actor, mediator, **fields):
    """Refer an order to mediation with the contract dispute the case tests use."""
    return cases.refer_to_mediation(
        order=order,
        actor=actor,
        mediator=mediator,
        cause_of_action="合同纠纷",
        claim_amount=Decimal("500000"),
        **fields,
    )
