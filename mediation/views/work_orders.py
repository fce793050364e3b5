"""Desk pages: parse the request, authorise, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.performance_summary import order_performance
from mediation import policy
from mediation.actions.work_orders import WORK_ORDER_ACTIONS
from mediation.errors import DomainError
from mediation.forms import (
    DESK_QUEUES,
    DeskFilterForm,
    IntakeForm,
    SupervisionAnswerForm,
)
from mediation.models import Participant, SupervisionNotice
from mediation.pagination import DeskPaginator
from mediation.roles import Role, has_role
from mediation.selectors import work_orders as selectors
from mediation.services import supervision
from mediation.services import work_orders as services
from mediation.views.actions import action_forms_context, take_action
from mediation.views.forms import attach_errors

DESK_PAGE_SIZE = 25


@login_required
def home(request):
    user = request.user
    if has_role(user, Role.GENERAL_LIAISON) or user.is_superuser or has_role(user, Role.DEPARTMENT_HEAD):
        return redirect("desk")
    if has_role(user, Role.JUDGE) or has_role(user, Role.DEPARTMENT_LIAISON):
        return redirect("my_work_orders")
    if has_role(user, Role.MEDIATOR):
        return redirect("case_list")
    if Participant.active.filter(user=user).exists():
        return redirect("my_cases")
    return render(request, "mediation/home.html")


def _require_desk(user) -> None:
    if not policy.can_see_desk(user):
        raise PermissionDenied


@login_required
def desk(request):
    _require_desk(request.user)
    form = DeskFilterForm(request.GET or None)
    filters = selectors.DeskFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.DeskFilters(
            queue=data["queue"],
            include_closed=data["include_closed"],
            status=data["status"],
            overdue=data["overdue"],
            visit_due=data["visit_due"],
            category=data["category"],
            channel=data["channel"],
            department=data["department"].pk if data["department"] else None,
            assignee=data["assignee"].pk if data["assignee"] else None,
            received_from=data["received_from"],
            received_to=data["received_to"],
            query=data["q"],
        )
    orders = selectors.desk_orders(request.user, filters)
    page = DeskPaginator(orders, DESK_PAGE_SIZE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    # Each tab keeps the other filters and search, and replaces the queue.
    tabs = []
    for code, label in DESK_QUEUES:
        tab_query = query_without_page.copy()
        tab_query["queue"] = code
        tabs.append({"label": label, "query": tab_query.urlencode(), "current": code == filters.queue})
    return render(
        request,
        "mediation/desk.html",
        {
            "form": form,
            "page": page,
            "query_string": query_without_page.urlencode(),
            "tabs": tabs,
            "shows_closed": selectors.shows_closed(filters),
            "can_receive": policy.can(request.user, "receive"),
            "now": timezone.now(),
        },
    )


@login_required
def my_work_orders(request):
    orders = selectors.my_orders(request.user)
    page = Paginator(orders, DESK_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "mediation/my_orders.html", {"page": page, "now": timezone.now()})


@login_required
def intake(request):
    if not policy.can(request.user, "receive"):
        raise PermissionDenied
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order, _created = services.receive_work_order(actor=request.user, **_without_empty_time(form.cleaned_data))
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Work order %(number)s recorded.") % {"number": order.number})
            return redirect("work_order_detail", number=order.number)
    return render(request, "mediation/intake.html", {"form": form}, status=400 if form.errors else 200)


def _without_empty_time(data: dict) -> dict:
    return {key: value for key, value in data.items() if not (key == "received_at" and value is None)}


def _load(request, number):
    order = selectors.work_order_for(request.user, number)
    if order is None:
        raise Http404
    return order


@login_required
def work_order_detail(request, number, *, bound_forms=None, status=200):
    order = _load(request, number)
    notices = order.supervision_notices.select_related("issued_by", "responded_by")
    answerable = policy.can(request.user, "answer_supervision", order)
    return render(
        request,
        "mediation/order_detail.html",
        {
            "order": order,
            "timeline": selectors.timeline(order),
            "replies": order.replies.select_related("author"),
            "visits": order.return_visits.select_related("visitor"),
            "performance": order_performance(order),
            "notices": notices,
            "can_answer_notices": answerable,
            "answer_form": SupervisionAnswerForm(prefix="answer"),
            "now": timezone.now(),
            **action_forms_context(WORK_ORDER_ACTIONS, request.user, order, bound_forms),
        },
        status=status,
    )


@login_required
@require_POST
def work_order_action(request, number, action):
    order = _load(request, number)

    def render_page(**kwargs):
        return work_order_detail(request, number, **kwargs)

    def on_success(done, _result):
        messages.success(
            request,
            _("Work order %(number)s: %(action)s.")
            % {"number": order.number, "action": services.ACTION_LABELS[done.name]},
        )
        return redirect("work_order_detail", number=number)

    return take_action(request, WORK_ORDER_ACTIONS, order, action, render_page=render_page, on_success=on_success)


@login_required
@require_POST
def answer_supervision_notice(request, number, notice_id):
    order = _load(request, number)
    notice = get_object_or_404(SupervisionNotice, pk=notice_id, order=order)
    form = SupervisionAnswerForm(request.POST, prefix="answer")
    if form.is_valid():
        try:
            supervision.answer_supervision_notice(
                notice=notice, actor=request.user, response=form.cleaned_data["response"]
            )
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("work_order_detail", number=number)
        else:
            messages.success(request, _("Your answer to the supervision notice is recorded."))
            return redirect("work_order_detail", number=number)
    messages.error(request, _("Write the answer to the notice."))
    return redirect("work_order_detail", number=number)
