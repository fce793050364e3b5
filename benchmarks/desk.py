"""How fast the liaison's desk stays as the work orders pile up.

Fills a PostgreSQL database of its own with 10,000 and then 1,000,000 work orders
spread over 2018-2026 the way a court's desk fills (more each year, nearly all of the
old ones closed, a backlog of open and overdue ones, repeat callers), then times what
the desk page and the statistics page actually run:

- the desk list through `desk_orders()` and the paginator the desk view uses, page 1
  and a middle page, the COUNT the paginator issues included;
- the search box (phone, name) through the same selector;
- `work_order_figures()` for 2018-2020 and 2018-2026.

It prints p50/p95 per size and the ratio 1M / 10k against the goals of the issue:
list p95 <= 100 ms and statistics p95 <= 500 ms at 1M, ratio <= 3.

    make bench-desk                       # or: .venv/bin/python benchmarks/desk.py
    BENCH_DATABASE_URL=postgres://user@host:5432/bench_desk  (dropped and recreated)
    BENCH_SIZES=10000,1000000  BENCH_RUNS=40  BENCH_WARMUP=5  BENCH_KEEP=1 (keep the database)

Then the list of mediation cases (benchmarks/case_list.py) at 10,000 and 100,000
cases: pages, filters, searches, as the liaison, a mediator and an organisation's
administrator; goal p95 <= 100 ms at 100,000.

    BENCH_CASE_SIZES=10000,100000  BENCH_ONLY=desk|cases (one part only)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_desk")
SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "10000,1000000").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "40"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))
KEEP = os.environ.get("BENCH_KEEP", "") not in ("", "0")
CASE_SIZES = [int(size) for size in os.environ.get("BENCH_CASE_SIZES", "10000,100000").split(",")]
ONLY = os.environ.get("BENCH_ONLY", "")
FILL_BATCH = 250_000
SEED = 0.4242

LIST_GOAL_MS = 100
STATS_GOAL_MS = 500
RATIO_GOAL = 3.0

DEPARTMENTS = [
    ("立案庭", "filing", 0.30),
    ("民事审判第一庭", "civil-1", 0.30),
    ("民事审判第二庭", "civil-2", 0.25),
    ("执行局", "enforcement", 0.15),
]
JUDGES_PER_DEPARTMENT = 9


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def recreate_database() -> None:
    import psycopg
    from psycopg import sql

    name = database_name(DATABASE_URL)
    with psycopg.connect(maintenance_url(DATABASE_URL), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database() -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with psycopg.connect(maintenance_url(DATABASE_URL), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(DATABASE_URL)))
        )


def set_up_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = DATABASE_URL
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def create_people():
    """Four departments, nine judges each, and the general liaison who reads the desk."""
    from django.contrib.auth.models import Group

    from mediation.models import Department, User
    from mediation.roles import Role

    judge_group = Group.objects.get(name=Role.JUDGE)
    departments = []
    judges = {}
    for name, code, _share in DEPARTMENTS:
        department = Department.objects.create(name=name, code=code)
        departments.append(department)
        judges[department.pk] = []
        for number in range(JUDGES_PER_DEPARTMENT):
            judge = User.objects.create_user(
                f"judge-{code}-{number}@bench.test", None, full_name=f"{name}法官{number + 1}", department=department
            )
            judge.groups.add(judge_group)
            judges[department.pk].append(judge.pk)
    liaison = User.objects.create_user("liaison@bench.test", None, full_name="总联络员")
    liaison.groups.add(Group.objects.get(name=Role.GENERAL_LIAISON))
    return liaison, departments, judges


# One INSERT ... SELECT per batch: every random draw is a column of `draw`, the
# derived values (status by age, department and judge, the clocks) are computed in
# `shaped` and `timed`. Orders arrive in the order they were received, as on a live
# desk (the heap is in received_at order), more of them each year (the density of
# sqrt). Requesters come from a pool a third the size of the table, so a phone finds
# a caller's few orders.
FILL_SQL = """
WITH draw AS (
    SELECT i,
           random() AS r_day, random() AS r_hour, random() AS r_status, random() AS r_channel,
           random() AS r_category, random() AS r_department, random() AS r_judge, random() AS r_assigned,
           random() AS r_contact, random() AS r_reply, random() AS r_late, random() AS r_close,
           random() AS r_visit, random() AS r_satisfaction, random() AS r_pause, random() AS r_case,
           floor(random() * %(pool)s)::bigint AS person
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
),
placed AS (
    SELECT d.*,
           least(
               timestamptz '2018-01-02 08:30:00+08'
                   + floor(sqrt((d.i - 1 + d.r_day) / %(total)s) * %(span_days)s) * interval '1 day'
                   + d.r_hour * interval '9 hours 30 minutes',
               now() - interval '5 minutes'
           ) AS received_at
    FROM draw AS d
),
shaped AS (
    SELECT p.*,
           CASE WHEN p.received_at < now() - interval '30 days' THEN
               CASE WHEN p.r_status < 0.970 THEN 'closed'
                    WHEN p.r_status < 0.980 THEN 'awaiting_confirmation'
                    WHEN p.r_status < 0.985 THEN 'replied'
                    WHEN p.r_status < 0.991 THEN 'in_progress'
                    WHEN p.r_status < 0.993 THEN 'reopened'
                    WHEN p.r_status < 0.996 THEN 'dispatched'
                    WHEN p.r_status < 0.997 THEN 'returned'
                    ELSE 'received' END
           ELSE
               CASE WHEN p.r_status < 0.10 THEN 'received'
                    WHEN p.r_status < 0.25 THEN 'dispatched'
                    WHEN p.r_status < 0.28 THEN 'returned'
                    WHEN p.r_status < 0.53 THEN 'in_progress'
                    WHEN p.r_status < 0.65 THEN 'replied'
                    WHEN p.r_status < 0.75 THEN 'awaiting_confirmation'
                    WHEN p.r_status < 0.97 THEN 'closed'
                    ELSE 'reopened' END
           END AS status,
           (ARRAY['hotline', 'hotline', 'hotline', 'wechat', 'wechat', 'portal', 'window', 'letter'])
               [1 + floor(p.r_channel * 8)::int] AS channel,
           (ARRAY['contact_judge', 'contact_judge', 'consultation', 'consultation', 'case_query', 'case_query',
                  'materials', 'urge', 'mediation_request', 'complaint', 'other'])
               [1 + floor(p.r_category * 11)::int] AS category,
           CASE WHEN p.r_department < %(d1)s THEN 1 WHEN p.r_department < %(d2)s THEN 2
                WHEN p.r_department < %(d3)s THEN 3 ELSE 4 END AS department_slot
    FROM placed AS p
),
timed AS (
    SELECT s.*,
           CASE s.category WHEN 'case_query' THEN 2 WHEN 'mediation_request' THEN 5 WHEN 'complaint' THEN 10
                           WHEN 'other' THEN 5 ELSE 3 END AS working_days,
           date_trunc('day', s.received_at AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'
               + interval '1 day' AS clock_start,
           s.status NOT IN ('received') AS dispatched_once,
           s.status NOT IN ('received', 'dispatched', 'returned') AS taken_up,
           s.status IN ('replied', 'awaiting_confirmation', 'closed', 'reopened') AS answered,
           s.status IN ('closed', 'reopened') AS finished
    FROM shaped AS s
)
INSERT INTO mediation_workorder (
    number, external_source, external_id, channel, category, requester_name, requester_phone,
    requester_id_number, requester_role, case_number, content, received_at, department_id, assignee_id,
    status, first_contact_hours, completion_working_days, first_contact_due, completion_clock_start,
    first_contact_warn_at, completion_due, completion_warn_at, paused_at, pause_reason, pause_reason_code,
    paused_working_seconds, first_contacted_at, replied_at, closed_at, outcome,
    return_visit_satisfaction, return_visited_at, created_by_id, created_at, updated_at
)
SELECT
    %(prefix)s || '-' || extract(year FROM t.received_at AT TIME ZONE 'Asia/Shanghai')::int || '-'
        || lpad(t.i::text, 7, '0'),
    '', '', t.channel, t.category,
    (ARRAY['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭',
           '何', '高', '林', '罗', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹'])
        [1 + t.person %% 30]
    || (ARRAY['伟', '芳', '娜', '秀', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛',
              '明', '超', '兰', '霞', '平', '刚', '桂', '英', '华', '玉', '萍', '红', '建', '文', '辉', '力',
              '琳', '鹏', '晨', '宇', '欣', '佳', '浩', '婷'])[1 + (t.person / 30) %% 40]
    || (ARRAY['', '英', '华', '明', '国', '志', '海', '东', '峰', '丹', '燕', '飞', '波', '凯', '春', '梅',
              '云', '雪', '林', '杰', '慧', '珍', '斌', '龙', '阳', '亮', '成', '新', '坤', '宁', '俊', '荣',
              '瑞', '博', '彬', '鑫', '璐', '蕾', '倩', '楠', '颖'])[1 + (t.person / 1200) %% 41],
    '+861' || (ARRAY['3', '5', '8', '9', '7'])[1 + t.person %% 5]
        || lpad(((t.person * 7919 + 12345) %% 1000000000)::text, 9, '0'),
    '',
    (ARRAY['plaintiff', 'defendant', 'agent', 'third_party', 'other'])[1 + t.person %% 5],
    CASE WHEN t.r_case < 0.45 THEN
        '(' || extract(year FROM t.received_at AT TIME ZONE 'Asia/Shanghai')::int || ')京0105'
        || (ARRAY['民初', '民终', '执', '民特'])[1 + t.i %% 4] || (t.i %% 50000 + 1) || '号'
    ELSE '' END,
    '当事人来电反映：案件承办法官联系不上，希望尽快了解案件进展，并请法官回电说明开庭时间和需要补充提交的证据材料。'
        || '来电编号 ' || t.i,
    t.received_at,
    CASE WHEN t.dispatched_once THEN (%(department_ids)s::int[])[t.department_slot] END,
    CASE WHEN t.taken_up AND t.r_assigned < 0.85
         THEN (%(judge_ids)s::int[])[t.department_slot][1 + floor(t.r_judge * %(judges_per_department)s)::int] END,
    t.status,
    24, t.working_days,
    t.received_at + interval '24 hours',
    t.clock_start,
    t.received_at + interval '18 hours',
    t.clock_start + t.working_days * interval '1 day' * 1.4 - interval '1 second',
    t.clock_start + t.working_days * interval '1 day' * 1.05,
    CASE WHEN t.status = 'in_progress' AND t.r_pause < 0.05 THEN t.received_at + interval '2 days' END,
    CASE WHEN t.status = 'in_progress' AND t.r_pause < 0.05 THEN '等待当事人补充材料' ELSE '' END,
    CASE WHEN t.status = 'in_progress' AND t.r_pause < 0.05 THEN 'requester' ELSE '' END,
    0,
    CASE WHEN t.taken_up OR (t.dispatched_once AND t.r_contact < 0.3)
         THEN t.received_at + t.r_contact * interval '30 hours' END,
    CASE WHEN t.answered
         THEN t.received_at + (CASE WHEN t.r_late < 0.08 THEN 1.6 ELSE 1.1 END) * t.r_reply
              * t.working_days * interval '1 day' END,
    CASE WHEN t.finished
         THEN t.received_at + t.working_days * interval '1 day' * 1.8 + t.r_close * interval '3 days' END,
    CASE WHEN t.finished THEN '已电话答复当事人，当事人表示理解。' ELSE '' END,
    CASE WHEN t.finished AND t.r_visit < 0.6 THEN
        CASE WHEN t.status = 'reopened' THEN 'unsatisfied'
             WHEN t.r_satisfaction < 0.70 THEN 'satisfied'
             WHEN t.r_satisfaction < 0.92 THEN 'basically'
             WHEN t.r_satisfaction < 0.96 THEN 'unsatisfied'
             ELSE '' END
    ELSE '' END,
    CASE WHEN t.finished AND t.r_visit < 0.6
         THEN t.received_at + t.working_days * interval '1 day' * 1.8 + interval '5 days' END,
    NULL,
    t.received_at,
    t.received_at
FROM timed AS t
"""


def fill(total: int, departments, judges) -> None:
    """Replace the work orders with `total` new ones."""
    import datetime as dt

    from django.conf import settings
    from django.db import connection

    shares = [share for _name, _code, share in DEPARTMENTS]
    bounds = [sum(shares[: index + 1]) for index in range(3)]
    span_days = (dt.date.today() - dt.date(2018, 1, 2)).days + 1
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE mediation_workorder RESTART IDENTITY CASCADE")
        # Loading first and building the secondary indexes afterwards is many times
        # faster than maintaining them row by row; the indexes are the same ones.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'mediation_workorder' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'mediation_workorder'::regclass)"
        )
        secondary_indexes = cursor.fetchall()
        for name, _definition in secondary_indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT setseed(%s)", [SEED])
        # The rows name existing departments and judges by construction; a superuser
        # skips the million foreign-key trigger checks (others simply wait longer).
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            cursor.execute("SET session_replication_role = replica")
        for start in range(1, total + 1, FILL_BATCH):
            cursor.execute(
                FILL_SQL,
                {
                    "first": start,
                    "last": min(start + FILL_BATCH - 1, total),
                    "total": total,
                    "pool": max(total // 3, 1),
                    "span_days": span_days,
                    "d1": bounds[0],
                    "d2": bounds[1],
                    "d3": bounds[2],
                    "department_ids": [department.pk for department in departments],
                    "judge_ids": [judges[department.pk] for department in departments],
                    "judges_per_department": JUDGES_PER_DEPARTMENT,
                    "prefix": settings.WORK_ORDER_NUMBER_PREFIX,
                },
            )
        if superuser:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _name, definition in secondary_indexes:
            cursor.execute(definition)
        # Autovacuum would get here on its own after a bulk load; doing it now makes
        # the measurements repeatable (planner statistics, the visibility map that
        # index-only scans read).
        cursor.execute("VACUUM (ANALYZE) mediation_workorder")


@dataclass
class Case:
    group: str
    label: str
    run: object  # run(page_number) for the desk list, run() otherwise
    goal_ms: float
    middle_page_of: object = None  # filters whose middle page this case opens
    queries: dict = field(default_factory=dict)
    pages: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


def desk_paginator_class():
    """The paginator the desk view uses."""
    from mediation.pagination import DeskPaginator

    return DeskPaginator


def desk_page(user, filters, page_number):
    """What the desk view does for one request, up to rendering: the selector, the
    paginator's COUNT, the page's rows, and what the template reads."""
    from mediation.selectors.work_orders import desk_orders
    from mediation.views.work_orders import DESK_PAGE_SIZE

    paginator = desk_paginator_class()(desk_orders(user, filters), DESK_PAGE_SIZE)
    page = paginator.get_page(page_number)
    rows = [(order.number, order.department, order.assignee) for order in page.object_list]
    return rows, paginator.count, paginator.num_pages


def sample_requester() -> tuple[str, str, str, str]:
    """A caller's phone, a three-character name, and parts of an order and a case
    number, from the middle of the table."""
    from mediation.models import WorkOrder

    middle = WorkOrder.objects.order_by("-id").values_list("id", flat=True).first() // 2
    orders = WorkOrder.objects.filter(id__gte=middle).order_by("id")
    phone = orders.values_list("requester_phone", flat=True).first()
    name = next(name for name in orders.values_list("requester_name", flat=True)[:100] if len(name) == 3)
    number = orders.values_list("number", flat=True).first()
    case_number = orders.exclude(case_number="").values_list("case_number", flat=True).first()
    # The tail of an order number ("0050001") and the part of a case number people
    # remember ("民初123").
    return phone, name, number.split("-")[-1], case_number[case_number.index(")") + 6 :].rstrip("号")


def build_cases(liaison, departments) -> list[Case]:
    from mediation.selectors.stats import work_order_figures
    from mediation.selectors.work_orders import DeskFilters

    department = departments[1].pk
    phone, name, order_part, case_part = sample_requester()
    list_filters = [
        ("no filter", DeskFilters()),
        ("status=in_progress", DeskFilters(status="in_progress")),
        ("status=closed", DeskFilters(status="closed")),
        ("department+status=in_progress", DeskFilters(department=department, status="in_progress")),
        ("overdue", DeskFilters(overdue=True)),
    ]
    cases = []
    for label, filters in list_filters:
        show = lambda page, f=filters: desk_page(liaison, f, page)  # noqa: E731
        cases.append(Case("list", f"{label}, page 1", show, LIST_GOAL_MS))
        cases.append(Case("list", f"{label}, middle page", show, LIST_GOAL_MS, middle_page_of=filters))
    national = str(phone).removeprefix("+86")
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    searches = (
        (f"phone {phone}", str(phone)),
        (f"phone typed {spaced}", spaced),
        (f"phone last 4 {national[-4:]}", national[-4:]),
        (f"phone prefix {national[:7]}", national[:7]),
        (f"order number part {order_part}", order_part),
        (f"case number part {case_part}", case_part),
        (f"name {name}", name),
    )
    for label, query in searches:
        show = lambda page, q=query: desk_page(liaison, DeskFilters(query=q), page)  # noqa: E731
        cases.append(Case("search", label, show, LIST_GOAL_MS))
    for year_to in (2020, 2026):
        figures = lambda y=year_to: work_order_figures(year_from=2018, year_to=y)  # noqa: E731
        cases.append(Case("stats", f"figures 2018-{year_to}", figures, STATS_GOAL_MS))
    return cases


def runner(case: Case, size: int):
    if case.group == "stats":
        return case.run
    page = 1
    if case.middle_page_of is not None:
        _rows, _count, num_pages = case.run(1)
        page = num_pages if getattr(case, "last_page", False) else max(num_pages // 2, 1)
    case.pages[size] = page
    return lambda: case.run(page)


def measure(case: Case, size: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = runner(case, size)
    with CaptureQueriesContext(connection) as captured:
        run()
    case.queries[size] = len(captured.captured_queries)
    for _ in range(WARMUP):
        run()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95_index = min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))
    case.timings[size] = (statistics.median(samples), samples[p95_index])


def label_of(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k"


def print_table(cases: list[Case], sizes: list[int]) -> None:
    small, large = sizes[0], sizes[-1]
    header = f"{'':8}{'case':38}{'pages':>14}{'q':>3}"
    for size in sizes:
        header += f"{label_of(size) + ' p50':>11}{label_of(size) + ' p95':>11}"
    header += f"{'ratio':>8}  goal"
    print()
    print(header)
    print("-" * (len(header) + 28))
    for case in cases:
        pages = "/".join(str(case.pages[size]) for size in sizes if size in case.pages)
        line = f"{case.group:8}{case.label[:37]:38}{pages:>14}{case.queries.get(large, 0):>3}"
        for size in sizes:
            p50, p95 = case.timings.get(size, (float("nan"), float("nan")))
            line += f"{p50:>11.1f}{p95:>11.1f}"
        if len(sizes) > 1 and small in case.timings and large in case.timings:
            ratio = case.timings[large][1] / case.timings[small][1]
            met = case.timings[large][1] <= case.goal_ms and ratio <= RATIO_GOAL
            line += f"{ratio:>8.2f}  p95<={case.goal_ms:.0f}, ratio<={RATIO_GOAL:.0f}: {'ok' if met else 'MISSED'}"
        print(line)
    print()
    print(f"ms; p50/p95 over {RUNS} runs after {WARMUP} warm-up runs; ratio = p95 {label_of(large)} / p95 ", end="")
    print(f"{label_of(small)}; pages = page opened per size; q = SQL queries per call at {label_of(large)}.")
    print(f"Paginator: {desk_paginator_class().__module__}.{desk_paginator_class().__name__}.")


def measure_all(cases: list[Case], size: int) -> None:
    for case in cases:
        measure(case, size)
        p50, p95 = case.timings[size]
        page = f" (page {case.pages[size]})" if size in case.pages else ""
        share = f"{p95 / case.goal_ms:.2f} of goal"
        print(f"  {label_of(size):>4} {case.group:7}{case.label + page:52} p50 {p50:8.1f}  p95 {p95:8.1f}  {share}")


def print_sizes(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table])
            print(f"{table} with its indexes: {cursor.fetchone()[0]}")


def main() -> None:
    started = time.perf_counter()
    print(f"Recreating {database_name(DATABASE_URL)} and migrating ...", flush=True)
    recreate_database()
    set_up_django()

    liaison, departments, judges = create_people()
    try:
        if ONLY != "cases":
            cases = None
            for size in SIZES:
                fill_started = time.perf_counter()
                fill(size, departments, judges)
                print(f"Filled {size:,} work orders in {time.perf_counter() - fill_started:.1f} s", flush=True)
                cases = cases or build_cases(liaison, departments)
                measure_all(cases, size)
            print_sizes("mediation_workorder")
            print_table(cases, SIZES)
        if ONLY != "desk":
            from benchmarks.case_list import build_case_list_cases, create_roster, fill_cases

            mediators, admin, judge_ids = create_roster(judges)
            cases = None
            for size in CASE_SIZES:
                fill_started = time.perf_counter()
                fill_cases(size, mediators, judge_ids)
                print(f"Filled {size:,} mediation cases in {time.perf_counter() - fill_started:.1f} s", flush=True)
                cases = cases or build_case_list_cases(liaison, mediators, admin, Case, LIST_GOAL_MS)
                measure_all(cases, size)
            print_sizes("mediation_mediationcase", "mediation_party")
            print_table(cases, CASE_SIZES)
    finally:
        if KEEP:
            print(f"Kept database {database_name(DATABASE_URL)}.")
        else:
            drop_database()
    print(f"Total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
