"""The list of mediation cases: searched by case number, party name, party phone or
mediator; filtered by status, mediator, organisation and overdue; paged with the
desk's paginator past the 200 rows it used to stop at; each person sees only the
cases they saw before (and an organisation's administrator their organisation's)."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mediation.models import MediationCase
from mediation.roles import Role
from tests.case_rows import case_rows, organisation_with_admin
from tests.cases import make_case
from tests.factories import staff

pytestmark = pytest.mark.django_db
Status = MediationCase.Status


def listed(client, **params) -> list[str]:
    response = client.get(reverse("case_list"), params)
    assert response.status_code == 200
    return [case.number for case in response.context["page"].object_list]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def other_mediator(filing):
    return staff(Role.MEDIATOR, filing, full_name="Chen Jun", email="mediator2@example.test")


# --- search ------------------------------------------------------------------------


def test_search_by_whole_case_number_finds_that_case(client, liaison, mediator):
    wanted, _other = case_rows(2, mediator=mediator)
    client.force_login(liaison)
    assert listed(client, q=wanted.number) == [wanted.number]
    # Typed with full-width brackets, as Chinese keyboards do.
    typed = wanted.number.replace("(", "（").replace(")", "）")
    assert listed(client, q=typed) == [wanted.number]


def test_search_by_part_of_a_case_number(client, liaison, mediator):
    cases = case_rows(3, mediator=mediator)
    wanted = cases[1]
    client.force_login(liaison)
    tail = wanted.number.split("调")[1].rstrip("号")
    assert listed(client, q=f"调{tail}") == [wanted.number]


def test_search_by_part_of_a_party_name(client, liaison, mediator):
    (wanted,) = case_rows(1, mediator=mediator, party_name="上海文化传媒有限公司")
    case_rows(2, mediator=mediator, party_name="北京科技有限公司")
    client.force_login(liaison)
    assert listed(client, q="文化传媒") == [wanted.number]
    assert listed(client, q="shanghai") == []


def test_two_characters_find_a_whole_name_or_a_names_start(client, liaison, mediator):
    (short_name,) = case_rows(1, mediator=mediator, party_name="李娜")
    (long_name,) = case_rows(1, mediator=mediator, party_name="杨力明")
    client.force_login(liaison)
    assert listed(client, q="李娜") == [short_name.number]
    assert listed(client, q="杨力") == [long_name.number]
    # Two characters from the middle of a name would read every party: not searched.
    assert listed(client, q="力明") == []
    assert listed(client, q="杨力明") == [long_name.number]


def test_search_by_party_phone_however_typed(client, liaison, mediator):
    (wanted,) = case_rows(1, mediator=mediator, party_name="王芳", party_phone="+8613812345678")
    case_rows(1, mediator=mediator, party_name="李娜", party_phone="+8613912345678")
    client.force_login(liaison)
    for typed in ("13812345678", "138 1234 5678", "+86 138-1234-5678"):
        assert listed(client, q=typed) == [wanted.number], typed


def test_search_by_mediator_name(client, liaison, mediator, other_mediator):
    (wanted,) = case_rows(1, mediator=other_mediator)
    case_rows(2, mediator=mediator)
    client.force_login(liaison)
    assert listed(client, q="Chen") == [wanted.number]


def test_a_search_matching_nothing_says_so(client, liaison, mediator):
    case_rows(1, mediator=mediator, party_name="王芳")
    client.force_login(liaison)
    response = client.get(reverse("case_list"), {"q": "赵钱孙"})
    assert response.context["page"].object_list == [] or not list(response.context["page"].object_list)
    assert "No case matches this search or these filters." in response.content.decode()


# --- filters -----------------------------------------------------------------------


def test_filter_by_status_including_delegated(client, liaison, mediator):
    organisation, _admin = organisation_with_admin("朝阳区人民调解委员会")
    (delegated,) = case_rows(1, mediator=None, status=Status.DELEGATED, organisation=organisation)
    (settled,) = case_rows(1, mediator=mediator, status=Status.SETTLED)
    case_rows(1, mediator=mediator)
    client.force_login(liaison)
    assert listed(client, status="delegated") == [delegated.number]
    assert listed(client, status="settled") == [settled.number]
    assert "No mediator yet" in client.get(reverse("case_list"), {"status": "delegated"}).content.decode()


def test_filter_by_mediator_and_status(client, liaison, mediator, other_mediator):
    (wanted,) = case_rows(1, mediator=other_mediator, status=Status.IN_MEDIATION)
    case_rows(1, mediator=other_mediator, status=Status.PENDING)
    case_rows(1, mediator=mediator, status=Status.IN_MEDIATION)
    client.force_login(liaison)
    assert listed(client, mediator=other_mediator.pk, status="in_mediation") == [wanted.number]


def test_filter_by_organisation(client, liaison, mediator):
    ours, _ = organisation_with_admin("朝阳区人民调解委员会")
    theirs, _ = organisation_with_admin("北京商事调解中心")
    (wanted,) = case_rows(1, mediator=mediator, organisation=ours)
    case_rows(1, mediator=mediator, organisation=theirs)
    case_rows(1, mediator=mediator)
    client.force_login(liaison)
    assert listed(client, organisation=ours.pk) == [wanted.number]


def test_overdue_means_open_and_past_the_deadline(client, liaison, mediator):
    today = timezone.localdate()
    (late,) = case_rows(1, mediator=mediator, status=Status.IN_MEDIATION, deadline=today - dt.timedelta(days=1))
    (late_delegated,) = case_rows(1, mediator=None, status=Status.DELEGATED, deadline=today - dt.timedelta(days=3))
    case_rows(1, mediator=mediator, status=Status.IN_MEDIATION, deadline=today)  # due today: not yet late
    case_rows(1, mediator=mediator, status=Status.SETTLED, deadline=today - dt.timedelta(days=5))  # concluded
    client.force_login(liaison)
    assert set(listed(client, overdue="on")) == {late.number, late_delegated.number}


def test_filters_and_search_combine(client, liaison, mediator, other_mediator):
    (wanted,) = case_rows(1, mediator=mediator, status=Status.PENDING, party_name="王芳")
    case_rows(1, mediator=mediator, status=Status.SETTLED, party_name="王芳")
    case_rows(1, mediator=other_mediator, status=Status.PENDING, party_name="王芳")
    client.force_login(liaison)
    assert listed(client, q="王芳", status="pending", mediator=mediator.pk) == [wanted.number]


# --- pagination --------------------------------------------------------------------


def test_the_list_pages_past_two_hundred_cases(client, liaison, mediator):
    cases = case_rows(230, mediator=mediator)
    client.force_login(liaison)
    response = client.get(reverse("case_list"))
    page = response.context["page"]
    assert page.paginator.count == 230
    assert page.paginator.num_pages == 10
    assert "230 cases" in response.content.decode()
    # The last page holds the oldest cases, including those past the old 200 cut-off.
    last = listed(client, page=10)
    assert last == [case.number for case in reversed(cases[:5])]
    every = [number for page_number in range(1, 11) for number in listed(client, page=page_number)]
    assert sorted(every) == sorted(case.number for case in cases)


def test_the_page_links_keep_the_search_and_filters(client, liaison, mediator):
    case_rows(30, mediator=mediator, status=Status.PENDING, party_name="王芳")
    client.force_login(liaison)
    html = client.get(reverse("case_list"), {"q": "王芳", "status": "pending"}).content.decode()
    assert "status=pending&amp;page=2" in html
    assert listed(client, q="王芳", status="pending", page=2) != []


# --- who sees what -----------------------------------------------------------------


def test_a_mediator_sees_only_their_own_cases(client, mediator, other_mediator):
    mine = case_rows(2, mediator=mediator)
    case_rows(3, mediator=other_mediator)
    client.force_login(mediator)
    assert sorted(listed(client)) == sorted(case.number for case in mine)
    # Filtering by another mediator reveals nothing of theirs.
    assert listed(client, mediator=other_mediator.pk) == []


def test_a_judge_sees_the_cases_they_supervise(client, judge, mediator):
    (theirs,) = case_rows(1, mediator=mediator, judge=judge)
    case_rows(2, mediator=mediator)
    client.force_login(judge)
    assert listed(client) == [theirs.number]


def test_an_organisation_admin_sees_only_their_organisations_cases(client, mediator):
    ours, admin = organisation_with_admin("朝阳区人民调解委员会")
    theirs, _ = organisation_with_admin("北京商事调解中心")
    our_cases = case_rows(1, mediator=None, status=Status.DELEGATED, organisation=ours)
    our_cases += case_rows(1, mediator=mediator, organisation=ours)
    (their_case,) = case_rows(1, mediator=mediator, organisation=theirs)
    case_rows(1, mediator=mediator)
    client.force_login(admin)
    assert sorted(listed(client)) == sorted(case.number for case in our_cases)
    assert listed(client, organisation=theirs.pk) == []
    # The case page follows the list: theirs opens, another organisation's does not.
    assert client.get(reverse("case_detail", args=[our_cases[0].pk])).status_code == 200
    assert client.get(reverse("case_detail", args=[their_case.pk])).status_code == 404


def test_an_organisation_admin_of_no_organisation_sees_no_case(client, mediator):
    admin = staff(Role.ORGANISATION_ADMIN, full_name="Admin without organisation")
    case_rows(2, mediator=mediator)
    client.force_login(admin)
    assert listed(client) == []


def test_people_without_a_staff_role_cannot_open_the_list(client, nobody, mediator):
    case_rows(1, mediator=mediator)
    client.force_login(nobody)
    assert client.get(reverse("case_list")).status_code == 403
    client.logout()
    assert client.get(reverse("case_list")).status_code == 302


# --- bad parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"mediator": "abc"},
        {"mediator": "999999"},
        {"organisation": "x"},
        {"organisation": "999999"},
        {"q": "x" * 500},
    ],
)
def test_bad_parameters_give_a_message_not_an_error(client, liaison, mediator, params):
    cases = case_rows(2, mediator=mediator)
    client.force_login(liaison)
    response = client.get(reverse("case_list"), params)
    assert response.status_code == 200
    assert any("This filter was left out." in message for message in messages_of(response))
    # The filter that was not understood is left out: every case is listed.
    assert sorted(case.number for case in response.context["page"].object_list) == sorted(c.number for c in cases)


@pytest.mark.parametrize("page", ["zzz", "0", "-3", "9999"])
def test_a_page_number_out_of_range_shows_a_page_of_cases(client, liaison, mediator, page):
    case_rows(3, mediator=mediator)
    client.force_login(liaison)
    response = client.get(reverse("case_list"), {"page": page})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 3


def test_the_list_takes_the_same_number_of_queries_for_more_cases(
    client, liaison, mediator, django_assert_max_num_queries
):
    organisation, _ = organisation_with_admin("朝阳区人民调解委员会")
    case_rows(5, mediator=mediator, organisation=organisation)
    client.force_login(liaison)
    client.get(reverse("case_list"))
    case_rows(40, mediator=mediator, organisation=organisation)
    with django_assert_max_num_queries(20):
        client.get(reverse("case_list"), {"page": 2})


def test_the_list_and_the_case_page_follow_one_rule_for_everyone(judge, mediator, other_mediator, liaison, nobody):
    """visible_cases (SQL) against the case `view` rule (policy), for each person and
    each case: the list never shows a case its page would refuse, nor hides one it
    would open."""
    from mediation import policy
    from mediation.selectors.cases import visible_cases

    ours, admin = organisation_with_admin("朝阳区人民调解委员会")
    theirs, other_admin = organisation_with_admin("北京商事调解中心")
    world = make_case(mediator, judge)
    rows = [
        world.case,
        *case_rows(1, mediator=None, status=Status.DELEGATED, organisation=ours),
        *case_rows(1, mediator=other_mediator, organisation=theirs),
        *case_rows(1, mediator=other_mediator, judge=judge),
        *case_rows(1, mediator=mediator, status=Status.SETTLED),
    ]
    from tests.factories import DepartmentFactory

    assert judge.department_id is not None
    head = staff(Role.DEPARTMENT_HEAD, judge.department, full_name="Head of the judge's department")
    other_head = staff(Role.DEPARTMENT_HEAD, DepartmentFactory(), full_name="Head of another department")
    people = [liaison, judge, mediator, other_mediator, admin, other_admin, nobody, world.plaintiff, world.defendant]
    people += [head, other_head]
    for person in people:
        person = type(person).objects.get(pk=person.pk)  # no cached roles
        listed_ids = set(visible_cases(person).values_list("pk", flat=True))
        for case in rows:
            case = MediationCase.objects.get(pk=case.pk)
            assert (case.pk in listed_ids) == policy.can_on_case(person, "view", case), (person, case.number)
