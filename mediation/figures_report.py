"""The figures page's report as the reader sees it: the period's name, the tables'
titles, columns and rows in the reader's language, and the same tables as an Excel
workbook. The numbers come from mediation.selectors.stats; nothing here counts."""

from __future__ import annotations

import io
import unicodedata
from datetime import date

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from mediation.models.work_orders import Category, Channel
from mediation.selectors.stats import Period

COUNT_COLUMNS = [
    ("received", gettext_lazy("Received")),
    ("closed", gettext_lazy("Closed")),
    ("closed_on_time", gettext_lazy("Closed on time")),
]
RATE_COLUMNS = [
    ("on_time_rate", gettext_lazy("On-time rate")),
    ("completion_rate", gettext_lazy("Completion rate")),
    ("reply_rate", gettext_lazy("Reply rate")),
    ("return_visit_rate", gettext_lazy("Return-visit rate")),
    ("satisfaction_rate", gettext_lazy("Satisfaction rate")),
]
# Judicial confirmation and performance (documents.selectors_figures): counts, then the
# average days and the rate.
AFTER_SEAL_COUNT_COLUMNS = [
    ("applied", gettext_lazy("Applications for confirmation")),
    ("confirmed", pgettext_lazy("figures", "Confirmed")),
    ("rejected", pgettext_lazy("figures", "Rejected")),
    ("not_accepted", pgettext_lazy("figures", "Not accepted")),
    ("obligations_due", gettext_lazy("Obligations due")),
    ("performed_on_time", gettext_lazy("Performed on time")),
    ("performed_late", gettext_lazy("Performed late")),
    ("overdue", pgettext_lazy("figures", "Overdue")),
    ("agreements_due", gettext_lazy("Agreements with terms due")),
    ("agreements_performed_voluntarily", gettext_lazy("Performed voluntarily")),
]
AFTER_SEAL_DAYS_COLUMN = ("average_days_to_decide", gettext_lazy("Average days to decide"))
AFTER_SEAL_RATE_COLUMN = ("voluntary_performance_rate", gettext_lazy("Voluntary performance rate"))
AFTER_SEAL_COLUMNS = [*AFTER_SEAL_COUNT_COLUMNS, AFTER_SEAL_DAYS_COLUMN, AFTER_SEAL_RATE_COLUMN]
QUARTER_NAMES = {1: gettext_lazy("Q1"), 2: gettext_lazy("Q2"), 3: gettext_lazy("Q3"), 4: gettext_lazy("Q4")}
PERCENT_FORMAT = "0.0%"


def year_label(year: int) -> str:
    return pgettext("figures period", "%(year)d") % {"year": year}


def month_label(year: int, month: int) -> str:
    return date_format(date(year, month, 1), "YEAR_MONTH_FORMAT")


def period_label(period: Period) -> str:
    """The period's name in the reader's language: 2024-2026, Q1 2026, March 2026."""
    if period.kind == "quarter":
        return _("%(quarter)s %(year)d") % {"quarter": QUARTER_NAMES[period.quarter], "year": period.first[0]}
    if period.kind == "month":
        return month_label(*period.first)
    first, last = period.first[0], period.last[0]
    if first == last:
        return year_label(first)
    return pgettext("figures period", "%(first)d-%(last)d") % {"first": first, "last": last}


def period_dates(period: Period) -> str:
    return f"{period.start.isoformat()} – {period.end.isoformat()}"


def filename(period: Period, extension: str) -> str:
    # Marked on its own line: xgettext does not look inside f-strings.
    name = _("work-order-figures")
    return f"{name}-{period_label(period).replace(' ', '-')}.{extension}"


def after_seal_filename(period: Period, extension: str) -> str:
    # Marked on its own line: xgettext does not look inside f-strings.
    name = _("after-seal-figures")
    return f"{name}-{period_label(period).replace(' ', '-')}.{extension}"


def _row_label(row: dict) -> str:
    return month_label(row["year"], row["month"]) if row.get("month") else row["year"]


def _labelled(rows: list[dict], labels: dict) -> list[dict]:
    return [{**row, "label": str(labels.get(row["key"], row["key"] or _("Not dispatched")))} for row in rows]


def tables(figures: dict) -> list[dict]:
    """Every table of the report, titled, in the order the page shows them."""
    by_month = figures["period"].kind != "year"
    return [
        {
            "title": _("By month") if by_month else _("By year"),
            "heading": _("Month") if by_month else _("Year"),
            "rows": [{**row, "label": _row_label(row)} for row in figures["rows"]],
        },
        {
            "title": _("By channel"),
            "heading": _("Channel"),
            "rows": _labelled(figures["by_channel"], dict(Channel.choices)),
        },
        {
            "title": _("By category"),
            "heading": _("Category"),
            "rows": _labelled(figures["by_category"], dict(Category.choices)),
        },
        {"title": _("By department"), "heading": _("Department"), "rows": _labelled(figures["by_department"], {})},
    ]


