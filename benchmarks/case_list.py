"""How fast the list of mediation cases stays at 100,000 cases (issue 20: p95 <= 100 ms).

Run through `benchmarks/desk.py` (BENCH_ONLY=cases for this part alone). Fills the
benchmark database with cases spread over 2018-2026 (more each year; the old ones
concluded, a backlog open and some overdue; delegated ones without a mediator),
two parties each from a pool of repeat litigants, 40 mediators in four mediation
organisations, then times what the case list view runs: `case_list()` and the desk's
paginator, the COUNT, the page's rows and what the template reads."""

from __future__ import annotations

ORGANISATIONS = [
    ("朝阳区人民调解委员会", "peoples_committee"),
    ("北京市物业纠纷调解中心", "industry"),
    ("北京国际商事调解中心", "commercial"),
    ("本院诉调对接中心", "court"),
]
MEDIATORS_PER_ORGANISATION = 10
CASE_FILL_BATCH = 100_000

# Cases arrive in the order they were opened (the heap in created_at order), more of
# them each year (sqrt density). Concluded unless recent; delegated cases have no
# mediator yet. Parties come from a pool a third the size of the table (repeat
# litigants), so a phone or a name finds a few cases.
CASE_FILL_SQL = """
WITH draw AS (
    SELECT i, random() AS r_day, random() AS r_status, random() AS r_mediator, random() AS r_judge,
           random() AS r_cause, random() AS r_amount, random() AS r_extension
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
),
placed AS (
    SELECT d.*,
           least(
               timestamptz '2018-01-02 09:00:00+08'
                   + floor(sqrt((d.i - 1 + d.r_day) / %(total)s) * %(span_days)s) * interval '1 day'
                   + d.r_day * interval '8 hours',
               now() - interval '5 minutes'
           ) AS created_at
    FROM draw AS d
),
shaped AS (
    SELECT p.*,
           CASE WHEN p.created_at < now() - interval '60 days' THEN
               CASE WHEN p.r_status < 0.55 THEN 'settled' WHEN p.r_status < 0.85 THEN 'failed'
                    WHEN p.r_status < 0.97 THEN 'withdrawn' WHEN p.r_status < 0.99 THEN 'in_mediation'
                    ELSE 'pending' END
           ELSE
               CASE WHEN p.r_status < 0.08 THEN 'delegated' WHEN p.r_status < 0.30 THEN 'pending'
                    WHEN p.r_status < 0.70 THEN 'in_mediation' WHEN p.r_status < 0.85 THEN 'settled'
                    WHEN p.r_status < 0.95 THEN 'failed' ELSE 'withdrawn' END
           END AS status,
           1 + floor(p.r_mediator * %(mediator_count)s)::int AS mediator_slot,
           (p.created_at AT TIME ZONE 'Asia/Shanghai')::date AS started_on
    FROM placed AS p
)
INSERT INTO mediation_mediationcase (
    number, cause_of_action, claim_amount, facts, status, started_on, deadline, outcome_note, concluded_at,
    filed_case_number, filed_at, created_at, updated_at, created_by_id, judge_id, mediator_id, work_order_id,
    accepted_at, undisputed_facts, organisation_id
)
SELECT
    '(' || extract(year FROM s.started_on)::int || ')京0105民诉前调' || s.i || '号',
    (ARRAY['合同纠纷', '买卖合同纠纷', '民间借贷纠纷', '物业服务合同纠纷', '房屋租赁合同纠纷', '劳务合同纠纷',
           '机动车交通事故责任纠纷', '服务合同纠纷'])[1 + floor(s.r_cause * 8)::int],
    round((s.r_amount * 500000)::numeric, 2),
    '原告诉称被告未按约支付款项，请求调解。',
    s.status,
    s.started_on,
    s.started_on + CASE WHEN s.r_extension < 0.1 THEN 45 ELSE 30 END,
    '',
    CASE WHEN s.status IN ('settled', 'failed', 'withdrawn') THEN s.created_at + interval '20 days' END,
    '', NULL, s.created_at, s.created_at, NULL,
    (%(judge_ids)s::bigint[])[1 + floor(s.r_judge * %(judge_count)s)::int],
    CASE WHEN s.status = 'delegated' THEN NULL ELSE (%(mediator_ids)s::bigint[])[s.mediator_slot] END,
    NULL,
    CASE WHEN s.status = 'delegated' THEN NULL ELSE s.created_at END,
    '',
    (%(organisation_ids)s::bigint[])[s.mediator_slot]
FROM shaped AS s
"""

