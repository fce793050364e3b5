import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import policy
from mediation.models import Department
from mediation.models.work_orders import Category, Channel
from mediation.selectors.stats import work_order_figures

YEAR_COLUMNS = [
    ("year", gettext_lazy("Year")),
    ("received", gettext_lazy("Received")),
    ("closed", gettext_lazy("Closed")),
    ("closed_on_time", gettext_lazy("Closed on time")),
    ("on_time_rate", gettext_lazy("On-time rate")),
    ("completion_rate", gettext_lazy("Completion rate")),
    ("reply_rate", gettext_lazy("Reply rate")),
    ("return_visit_rate", gettext_lazy("Return-visit rate")),
    ("satisfaction_rate", gettext_lazy("Satisfaction rate")),
]


def _year_range(request) -> tuple[int, int]:
    this_year = timezone.localdate().year
    try:
        year_from = int(request.GET.get("from", this_year - 2))
        year_to = int(request.GET.get("to", this_year))
    except ValueError:
        return this_year - 2, this_year
    year_from = max(2000, min(year_from, this_year))
    year_to = max(year_from, min(year_to, this_year, year_from + 50))
    return year_from, year_to


def _figures(request) -> dict:
    if not policy.can_see_figures(request.user):
        raise PermissionDenied
    year_from, year_to = _year_range(request)
    return work_order_figures(
        year_from=year_from, year_to=year_to, department_id=policy.figures_department(request.user)
    )


def _labelled(rows: list[dict], labels: dict) -> list[dict]:
    return [{**row, "label": labels.get(row["key"], row["key"] or _("Not dispatched"))} for row in rows]


@login_required
def figures_page(request):
    figures = _figures(request)
    department_id = figures["department"]
    return render(
        request,
        "mediation/figures.html",
        {
            "figures": figures,
            "by_channel": _labelled(figures["by_channel"], dict(Channel.choices)),
            "by_category": _labelled(figures["by_category"], dict(Category.choices)),
            "by_department": _labelled(figures["by_department"], {}),
            "department": Department.objects.filter(pk=department_id).first() if department_id else None,
            "chart_data": {
                "labels": [row["year"] for row in figures["years"]],
                "received": [row["received"] for row in figures["years"]],
                "closed": [row["closed"] for row in figures["years"]],
                "closed_on_time": [row["closed_on_time"] for row in figures["years"]],
                "series_labels": [str(_("Received")), str(_("Closed")), str(_("Closed on time"))],
            },
        },
    )


def _table(figures: dict) -> list[list]:
    header = [str(label) for _key, label in YEAR_COLUMNS]
    rows = [[row[key] if row[key] is not None else "" for key, _label in YEAR_COLUMNS] for row in figures["years"]]
    footer = [str(_("Compound annual growth of received orders")), figures["received_cagr"] or ""]
    return [header, *rows, [], footer]


def _filename(figures: dict, extension: str) -> str:
    return f"work-order-figures-{figures['from']}-{figures['to']}.{extension}"


@login_required
def figures_csv(request):
    figures = _figures(request)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(_table(figures))
    # The byte-order mark makes Excel read the Chinese headers as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, _filename(figures, "csv"))
    return response


@login_required
def figures_xlsx(request):
    from openpyxl import Workbook

    figures = _figures(request)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Figures"))[:31]
    for row in _table(figures):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, _filename(figures, "xlsx"))
    return response
