import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from mediation import figures_report, policy
from mediation.forms import FiguresPeriodForm
from mediation.models import Department
from mediation.selectors.stats import work_order_figures

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period_form(request) -> FiguresPeriodForm:
    """The period asked for; what the request leaves out is this year's: the last
    three years, this quarter, this month."""
    today = timezone.localdate()
    defaults = {
        "period": FiguresPeriodForm.Kind.YEAR,
        "from": today.year - 2,
        "to": today.year,
        "year": today.year,
        "quarter": (today.month - 1) // 3 + 1,
        "month": f"{today.year}-{today.month:02d}",
    }
    return FiguresPeriodForm({**defaults, **request.GET.dict()}, today=today)


def _figures(request, form) -> dict:
    if not policy.can_see_figures(request.user):
        raise PermissionDenied
    if not form.is_valid():
        return None
    return work_order_figures(period=form.cleaned_data["span"], department_id=policy.figures_department(request.user))


def _after_seal(request, figures: dict) -> dict:
    """Judicial confirmation and performance over the years of the period asked for."""
    from mediation import signals

    [answer] = signals.answers(
        signals.after_seal_figures,
        year_from=figures["period"].first[0],
        year_to=figures["period"].last[0],
        department_id=policy.figures_department(request.user),
    )
    return answer


def _department_name(figures: dict) -> str:
    department_id = figures["department"]
    department = Department.objects.filter(pk=department_id).first() if department_id else None
    return department.name if department else ""


def _errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@login_required
def figures_page(request):
    form = _period_form(request)
    figures = _figures(request, form)
    if figures is None:
        # A bad period: say so and show no figures rather than a guess at what was meant.
        return render(request, "mediation/figures.html", {"form": form, "figures": None}, status=400)
    from mediation.views import case_figures

    tables = figures_report.tables(figures)
    after_seal = _after_seal(request, figures)
    return render(
        request,
        "mediation/figures.html",
        {
            "form": form,
            "figures": figures,
            "period_label": figures_report.period_label(figures["period"]),
            "period_dates": figures_report.period_dates(figures["period"]),
            "main_table": tables[0],
            "breakdowns": tables[1:],
            "after_seal": after_seal,
            "after_seal_tables": figures_report.after_seal_tables(after_seal),
            "after_seal_columns": figures_report.AFTER_SEAL_COLUMNS,
            **case_figures.page_context(request, figures),
            "department_name": _department_name(figures),
            "export_query": request.GET.urlencode(),
            "chart_data": {
                "labels": [row["label"] for row in tables[0]["rows"]],
                "received": [row["received"] for row in figures["rows"]],
                "closed": [row["closed"] for row in figures["rows"]],
                "closed_on_time": [row["closed_on_time"] for row in figures["rows"]],
                "series_labels": [str(_("Received")), str(_("Closed")), str(_("Closed on time"))],
            },
        },
    )


def _csv_table(figures: dict) -> list[list]:
    main = figures_report.tables(figures)[0]
    columns = figures_report.COUNT_COLUMNS + figures_report.RATE_COLUMNS
    header = [main["heading"], *(str(label) for _key, label in columns)]
    rows = [[row["label"], *("" if row[key] is None else row[key] for key, _label in columns)] for row in main["rows"]]
    footer = [str(_("Compound annual growth of received orders")), figures["received_cagr"] or ""]
    return [header, *rows, [], footer]


@login_required
def figures_csv(request):
    form = _period_form(request)
    figures = _figures(request, form)
    if figures is None:
        return HttpResponseBadRequest(_errors(form), content_type="text/plain; charset=utf-8")
    buffer = io.StringIO()
    csv.writer(buffer).writerows(_csv_table(figures))
    # The byte-order mark makes Excel read the Chinese headers as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, figures_report.filename(figures["period"], "csv")
    )
    return response


@login_required
def figures_xlsx(request):
    form = _period_form(request)
    figures = _figures(request, form)
    if figures is None:
        return HttpResponseBadRequest(_errors(form), content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        figures_report.workbook(figures, department_name=_department_name(figures)),
        content_type=XLSX,
    )
    response["Content-Disposition"] = content_disposition_header(
        True, figures_report.filename(figures["period"], "xlsx")
    )
    return response


@login_required
def figures_after_seal_csv(request):
    """Judicial confirmation and performance, in a CSV of its own: by year, by
    mediator, by department, one table after the other."""
    form = _period_form(request)
    figures = _figures(request, form)
    if figures is None:
        return HttpResponseBadRequest(_errors(form), content_type="text/plain; charset=utf-8")
    buffer = io.StringIO()
    csv.writer(buffer).writerows(figures_report.after_seal_csv_rows(_after_seal(request, figures)))
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, figures_report.after_seal_filename(figures["period"], "csv")
    )
    return response


@login_required
def figures_after_seal_xlsx(request):
    form = _period_form(request)
    figures = _figures(request, form)
    if figures is None:
        return HttpResponseBadRequest(_errors(form), content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        figures_report.after_seal_workbook(
            _after_seal(request, figures), figures["period"], department_name=_department_name(figures)
        ),
        content_type=XLSX,
    )
    response["Content-Disposition"] = content_disposition_header(
        True, figures_report.after_seal_filename(figures["period"], "xlsx")
    )
    return response
