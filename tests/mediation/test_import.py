"""`import_work_orders`: the historical ledger from CSV or XLSX, all rows or none."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import Workbook

from mediation.audit import verify_chain
from mediation.models import AuditEntry, WorkOrder
from mediation.services.imports import LEDGER_COLUMNS, LEDGER_SOURCE

Status = WorkOrder.Status
pytestmark = pytest.mark.django_db

HEADER = [
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


def ledger_row(external_id, **values):
    row = {
        "external_id": external_id,
        "channel": "hotline",
        "category": "case_query",
        "received_at": "2020-03-02T09:15:00+08:00",
        "requester_name": "Wang Lei",
        "requester_phone": "13800001111",
        "case_number": "(2020)京0107民初88号",
        "content": "When is my hearing?",
        "department": "",
        "replied_at": "",
        "closed_at": "",
    }
    row.update(values)
    return row


def valid_rows():
    """One row per status the importer derives."""
    return [
        ledger_row("L-1"),
        ledger_row("L-2", department="Second civil division"),
        ledger_row("L-3", department="Second civil division", replied_at="2020-03-03T10:00:00+08:00"),
        ledger_row(
            "L-4",
            channel="wechat",
            category="urge",
            department="Second civil division",
            replied_at="2020-03-03T10:00:00+08:00",
            closed_at="2020-03-04T16:30:00+08:00",
        ),
    ]


def write_csv(path, rows, header=HEADER):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[column] for column in HEADER])
    return path


def write_xlsx(path, rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row[column] or None for column in HEADER])
    workbook.save(path)
    return path


def run_import(path):
    """Run the command as `manage.py import_work_orders FILE` would, in this process
    (so on the test database): returns the exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_work_orders", str(path), stdout=out, stderr=err)
    except CommandError as error:
        err.write(str(error))
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def departments(civil, other_department):
    return civil, other_department


def test_the_ledger_header_is_the_documented_one():
    assert LEDGER_COLUMNS == HEADER


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_a_valid_ledger_is_imported_with_the_statuses_derived_from_its_columns(tmp_path, departments, writer):
    civil, _other = departments
    path = writer(tmp_path / f"ledger.{'csv' if writer is write_csv else 'xlsx'}", valid_rows())

    status, out, _err = run_import(path)

    assert status == 0
    assert "imported: 4" in out
    orders = {order.external_id: order for order in WorkOrder.objects.all()}
    assert {key: order.status for key, order in orders.items()} == {
        "L-1": Status.RECEIVED,
        "L-2": Status.DISPATCHED,
        "L-3": Status.REPLIED,
        "L-4": Status.CLOSED,
    }
    assert orders["L-1"].department is None
    assert orders["L-2"].department == civil
    closed = orders["L-4"]
    assert (closed.channel, closed.category) == ("wechat", "urge")
    assert closed.received_at == dt.datetime(2020, 3, 2, 1, 15, tzinfo=dt.UTC)
    assert closed.replied_at == dt.datetime(2020, 3, 3, 2, 0, tzinfo=dt.UTC)
    assert closed.closed_at == dt.datetime(2020, 3, 4, 8, 30, tzinfo=dt.UTC)
    assert closed.external_source == LEDGER_SOURCE
    assert closed.number.startswith("GD-2020-")
    assert closed.completion_due > closed.received_at
    assert closed.case_number == "(2020)京0107民初88号"
    assert [event.action for event in closed.events.all()] == ["import"]


def test_importing_the_same_ledger_again_creates_no_duplicates(tmp_path, departments):
    path = write_csv(tmp_path / "ledger.csv", valid_rows())
    assert run_import(path)[0] == 0
    numbers = set(WorkOrder.objects.values_list("number", flat=True))

    status, out, _err = run_import(path)

    assert status == 0
    assert "imported: 0" in out
    assert "already present: 4" in out
    assert set(WorkOrder.objects.values_list("number", flat=True)) == numbers


def test_a_grown_ledger_imports_only_its_new_rows(tmp_path, departments):
    rows = valid_rows()
    assert run_import(write_csv(tmp_path / "first.csv", rows[:2]))[0] == 0

    status, out, _err = run_import(write_csv(tmp_path / "second.csv", rows))

    assert status == 0
    assert "imported: 2; already present: 2" in out
    assert WorkOrder.objects.count() == 4


def test_ledger_ids_do_not_collide_with_an_integration_systems_ids(tmp_path, departments, people):
    from tests.factories import WorkOrderFactory

    WorkOrderFactory(external_source="hotline-12368", external_id="L-1")

    status, out, _err = run_import(write_csv(tmp_path / "ledger.csv", valid_rows()))

    assert status == 0
    assert "imported: 4" in out
    assert WorkOrder.objects.filter(external_id="L-1").count() == 2


def future(days=1):
    return (timezone.now() + dt.timedelta(days=days)).isoformat(timespec="seconds")