def after_seal_tables(figures: dict) -> list[dict]:
    """The judicial confirmation and performance tables: by year, then by year and
    mediator, and by year and department."""

    def named(row: dict, key: str) -> str:
        who = row[key]["name"] if row[key] else _("Not dispatched") if key == "department" else "—"
        return f"{year_label(row['year'])} · {who}"

    return [
        {
            "title": _("Judicial confirmation and performance by year"),
            "sheet": _("After the seal - years"),
            "heading": _("Year"),
            "rows": [{**row, "label": year_label(row["year"])} for row in figures["years"]],
        },
        {
            "title": _("Judicial confirmation and performance by mediator"),
            "sheet": _("After the seal - mediators"),
            "heading": _("Year and mediator"),
            "rows": [{**row, "label": named(row, "mediator")} for row in figures["by_mediator"]],
        },
        {
            "title": _("Judicial confirmation and performance by department"),
            "sheet": _("After the seal - departments"),
            "heading": _("Year and department"),
            "rows": [{**row, "label": named(row, "department")} for row in figures["by_department"]],
        },
    ]


def after_seal_csv_rows(figures: dict) -> list[list]:
    rows = []
    for table in after_seal_tables(figures):
        rows.append([table["title"]])
        rows.append([table["heading"], *(str(label) for _key, label in AFTER_SEAL_COLUMNS)])
        for row in table["rows"]:
            rows.append([row["label"], *("" if row[key] is None else row[key] for key, _label in AFTER_SEAL_COLUMNS)])
        rows.append([])
    return rows


def _display_width(value) -> int:
    """Columns as wide as their text: a Chinese character takes two widths."""
    text = str(value if value is not None else "")
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def workbook(figures: dict, *, department_name: str = "") -> bytes:
    """The report as an .xlsx file: one sheet per table, each under the same title
    block (court, report, period, when generated), its header row bold and frozen,
    counts as integers and rates as numbers shown as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="F2EFE8")
    period = figures["period"]
    title_block = [
        [settings.COURT_NAME],
        [_("Work-order figures") + (f" ({department_name})" if department_name else "")],
        [_("Period"), f"{period_label(period)}: {period_dates(period)}"],
        [_("Generated"), date_format(timezone.localtime(), "Y-m-d H:i")],
    ]
    book = Workbook()
    book.remove(book.active)
    for index, table in enumerate(tables(figures)):
        sheet = book.create_sheet(title=table["title"][:31])
        for line in title_block:
            sheet.append(line)
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A2"].font = Font(bold=True, size=12)
        sheet.append([])
        header = [table["heading"], *(str(label) for _key, label in COUNT_COLUMNS + RATE_COLUMNS)]
        sheet.append(header)
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = bold
            cell.fill = header_fill
        for row in table["rows"]:
            sheet.append(
                [
                    row["label"],
                    *(int(row[key]) for key, _label in COUNT_COLUMNS),
                    *(row[key] for key, _l in RATE_COLUMNS),
                ]
            )
            for cell in sheet[sheet.max_row][1 + len(COUNT_COLUMNS) :]:
                cell.number_format = PERCENT_FORMAT
        if index == 0 and figures["received_cagr"] is not None:
            sheet.append([])
            sheet.append([_("Compound annual growth of received orders"), figures["received_cagr"]])
            sheet.cell(sheet.max_row, 1).font = bold
            sheet.cell(sheet.max_row, 2).number_format = PERCENT_FORMAT
        sheet.freeze_panes = sheet.cell(header_row + 1, 1)
        for column in range(1, len(header) + 1):
            cells = [sheet.cell(row, column).value for row in range(header_row, sheet.max_row + 1)]
            widest = max(_display_width(value) for value in cells)
            sheet.column_dimensions[get_column_letter(column)].width = min(max(widest + 2, 10), 60)
        # The title block's long texts (court, period) may run over the empty cells.
        sheet.column_dimensions["B"].width = max(sheet.column_dimensions["B"].width, 12)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def after_seal_workbook(after_seal: dict, period: Period, *, department_name: str = "") -> bytes:
    """Judicial confirmation and performance as an .xlsx file: one sheet per table
    (by year, mediator, department) under the title block, the rate as a percentage."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="F2EFE8")
    title_block = [
        [settings.COURT_NAME],
        [_("Judicial confirmation and performance") + (f" ({department_name})" if department_name else "")],
        [_("Period"), f"{period_label(period)}: {period_dates(period)}"],
        [_("Generated"), date_format(timezone.localtime(), "Y-m-d H:i")],
    ]
    book = Workbook()
    book.remove(book.active)
    for table in after_seal_tables(after_seal) if after_seal else []:
        # Sheet names: at most 31 characters (Excel), so a short name; the title above the table.
        sheet = book.create_sheet(title=table["sheet"][:31])
        for line in title_block:
            sheet.append(line)
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A2"].font = Font(bold=True, size=12)
        sheet.append([table["title"]])
        sheet.cell(sheet.max_row, 1).font = bold
        sheet.append([table["heading"], *(str(label) for _key, label in AFTER_SEAL_COLUMNS)])
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = bold
            cell.fill = header_fill
        for row in table["rows"]:
            sheet.append([row["label"], *(row[key] for key, _label in AFTER_SEAL_COLUMNS)])
            sheet.cell(sheet.max_row, len(AFTER_SEAL_COLUMNS) + 1).number_format = PERCENT_FORMAT
        sheet.freeze_panes = sheet.cell(header_row + 1, 1)
        sheet.column_dimensions["A"].width = 30
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