PARTY_FILL_SQL = """
WITH sides AS (
    SELECT c.id AS case_id, c.created_at, side.name AS side, side.n,
           floor(random() * %(pool)s)::bigint AS person
    FROM mediation_mediationcase AS c
    CROSS JOIN (VALUES ('plaintiff', 0), ('defendant', 1)) AS side(name, n)
    WHERE c.id BETWEEN %(first)s AND %(last)s
)
INSERT INTO mediation_party (
    side, kind, name, id_number, credit_code, legal_representative, phone, address, created_at, case_id,
    id_number_hash
)
SELECT
    s.side,
    CASE WHEN s.n = 1 AND s.person %% 3 = 0 THEN 'organisation' ELSE 'person' END,
    CASE WHEN s.n = 1 AND s.person %% 3 = 0 THEN
        '北京' || (ARRAY['云图', '星河', '华信', '中科', '远航', '博达', '恒通', '嘉禾', '瑞丰', '金桥'])
            [1 + s.person %% 10]
        || (ARRAY['科技', '传媒', '物业', '商贸', '建设', '餐饮'])[1 + (s.person / 10) %% 6]
        || '有限公司' || (s.person / 60)
    ELSE
        (ARRAY['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭',
               '何', '高', '林', '罗', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹'])
            [1 + s.person %% 30]
        || (ARRAY['伟', '芳', '娜', '秀', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛',
                  '明', '超', '兰', '霞', '平', '刚', '桂', '英', '华', '玉', '萍', '红', '建', '文', '辉', '力',
                  '琳', '鹏', '晨', '宇', '欣', '佳', '浩', '婷'])[1 + (s.person / 30) %% 40]
        || (ARRAY['', '英', '华', '明', '国', '志', '海', '东', '峰', '丹', '燕', '飞', '波', '凯', '春', '梅',
                  '云', '雪', '林', '杰', '慧', '珍', '斌', '龙', '阳', '亮', '成', '新', '坤', '宁', '俊', '荣',
                  '瑞', '博', '彬', '鑫', '璐', '蕾', '倩', '楠', '颖'])[1 + (s.person / 1200) %% 41]
    END,
    '', '', '',
    '+861' || (ARRAY['3', '5', '8', '9', '7'])[1 + s.person %% 5]
        || lpad(((s.person * 7919 + 12345) %% 1000000000)::text, 9, '0'),
    '北京市朝阳区', s.created_at, s.case_id, ''
FROM sides AS s
"""


def create_roster(judges):
    """Four organisations with ten mediators each, an administrator of the first, and
    the judges of the desk's departments."""
    from django.contrib.auth.models import Group

    from mediation.models import MediationOrganisation, User
    from mediation.roles import Role

    mediator_group = Group.objects.get(name=Role.MEDIATOR)
    organisations, mediators = [], []
    for index, (name, kind) in enumerate(ORGANISATIONS):
        organisation = MediationOrganisation.objects.create(name=name, kind=kind, region="北京市朝阳区")
        organisations.append(organisation)
        for number in range(MEDIATORS_PER_ORGANISATION):
            mediator = User.objects.create_user(
                f"mediator-{index}-{number}@bench.test", None, full_name=f"{name[:2]}调解员{number + 1}"
            )
            mediator.groups.add(mediator_group)
            mediators.append((mediator, organisation))
    admin = User.objects.create_user("org-admin@bench.test", None, full_name="调委会管理员")
    admin.groups.add(Group.objects.get(name=Role.ORGANISATION_ADMIN))
    organisations[0].admins.add(admin)
    judge_ids = [pk for department_judges in judges.values() for pk in department_judges]
    return mediators, admin, judge_ids


