"""Import of the historical ledger that courts keep in spreadsheets.

Every row is validated first; if any row is invalid nothing is imported and every bad
row is reported. Rows are keyed on `external_id`, so importing the same file again
creates nothing new.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mediation import audit, phones
from mediation.models import Department, WorkOrder, WorkOrderEvent
from mediation.services import deadlines
from mediation.services.work_orders import next_work_order_number, normalise_case_number, validate_intake
from mediation.working_calendar import WorkingCalendar, local_zone

LEDGER_SOURCE = "ledger"
LEDGER_COLUMNS = [
    "external_id",
    "channel",
    "category",
    "received_at",
    "requester_name",
    "requester_phone",
    "case_number",
    "content",
    "department",
    "replied_at",
    "closed_at",
]


class LedgerFormatError(Exception):
    """The file itself cannot be read as a ledger (wrong header, not CSV/XLSX)."""


@dataclass
class LedgerRow:
    line: int
    values: dict
    errors: list[str] = field(default_factory=list)
    cleaned: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_ledger(path: Path) -> list[LedgerRow]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _rows_from_table(_xlsx_rows(path))
    if suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        return _rows_from_table(list(csv.reader(io.StringIO(text))))
    raise LedgerFormatError(_("Give a .csv or .xlsx file."))


def _xlsx_rows(path: Path) -> list[list]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # A spreadsheet's date cell carries no offset; it was typed in court time.
        if timezone.is_naive(value):
            value = timezone.make_aware(value, local_zone())
        return value.isoformat()
    return str(value).strip()


def _rows_from_table(table: list[list]) -> list[LedgerRow]:
    if not table:
        raise LedgerFormatError(_("The file is empty."))
    header = [_cell(name) for name in table[0]]
    while header and not header[-1]:
        header.pop()
    if header != LEDGER_COLUMNS:
        raise LedgerFormatError(_("The header must be exactly: %(columns)s") % {"columns": ",".join(LEDGER_COLUMNS)})
    rows = []
    for index, raw in enumerate(table[1:], start=2):
        cells = [_cell(value) for value in raw]
        if not any(cells):
            continue
        cells += [""] * (len(LEDGER_COLUMNS) - len(cells))
        rows.append(LedgerRow(line=index, values=dict(zip(LEDGER_COLUMNS, cells[: len(LEDGER_COLUMNS)], strict=True))))
    return rows


def _parse_moment(row: LedgerRow, name: str, *, required: bool) -> dt.datetime | None:
    text = row.values[name]
    if not text:
        if required:
            row.errors.append(_("%(column)s is required") % {"column": name})
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        row.errors.append(_("%(column)s “%(value)s” is not an ISO 8601 time") % {"column": name, "value": text})
        return None
    if timezone.is_naive(moment):
        row.errors.append(_("%(column)s “%(value)s” needs a UTC offset, e.g. +08:00") % {"column": name, "value": text})
        return None
    # received_at is checked with the rest of the intake fields.
    if name != "received_at" and moment > timezone.now():
        row.errors.append(_("%(column)s is in the future") % {"column": name})
    return moment


def validate_rows(rows: list[LedgerRow]) -> None:
    departments = {d.name: d for d in Department.objects.all()}
    seen_ids: dict[str, int] = {}
    for row in rows:
        values = row.values
        external_id = values["external_id"]
        if not external_id:
            row.errors.append(_("external_id is required"))
        elif external_id in seen_ids:
            row.errors.append(_("external_id repeats line %(line)s") % {"line": seen_ids[external_id]})
        else:
            seen_ids[external_id] = row.line
        received_at = _parse_moment(row, "received_at", required=True)
        replied_at = _parse_moment(row, "replied_at", required=False)
        closed_at = _parse_moment(row, "closed_at", required=False)
        if received_at is not None:
            try:
                validate_intake(
                    channel=values["channel"],
                    category=values["category"],
                    requester_name=values["requester_name"],
                    requester_phone=values["requester_phone"],
                    content=values["content"],
                    requester_role="other",
                    received_at=received_at,
                )
            except ValidationError as error:
                for column, messages in error.message_dict.items():
                    row.errors.extend(f"{column}: {message}" for message in messages)
        department = None
        if values["department"]:
            department = departments.get(values["department"])
            if department is None:
                row.errors.append(_("unknown department “%(name)s”") % {"name": values["department"]})
        if (replied_at or closed_at) and not values["department"]:
            row.errors.append(_("a replied or closed order needs its department"))
        if closed_at and not replied_at:
            row.errors.append(_("closed_at needs replied_at: an order is not closed without a reply"))
        for moment, name in ((replied_at, "replied_at"), (closed_at, "closed_at")):
            if moment and received_at and moment < received_at:
                row.errors.append(_("%(column)s is before received_at") % {"column": name})
        if replied_at and closed_at and closed_at < replied_at:
            row.errors.append(_("closed_at is before replied_at"))
        row.cleaned = {
            "received_at": received_at,
            "replied_at": replied_at,
            "closed_at": closed_at,
            "department": department,
        }


def import_ledger(rows: list[LedgerRow]) -> ImportReport:
    """Validate every row, then import all of them in one transaction, or none."""
    validate_rows(rows)
    report = ImportReport()
    report.errors = [(row.line, "; ".join(row.errors)) for row in rows if row.errors]
    if report.errors:
        return report
    existing = set(
        WorkOrder.objects.filter(
            external_source=LEDGER_SOURCE, external_id__in=[row.values["external_id"] for row in rows]
        ).values_list("external_id", flat=True)
    )
    calendar = WorkingCalendar.load()
    with transaction.atomic():
        for row in rows:
            if row.values["external_id"] in existing:
                report.skipped += 1
                continue
            _create_from_row(row, calendar)
            report.created += 1
    return report


def _status_for(cleaned: dict) -> str:
    if cleaned["closed_at"]:
        return WorkOrder.Status.CLOSED
    if cleaned["replied_at"]:
        return WorkOrder.Status.REPLIED
    if cleaned["department"]:
        return WorkOrder.Status.DISPATCHED
    return WorkOrder.Status.RECEIVED


def _create_from_row(row: LedgerRow, calendar: WorkingCalendar) -> WorkOrder:
    values, cleaned = row.values, row.cleaned
    received_at = cleaned["received_at"]
    order = WorkOrder.objects.create(
        number=next_work_order_number(received_at),
        external_source=LEDGER_SOURCE,
        external_id=values["external_id"],
        channel=values["channel"],
        category=values["category"],
        requester_name=values["requester_name"],
        requester_phone=phones.to_e164(values["requester_phone"], field="requester_phone"),
        case_number=normalise_case_number(values["case_number"]),
        content=values["content"],
        received_at=received_at,
        department=cleaned["department"],
        status=_status_for(cleaned),
        first_contacted_at=cleaned["replied_at"],
        replied_at=cleaned["replied_at"],
        closed_at=cleaned["closed_at"],
        **deadlines.initial_deadlines(calendar=calendar, received_at=received_at, category=values["category"]),
    )
    WorkOrderEvent.objects.create(
        order=order, action="import", from_status="", to_status=order.status, data={"line": row.line}
    )
    audit.record(
        actor=None,
        action="work_order.import",
        target=order,
        data={"to": order.status, "external_id": order.external_id, "line": row.line},
    )
    return order
