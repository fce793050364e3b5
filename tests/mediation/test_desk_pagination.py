"""The desk's paginator: it stops counting at a cap and fetches deep pages by key,
and shows the same orders, in the same order, as Django's own paginator."""

import datetime as dt

import pytest
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone

from mediation.models import WorkOrder
from mediation.pagination import DeskPaginator
from mediation.selectors.work_orders import DeskFilters, desk_orders
from tests.factories import WorkOrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def twelve_orders(db):
    # Two orders share each moment, so the id decides their order.
    start = timezone.now() - dt.timedelta(hours=2)
    return [WorkOrderFactory(received_at=start + dt.timedelta(minutes=index // 2)) for index in range(12)]


def numbers(page):
    return [order.number for order in page.object_list]


def test_every_page_holds_what_djangos_paginator_shows(liaison, twelve_orders):
    orders = desk_orders(liaison, DeskFilters())
    plain = Paginator(orders, 5)
    desk = DeskPaginator(orders, 5)

    assert (desk.count, desk.num_pages, desk.count_is_capped) == (12, 3, False)
    for number in plain.page_range:
        assert numbers(desk.page(number)) == numbers(plain.page(number))


def test_counting_stops_at_the_cap(liaison, twelve_orders):
    desk = DeskPaginator(desk_orders(liaison, DeskFilters()), 5, max_count=7)

    assert (desk.count, desk.num_pages, desk.count_is_capped) == (7, 2, True)
    # A page beyond the cap is not offered: get_page falls back to the last one.
    assert desk.get_page(3).number == 2
    assert numbers(desk.page(2)) == numbers(Paginator(desk_orders(liaison, DeskFilters()), 5).page(2))[:2]


def test_a_filter_exactly_at_the_cap_is_not_capped(liaison, twelve_orders):
    desk = DeskPaginator(WorkOrder.objects.order_by("-received_at", "-id"), 5, max_count=12)

    assert (desk.count, desk.count_is_capped) == (12, False)


def test_a_list_is_paginated_as_django_does(liaison):
    desk = DeskPaginator(list(range(12)), 5, max_count=7)

    assert (desk.count, desk.count_is_capped, list(desk.page(3).object_list)) == (12, False, [10, 11])


def test_the_desk_says_when_it_stopped_counting(client, liaison, twelve_orders, monkeypatch):
    monkeypatch.setattr(DeskPaginator, "max_count", 10)
    client.force_login(liaison)

    response = client.get(reverse("desk"))

    page = response.context["page"]
    assert (page.paginator.count, page.paginator.num_pages) == (10, 1)
    assert '<p class="result-count">10+</p>' in response.content.decode()


def test_the_overdue_filter_finds_the_late_running_orders(liaison, twelve_orders):
    late, paused_late, closed_late, on_time = twelve_orders[:4]
    long_ago = timezone.now() - dt.timedelta(days=30)
    WorkOrder.objects.filter(pk=late.pk).update(completion_due=long_ago)
    WorkOrder.objects.filter(pk=paused_late.pk).update(
        completion_due=long_ago, paused_at=long_ago, first_contacted_at=long_ago
    )
    WorkOrder.objects.filter(pk=closed_late.pk).update(completion_due=long_ago, status=WorkOrder.Status.CLOSED)

    overdue = desk_orders(liaison, DeskFilters(overdue=True))

    assert [order.number for order in overdue] == [late.number]
    assert on_time.number not in {order.number for order in overdue}