def fill_cases(total: int, mediators, judge_ids) -> None:
    """Replace the cases (and their parties) with `total` new ones."""
    import datetime as dt

    from django.db import connection

    span_days = (dt.date.today() - dt.date(2018, 1, 2)).days + 1
    tables = ("mediation_mediationcase", "mediation_party")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE mediation_mediationcase RESTART IDENTITY CASCADE")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = ANY(ARRAY[%s::regclass, %s::regclass]))",
            [list(tables), *tables],
        )
        secondary_indexes = cursor.fetchall()
        for name, _definition in secondary_indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT setseed(%s)", [0.2020])
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            cursor.execute("SET session_replication_role = replica")
        for start in range(1, total + 1, CASE_FILL_BATCH):
            last = min(start + CASE_FILL_BATCH - 1, total)
            cursor.execute(
                CASE_FILL_SQL,
                {
                    "first": start,
                    "last": last,
                    "total": total,
                    "span_days": span_days,
                    "mediator_count": len(mediators),
                    "mediator_ids": [mediator.pk for mediator, _organisation in mediators],
                    "organisation_ids": [organisation.pk for _mediator, organisation in mediators],
                    "judge_ids": judge_ids,
                    "judge_count": len(judge_ids),
                },
            )
            cursor.execute(PARTY_FILL_SQL, {"first": start, "last": last, "pool": max(total * 2 // 3, 1)})
        if superuser:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _name, definition in secondary_indexes:
            cursor.execute(definition)
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def case_list_page(user, filters, page_number):
    """What the case list view does for one request, up to rendering."""
    from mediation.pagination import DeskPaginator
    from mediation.selectors.case_list import case_list
    from mediation.views.cases import CASE_LIST_PAGE_SIZE

    paginator = DeskPaginator(case_list(user, filters), CASE_LIST_PAGE_SIZE)
    page = paginator.get_page(page_number)
    rows = [(case.number, case.mediator, case.organisation, case.work_order) for case in page.object_list]
    return rows, paginator.count, paginator.num_pages


def sample_party():
    """A person's phone and name, and part of a case number, from the middle of the table."""
    from mediation.models import MediationCase, Party

    middle = MediationCase.objects.order_by("-id").values_list("id", flat=True).first() // 2
    parties = Party.objects.filter(case_id__gte=middle, kind="person").order_by("case_id", "id")
    phone = parties.values_list("phone", flat=True).first()
    name = next(name for name in parties.values_list("name", flat=True)[:100] if len(name) == 3)
    number = MediationCase.objects.filter(id__gte=middle).order_by("id").values_list("number", flat=True).first()
    return str(phone), name, number


def build_case_list_cases(liaison, mediators, admin, case_class, goal_ms) -> list:
    from mediation.selectors.case_list import CaseListFilters

    phone, name, number = sample_party()
    national = phone.removeprefix("+86")
    mediator = mediators[len(mediators) // 2][0]
    deep = object()  # marks "open the last page offered"
    scenarios = [
        ("liaison", liaison, "no filter", CaseListFilters(), None),
        ("liaison", liaison, "no filter", CaseListFilters(), "middle"),
        ("liaison", liaison, "no filter", CaseListFilters(), deep),
        ("liaison", liaison, "status=settled", CaseListFilters(status="settled"), "middle"),
        ("liaison", liaison, "status=delegated", CaseListFilters(status="delegated"), None),
        ("liaison", liaison, "mediator+status", CaseListFilters(mediator=mediator.pk, status="in_mediation"), None),
        ("liaison", liaison, "mediator", CaseListFilters(mediator=mediator.pk), "middle"),
        ("liaison", liaison, "overdue", CaseListFilters(overdue=True), None),
        ("liaison", liaison, f"name {name}", CaseListFilters(query=name), None),
        ("liaison", liaison, f"name part {name[:2]}", CaseListFilters(query=name[:2]), None),
        ("liaison", liaison, f"phone {phone}", CaseListFilters(query=phone), None),
        (
            "liaison",
            liaison,
            f"phone typed {national[:3]} {national[3:7]} {national[7:]}",
            CaseListFilters(query=f"{national[:3]} {national[3:7]} {national[7:]}"),
            None,
        ),
        ("liaison", liaison, f"case number {number}", CaseListFilters(query=number), None),
        ("liaison", liaison, "case number part", CaseListFilters(query=number[number.index("调") : -1]), None),
        ("liaison", liaison, f"mediator name {mediator.full_name}", CaseListFilters(query=mediator.full_name), None),
        ("mediator", mediator, "own cases", CaseListFilters(), None),
        ("mediator", mediator, "own cases", CaseListFilters(), "middle"),
        ("org admin", admin, "organisation's cases", CaseListFilters(), None),
        ("org admin", admin, "organisation's cases, overdue", CaseListFilters(overdue=True), None),
    ]
    cases = []
    for who, user, label, filters, page in scenarios:
        if page is None:
            run = lambda page_number, u=user, f=filters: case_list_page(u, f, page_number)  # noqa: E731
            cases.append(case_class("cases", f"{who}: {label}, page 1", run, goal_ms))
        else:
            run = lambda page_number, u=user, f=filters: case_list_page(u, f, page_number)  # noqa: E731
            where = "last page" if page is deep else "middle page"
            case = case_class("cases", f"{who}: {label}, {where}", run, goal_ms, middle_page_of=filters)
            case.last_page = page is deep
            cases.append(case)
    return cases