BAD_ROWS = [
    ("unknown channel", {"channel": "pigeon"}, "channel"),
    ("unknown category", {"category": "gossip"}, "category"),
    ("bad time", {"received_at": "March 2nd"}, "not an ISO 8601 time"),
    ("time without offset", {"received_at": "2020-03-02T09:15:00"}, "UTC offset"),
    ("unknown department", {"department": "Maritime court"}, "unknown department"),
    (
        "closed without a reply",
        {"department": "Second civil division", "closed_at": "2020-03-04T16:30:00+08:00"},
        "closed_at needs replied_at",
    ),
    ("future time", {"received_at": future()}, "future"),
    (
        "replied before received",
        {"department": "Second civil division", "replied_at": "2019-01-01T00:00:00+08:00"},
        "before",
    ),
    ("missing external id", {"external_id": ""}, "external_id is required"),
    ("missing name", {"requester_name": ""}, "requester_name"),
    ("replied without a department", {"replied_at": "2020-03-03T10:00:00+08:00"}, "department"),
]


@pytest.mark.parametrize(("problem", "values", "reason"), BAD_ROWS, ids=[case[0] for case in BAD_ROWS])
@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_one_bad_row_imports_nothing_and_names_its_line_and_reason(
    tmp_path, departments, writer, problem, values, reason
):
    rows = valid_rows()
    bad = {**ledger_row("L-bad"), **values}
    rows.insert(2, bad)  # line 4: the header is line 1
    path = writer(tmp_path / f"ledger.{'csv' if writer is write_csv else 'xlsx'}", rows)
    audit_before = AuditEntry.objects.count()

    status, _out, err = run_import(path)

    assert status != 0
    assert not WorkOrder.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    bad_lines = [line for line in err.splitlines() if line.startswith("line ")]
    assert len(bad_lines) == 1, err
    assert bad_lines[0].startswith("line 4:")
    assert reason in bad_lines[0]
    assert "nothing was imported" in err


def test_a_repeated_external_id_in_the_file_names_the_repeat_and_imports_nothing(tmp_path, departments):
    rows = [*valid_rows(), ledger_row("L-2", requester_name="Someone else")]

    status, _out, err = run_import(write_csv(tmp_path / "ledger.csv", rows))

    assert status != 0
    assert "line 6: external_id repeats line 3" in err
    assert not WorkOrder.objects.exists()


def test_every_bad_row_is_reported_not_only_the_first(tmp_path, departments):
    rows = [
        ledger_row("L-1", channel="pigeon"),
        ledger_row("L-2"),
        ledger_row("L-3", received_at="2020-03-02 09:15"),
        ledger_row("L-4", department="Maritime court"),
    ]

    status, _out, err = run_import(write_csv(tmp_path / "ledger.csv", rows))

    assert status != 0
    reported = [line.split(":", 1)[0] for line in err.splitlines() if line.startswith("line ")]
    assert reported == ["line 2", "line 4", "line 5"]
    assert "3 invalid rows" in err
    assert not WorkOrder.objects.exists()


def test_an_invalid_ledger_ends_the_command_line_run_with_a_non_zero_exit_status(
    tmp_path, departments, monkeypatch, capsys
):
    # `manage.py` closes the database connections when it finishes; the test's
    # connection must survive, so that step is skipped here.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    path = write_csv(tmp_path / "ledger.csv", [ledger_row("L-1", channel="pigeon")])

    with pytest.raises(SystemExit) as exit_status:
        ManagementUtility(["manage.py", "import_work_orders", str(path)]).execute()

    assert exit_status.value.code == 1
    assert "line 2:" in capsys.readouterr().err
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_a_wrong_header_is_refused_with_the_expected_header(tmp_path, departments, writer):
    header = [*HEADER[:3], "received", *HEADER[4:]]
    path = writer(tmp_path / f"ledger.{'csv' if writer is write_csv else 'xlsx'}", valid_rows(), header=header)

    with pytest.raises(CommandError) as error:
        call_command("import_work_orders", str(path))

    assert "header" in str(error.value)
    assert ",".join(HEADER) in str(error.value)
    assert not WorkOrder.objects.exists()


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(tmp_path):
    path = tmp_path / "ledger.txt"
    path.write_text(",".join(HEADER))

    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        call_command("import_work_orders", str(path))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_work_orders", str(tmp_path / "missing.csv"))


def test_a_csv_saved_by_excel_with_a_byte_order_mark_is_read(tmp_path, departments):
    path = write_csv(tmp_path / "ledger.csv", valid_rows())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    status, out, _err = run_import(path)

    assert status == 0
    assert "imported: 4" in out


def test_imported_orders_are_in_the_audit_trail_and_the_chain_still_verifies(tmp_path, departments):
    run_import(write_csv(tmp_path / "ledger.csv", valid_rows()))

    entries = AuditEntry.objects.filter(action="work_order.import")
    assert entries.count() == 4
    by_target = {entry.target_id: entry for entry in entries}
    closed = WorkOrder.objects.get(external_id="L-4")
    assert by_target[str(closed.pk)].data["to"] == "closed"
    assert by_target[str(closed.pk)].data["external_id"] == "L-4"
    assert verify_chain().ok
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()
