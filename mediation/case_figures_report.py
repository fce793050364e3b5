"""The mediation figures as the reader sees them: tables titled and labelled in the
reader's language for the figures page, its CSV and Excel exports, a mediator's page
and the annual assessment. The numbers come from mediation.selectors.case_figures;
nothing here counts."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from mediation import causes
from mediation.figures_report import PERCENT_FORMAT, period_dates, period_label, year_label
from mediation.selectors.stats import Period

COUNT_COLUMNS = [
    ("referred", gettext_lazy("Referred")),
    ("accepted", pgettext_lazy("figures", "Accepted")),
    ("settled", pgettext_lazy("figures", "Settled")),
    ("failed", pgettext_lazy("figures", "Failed")),
    ("withdrawn", pgettext_lazy("figures", "Withdrawn")),
    ("concluded", pgettext_lazy("figures", "Concluded")),
]
RATE_COLUMN = ("settlement_rate", gettext_lazy("Settlement rate"))
DAYS_COLUMN = ("average_days_to_outcome", gettext_lazy("Average days to outcome"))
COLUMNS = [*COUNT_COLUMNS, RATE_COLUMN, DAYS_COLUMN]

ASSESSMENT_COLUMNS = [
    ("organisation", gettext_lazy("Organisation")),
    ("accepted", gettext_lazy("Cases accepted")),
    ("settled", pgettext_lazy("figures", "Settled")),
    ("failed", pgettext_lazy("figures", "Failed")),
    ("withdrawn", pgettext_lazy("figures", "Withdrawn")),
    ("settlement_rate", gettext_lazy("Settlement rate")),
    ("average_days_to_outcome", gettext_lazy("Average days to outcome")),
    ("overdue", gettext_lazy("Overdue cases")),
    ("recusals_granted", gettext_lazy("Replacements granted")),
    ("voluntary_performance_rate", gettext_lazy("Voluntary performance rate")),
]
RATE_KEYS = ("settlement_rate", "voluntary_performance_rate")
DEFINITIONS = gettext_lazy(
    "Cases count in the year they were referred. Accepted: a mediator took the case. Settled, failed, withdrawn: "
    "the case's current outcome (a settled case stays settled when the court confirms it; a case resumed after "
    "the court rejected its settlement is open again and counts when it concludes again). Settlement rate: "
    "settled of the cases concluded. Average days to outcome: calendar days from referral to conclusion, over "
    "the concluded cases. Department: the work order's department, else the judge's."
)


def filename(period: Period, extension: str) -> str:
    # Marked on its own line: xgettext does not look inside f-strings.
    name = _("mediation-figures")
    return f"{name}-{period_label(period).replace(' ', '-')}.{extension}"


def assessment_filename(year: int) -> str:
    name = _("mediator-assessment")
    return f"{name}-{year}.csv"


def _group_name(row: dict, key: str) -> str:
    if key == "cause_of_action":
        return causes.label(row[key]) or "—"
    if row[key]:
        return row[key]["name"]
    return {
        "mediator": _("No mediator yet"),
        "organisation": _("No organisation"),
        "department": _("No department"),
    }[key]


def tables(figures: dict) -> list[dict]:
    """By year, then by year and mediator, organisation, department, cause of action."""

    def named(key: str):
        return [
            {**row, "label": f"{year_label(row['year'])} · {_group_name(row, key)}"}
            for row in figures[f"by_{'cause' if key == 'cause_of_action' else key}"]
        ]

    return [
        {
            "title": _("Mediation by year"),
            "sheet": _("Mediation - years"),
            "heading": _("Year"),
            "rows": [{**row, "label": year_label(row["year"])} for row in figures["years"]],
        },
        {
            "title": _("Mediation by mediator"),
            "sheet": _("Mediation - mediators"),
            "heading": _("Year and mediator"),
            "rows": named("mediator"),
        },
        {
            "title": _("Mediation by organisation"),
            "sheet": _("Mediation - organisations"),
            "heading": _("Year and organisation"),
            "rows": named("organisation"),
        },
        {
            "title": _("Mediation by department"),
            "sheet": _("Mediation - departments"),
            "heading": _("Year and department"),
            "rows": named("department"),
        },
        {
            "title": _("Mediation by cause of action"),
            "sheet": _("Mediation - causes"),
            "heading": _("Year and cause of action"),
            "rows": named("cause_of_action"),
        },
    ]


def _cell(value):
    return "" if value is None else value


def csv_rows(figures: dict) -> list[list]:
    rows = []
    for table in tables(figures):
        rows.append([table["title"]])
        rows.append([table["heading"], *(str(label) for _key, label in COLUMNS)])
        for row in table["rows"]:
            rows.append([row["label"], *(_cell(row[key]) for key, _label in COLUMNS)])
        rows.append([])
    rows.append([str(DEFINITIONS)])
    return rows


def workbook(figures: dict, period: Period, *, department_name: str = "") -> bytes:
    """The mediation figures as an .xlsx file: one sheet per table under the title
    block, the settlement rate as a percentage."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="F2EFE8")
    title_block = [
        [settings.COURT_NAME],
        [_("Mediation figures") + (f" ({department_name})" if department_name else "")],
        [_("Period"), f"{period_label(period)}: {period_dates(period)}"],
        [_("Generated"), date_format(timezone.localtime(), "Y-m-d H:i")],
    ]
    rate_column = [key for key, _label in COLUMNS].index(RATE_COLUMN[0]) + 2
    book = Workbook()
    book.remove(book.active)
    for table in tables(figures):
        sheet = book.create_sheet(title=table["sheet"][:31])
        for line in title_block:
            sheet.append(line)
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A2"].font = Font(bold=True, size=12)
        sheet.append([table["title"]])
        sheet.cell(sheet.max_row, 1).font = bold
        sheet.append([table["heading"], *(str(label) for _key, label in COLUMNS)])
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = bold
            cell.fill = header_fill
        for row in table["rows"]:
            sheet.append([row["label"], *(row[key] for key, _label in COLUMNS)])
            sheet.cell(sheet.max_row, rate_column).number_format = PERCENT_FORMAT
        sheet.freeze_panes = sheet.cell(header_row + 1, 1)
        sheet.column_dimensions["A"].width = 36
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def assessment_cells(row: dict) -> list:
    """One mediator's line of the assessment, as the CSV has it."""
    organisation = row["organisation"]["name"] if row["organisation"] else ""
    return [row["mediator"]["name"], organisation, *(_cell(row[key]) for key, _label in ASSESSMENT_COLUMNS[1:])]


def assessment_csv_rows(rows: list[dict], year: int) -> list[list]:
    return [
        [_("Annual assessment of mediators"), year_label(year)],
        [_("Mediator"), *(str(label) for _key, label in ASSESSMENT_COLUMNS)],
        *(assessment_cells(row) for row in rows),
    ]
