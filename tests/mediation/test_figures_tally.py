"""The figures' running totals are kept by database triggers: whatever writes the
orders (services, imports, bulk inserts, plain updates, deletes), the tally equals a
count of the orders themselves."""

import datetime as dt
import zoneinfo

import pytest
from django.core.management import call_command

from mediation.models import WorkOrder, WorkOrderTally
from mediation.selectors.stats import COUNTS, cells_from_orders, tally_cells
from mediation.services import supervision
from tests.factories import WorkOrderFactory
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status


def normalised(cells):
    return sorted(
        (c["year"], c["month"], c["channel"], c["category"], c["department_id"] or 0, *(c[n] for n in COUNTS))
        for c in cells
    )


def assert_tally_matches_orders():
    assert normalised(tally_cells(1900, 2999)) == normalised(cells_from_orders(WorkOrder.objects.all(), 1900, 2999))


def test_the_tally_follows_every_transition(people):
    for status in (
        Status.RECEIVED,
        Status.DISPATCHED,
        Status.IN_PROGRESS,
        Status.REPLIED,
        Status.CLOSED,
        Status.REOPENED,
    ):
        order_in_state(status, people)
    closed = order_in_state(Status.CLOSED, people)
    supervision.record_return_visit(order=closed, actor=people["liaison"], reached=True, satisfaction="basically")
    assert_tally_matches_orders()
    assert sum(cell.received for cell in WorkOrderTally.objects.all()) == 7


def test_the_tally_follows_bulk_inserts_updates_and_deletes(people):
    template = WorkOrderFactory()
    fields = {
        f.attname: getattr(template, f.attname) for f in WorkOrder._meta.concrete_fields if f.attname not in ("id",)
    }
    WorkOrder.objects.bulk_create(
        WorkOrder(
            **{**fields, "number": f"BULK-{index}", "external_id": "", "channel": "wechat" if index % 2 else "portal"}
        )
        for index in range(30)
    )
    assert_tally_matches_orders()
    WorkOrder.objects.filter(channel="wechat").update(
        channel="letter", status=Status.CLOSED, replied_at=template.received_at
    )
    assert_tally_matches_orders()
    WorkOrder.objects.filter(channel="letter").update(department=people["judge"].department)
    assert_tally_matches_orders()
    WorkOrder.objects.filter(channel="portal").delete()
    assert_tally_matches_orders()


def test_rebuild_figures_repairs_a_damaged_tally(people, capsys):
    order_in_state(Status.CLOSED, people)
    WorkOrderTally.objects.update(received=999)
    with pytest.raises(SystemExit):
        call_command("rebuild_figures", "--check")
    call_command("rebuild_figures")
    call_command("rebuild_figures", "--check")
    assert "match" in capsys.readouterr().out
    assert_tally_matches_orders()


def test_the_tally_counts_each_month_in_court_time(people):
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    # 00:30 on 1 March in Shanghai is still February in UTC: the court's month counts.
    order = WorkOrderFactory(received_at=dt.datetime(2025, 3, 1, 0, 30, tzinfo=shanghai))
    WorkOrderFactory(received_at=dt.datetime(2025, 2, 28, 23, 30, tzinfo=shanghai))
    assert_tally_matches_orders()
    assert sorted((c.year, c.month, c.received) for c in WorkOrderTally.objects.filter(year=2025)) == [
        (2025, 2, 1),
        (2025, 3, 1),
    ]
    # Moved to another month, the order moves its count with it.
    WorkOrder.objects.filter(pk=order.pk).update(received_at=dt.datetime(2025, 2, 10, 9, 0, tzinfo=shanghai))
    assert_tally_matches_orders()
    assert [(c.month, c.received) for c in WorkOrderTally.objects.filter(year=2025, received__gt=0)] == [(2, 2)]
