"""Mediation figures: the figures page's mediation section and its exports, a
mediator's own page (load and outcomes), and the annual assessment of mediators."""

import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from mediation import case_figures_report, policy
from mediation.forms import FiguresPeriodForm
from mediation.models import User
from mediation.selectors.case_figures import assessment, case_figures, mediator_load
from mediation.views.figures import XLSX, _department_name, _errors, _figures, _period_form

# What the assessment may be sorted by: the mediator's name and each column.
ASSESSMENT_SORTS = ("mediator", *(key for key, _label in case_figures_report.ASSESSMENT_COLUMNS))


def figures_of_period(request, figures: dict) -> dict:
    """The mediation figures over the years of the figures page's period, for the
    reader's department (the whole court for the general liaison)."""
    return case_figures(
        year_from=figures["period"].first[0],
        year_to=figures["period"].last[0],
        department_id=policy.figures_department(request.user),
    )


def page_context(request, figures: dict) -> dict:
    """What the figures page's "Mediation" section shows."""
    mediation = figures_of_period(request, figures)
    return {
        "mediation_tables": case_figures_report.tables(mediation),
        "mediation_columns": case_figures_report.COLUMNS,
        "mediation_definitions": case_figures_report.DEFINITIONS,
    }


def _csv_response(rows: list[list], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    # The byte-order mark makes Excel read the Chinese headers as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def figures_cases_csv(request):
    """The mediation figures in a CSV of their own: by year, mediator, organisation,
    department and cause of action, one table after the other."""
    form = _period_form(request)
    figures = _figures(request, form)
    if figures is None:
        return HttpResponseBadRequest(_errors(form), content_type="text/plain; charset=utf-8")
    rows = case_figures_report.csv_rows(figures_of_period(request, figures))
    return _csv_response(rows, case_figures_report.filename(figures["period"], "csv"))


@login_required
def figures_cases_xlsx(request):
    form = _period_form(request)
    figures = _figures(request, form)
    if figures is None:
        return HttpResponseBadRequest(_errors(form), content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        case_figures_report.workbook(
            figures_of_period(request, figures), figures["period"], department_name=_department_name(figures)
        ),
        content_type=XLSX,
    )
    response["Content-Disposition"] = content_disposition_header(
        True, case_figures_report.filename(figures["period"], "xlsx")
    )
    return response


def _year(request, name: str, default: int) -> tuple[int | None, str]:
    """A year from the query (`default` when absent) and the error that refuses it."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default, ""
    last = timezone.localdate().year
    first = FiguresPeriodForm.FIRST_YEAR
    if not raw.isdigit() or not first <= int(raw) <= last:
        return None, _("Enter a year from %(first)d to %(last)d.") % {"first": first, "last": last}
    return int(raw), ""


def _dashboard(request, mediator: User):
    today = timezone.localdate()
    year_from, error_from = _year(request, "from", today.year - 2)
    year_to, error_to = _year(request, "to", today.year)
    error = error_from or error_to
    if not error and year_from > year_to:
        error = _("The last year must not be before the first.")
    context = {
        "mediator": mediator,
        "is_self": mediator.pk == request.user.pk,
        "load": mediator_load(mediator, today=today),
        "year_from": year_from if year_from is not None else request.GET.get("from", ""),
        "year_to": year_to if year_to is not None else request.GET.get("to", ""),
        "error": error,
        "columns": case_figures_report.COLUMNS,
        "definitions": case_figures_report.DEFINITIONS,
    }
    if error:
        return render(request, "mediation/mediator_dashboard.html", {**context, "years": None}, status=400)
    figures = case_figures(year_from=year_from, year_to=year_to, mediator_id=mediator.pk)
    context["years"] = case_figures_report.tables(figures)[0]["rows"]
    return render(request, "mediation/mediator_dashboard.html", context)


@login_required
def mediator_dashboard(request):
    """The signed-in mediator's own page: their load now and their outcomes per year."""
    if not policy.is_mediator(request.user):
        raise PermissionDenied
    return _dashboard(request, request.user)


@login_required
def mediator_dashboard_of(request, user_id: int):
    """A mediator's page as the staff who supervise see it (and the mediator themself)."""
    mediator = get_object_or_404(User, pk=user_id)
    if not policy.can_see_mediator_figures(request.user, mediator):
        raise PermissionDenied
    if not policy.is_mediator(mediator):
        raise Http404
    return _dashboard(request, mediator)


def _assessment_rows(request, year: int) -> list[dict]:
    """Each mediator's figures for the year, with the voluntary performance rate of
    their agreements as the documents app counts it (through its signal)."""
    from mediation import signals

    department_id = policy.figures_department(request.user)
    rows = assessment(year=year, department_id=department_id)
    # Without the documents app's answer, the rate is not available (None).
    answers = signals.answers(signals.after_seal_figures, year_from=year, year_to=year, department_id=department_id)
    performance = {
        row["mediator"]["id"]: row["voluntary_performance_rate"]
        for answer in answers[:1]
        for row in answer.get("by_mediator", [])
        if row["mediator"]
    }
    # Department staff open the pages of their own department's mediators only
    # (policy.can_see_mediator_figures); the others' names are not links.
    departments = dict(
        User.objects.filter(pk__in=[row["mediator"]["id"] for row in rows]).values_list("pk", "department_id")
    )
    return [
        {
            **row,
            "voluntary_performance_rate": performance.get(row["mediator"]["id"]),
            "page": department_id is None or departments.get(row["mediator"]["id"]) == department_id,
        }
        for row in rows
    ]


def _sorted(rows: list[dict], sort: str) -> list[dict]:
    key = sort.lstrip("-")
    if key not in ASSESSMENT_SORTS:
        return rows
    descending = sort.startswith("-")

    def value(row):
        if key in ("mediator", "organisation"):
            return (row[key] or {}).get("name", "")
        return row[key]

    # Rows without the figure (no case concluded: no rate) go last either way.
    present = [row for row in rows if value(row) is not None]
    absent = [row for row in rows if value(row) is None]
    return sorted(present, key=value, reverse=descending) + absent


def _assessment_year(request):
    if not policy.can_see_figures(request.user):
        raise PermissionDenied
    return _year(request, "year", timezone.localdate().year)


@login_required
def mediator_assessment(request):
    """The annual assessment: each mediator's figures for the year, sortable."""
    year, error = _assessment_year(request)
    sort = request.GET.get("sort", "mediator")
    context = {
        "year": year if year is not None else request.GET.get("year", ""),
        "error": error,
        "sort": sort,
        "columns": case_figures_report.ASSESSMENT_COLUMNS,
        "definitions": case_figures_report.DEFINITIONS,
    }
    if error:
        return render(request, "mediation/mediator_assessment.html", {**context, "rows": None}, status=400)
    context["rows"] = _sorted(_assessment_rows(request, year), sort)
    return render(request, "mediation/mediator_assessment.html", context)


@login_required
def mediator_assessment_csv(request):
    year, error = _assessment_year(request)
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
    rows = _sorted(_assessment_rows(request, year), request.GET.get("sort", "mediator"))
    return _csv_response(
        case_figures_report.assessment_csv_rows(rows, year), case_figures_report.assessment_filename(year)
    )
