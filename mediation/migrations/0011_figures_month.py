"""The figures' tally counts per month as well as per year, so that the figures page
can show a quarter or a month from the tally as it shows years.

The triggers of 0008 are replaced by the same triggers with the month in the cell's
key; the tally is then counted afresh from the orders. Kept here, frozen with the
migration, like 0008's."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models

COUNTERS = ["received", "closed", "closed_on_time", "replied", "visited", "rated", "satisfied"]
CONDITIONS = {
    "received": "TRUE",
    "closed": "r.status = 'closed'",
    "closed_on_time": "r.status = 'closed' AND r.replied_at IS NOT NULL AND r.replied_at <= r.completion_due",
    "replied": "r.replied_at IS NOT NULL",
    "visited": "r.status = 'closed' AND r.return_visited_at IS NOT NULL",
    "rated": "r.return_visit_satisfaction <> ''",
    "satisfied": "r.return_visit_satisfaction IN ('satisfied', 'basically')",
}
KEY_COLUMNS = ["received_at", "channel", "category", "department_id"]
COUNTED_COLUMNS = [
    *KEY_COLUMNS,
    "status",
    "replied_at",
    "completion_due",
    "return_visited_at",
    "return_visit_satisfaction",
]
TALLY_KEY = "year, month, channel, category, department_key"


def _part_postgresql(part):
    return lambda row: f"EXTRACT({part} FROM {row}.received_at AT TIME ZONE '{settings.TIME_ZONE}')::int"


def _part_sqlite(pattern):
    # SQLite stores UTC text; the court's zone has no daylight saving (Asia/Shanghai).
    minutes = int(dt.datetime(2026, 1, 1, tzinfo=ZoneInfo(settings.TIME_ZONE)).utcoffset().total_seconds() // 60)
    return lambda row: f"CAST(strftime('{pattern}', {row}.received_at, '{minutes:+d} minutes') AS INTEGER)"


def _values(row, sign, year, month, as_int):
    conditions = [as_int(CONDITIONS[name].replace("r.", f"{row}.")) for name in COUNTERS]
    return (
        f"({year(row)}, {month(row)}, {row}.channel, {row}.category, COALESCE({row}.department_id, 0), "
        + ", ".join(f"{sign} * {condition}" for condition in conditions)
        + ")"
    )


def _upsert(values, excluded):
    columns = ", ".join([TALLY_KEY, *COUNTERS])
    updates = ", ".join(f"{name} = mediation_workordertally.{name} + {excluded}.{name}" for name in COUNTERS)
    return (
        f"INSERT INTO mediation_workordertally ({columns}) VALUES {values} "
        f"ON CONFLICT ({TALLY_KEY}) DO UPDATE SET {updates}"
    )


def _initial_count(year, month, as_int):
    sums = ", ".join(f"SUM({as_int(CONDITIONS[name])})" for name in COUNTERS)
    columns = ", ".join([TALLY_KEY, *COUNTERS])
    return (
        "DELETE FROM mediation_workordertally",
        f"INSERT INTO mediation_workordertally ({columns}) "
        f"SELECT {year('r')}, {month('r')}, r.channel, r.category, COALESCE(r.department_id, 0), {sums} "
        f"FROM mediation_workorder r GROUP BY 1, 2, 3, 4, 5",
    )


def postgresql_statements():
    year, month = _part_postgresql("YEAR"), _part_postgresql("MONTH")
    as_int = lambda condition: f"(COALESCE({condition}, FALSE))::int"  # noqa: E731
    key = lambda row: (  # noqa: E731
        f"({year(row)}, {month(row)}, {row}.channel, {row}.category, COALESCE({row}.department_id, 0))"
    )
    return [
        f"""
        CREATE OR REPLACE FUNCTION mediation_tally_add(r mediation_workorder, sign integer) RETURNS void AS $$
        BEGIN
            {_upsert(_values("r", "sign", year, month, as_int), "EXCLUDED")};
        END;
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE OR REPLACE FUNCTION mediation_tally_trigger() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM mediation_tally_add(NEW, 1);
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM mediation_tally_add(OLD, -1);
            -- Two cells in a fixed order, so that concurrent moves cannot deadlock.
            ELSIF {key("OLD")} <= {key("NEW")} THEN
                PERFORM mediation_tally_add(OLD, -1);
                PERFORM mediation_tally_add(NEW, 1);
            ELSE
                PERFORM mediation_tally_add(NEW, 1);
                PERFORM mediation_tally_add(OLD, -1);
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """,
        # The triggers of 0008 call these functions by name and stay as they are.
        *_initial_count(year, month, as_int),
    ]


def sqlite_statements():
    year, month = _part_sqlite("%Y"), _part_sqlite("%m")
    as_int = lambda condition: f"(COALESCE({condition}, 0))"  # noqa: E731
    add = lambda row, sign: _upsert(_values(row, sign, year, month, as_int), "excluded")  # noqa: E731
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in COUNTED_COLUMNS)
    return [
        "DROP TRIGGER IF EXISTS mediation_tally_insert",
        "DROP TRIGGER IF EXISTS mediation_tally_delete",
        "DROP TRIGGER IF EXISTS mediation_tally_update",
        f"CREATE TRIGGER mediation_tally_insert AFTER INSERT ON mediation_workorder BEGIN {add('NEW', 1)}; END",
        f"CREATE TRIGGER mediation_tally_delete AFTER DELETE ON mediation_workorder BEGIN {add('OLD', -1)}; END",
        f"CREATE TRIGGER mediation_tally_update AFTER UPDATE ON mediation_workorder WHEN {changed} "
        f"BEGIN {add('OLD', -1)}; {add('NEW', 1)}; END",
        *_initial_count(year, month, as_int),
    ]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in postgresql_statements() if vendor == "postgresql" else sqlite_statements():
        schema_editor.execute(statement, params=None)


def restore_yearly(apps, schema_editor):
    """Going back: 0008's yearly triggers and a yearly count (run after the month
    column and its key are gone)."""
    yearly = importlib.import_module("mediation.migrations.0008_figures_tally")
    vendor = schema_editor.connection.vendor
    schema_editor.execute("DELETE FROM mediation_workordertally", params=None)
    if vendor == "postgresql":
        # DROP first: the function's return type and body change.
        for statement in yearly.POSTGRESQL_REVERSE:
            schema_editor.execute(statement, params=None)
    else:
        for statement in yearly.SQLITE_REVERSE:
            schema_editor.execute(statement, params=None)
    yearly.install(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0010_desk_clocks_and_phones"),
    ]

    operations = [
        # Going back, the yearly triggers come back last, once the month is gone.
        migrations.RunPython(migrations.RunPython.noop, restore_yearly),
        migrations.RemoveConstraint(model_name="workordertally", name="work_order_tally_cell"),
        migrations.AddField(
            model_name="workordertally",
            name="month",
            field=models.PositiveSmallIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="workordertally",
            constraint=models.UniqueConstraint(
                fields=("year", "month", "channel", "category", "department_key"), name="work_order_tally_cell"
            ),
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
