"""Phone and resident ID numbers (PIPL): whole only for whoever needs them, masked
(138****2222, 110***********002X) for everyone else, on every page and API answer
that shows them (mediation.disclosure holds the rules).

- a party's ID number: the case's mediator and judge and the general liaison;
- a party's phone: those, and the people who take part for that same party;
- a requester's ID number: the general liaison (and a case's mediator and judge);
- a requester's phone: those, and the order's handlers (assignee, department
  liaison and head).
The operator's account (superuser) reads everything masked.
"""

from __future__ import annotations

import io
import zipfile
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from mediation import disclosure, id_numbers, phones
from mediation.models import Party
from mediation.services import cases as case_services
from tests.security.world import ROLES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("court_files_in_use")]

PLAINTIFF_PHONE, DEFENDANT_PHONE, REQUESTER_PHONE = "+8613811112222", "+8613933334444", "+8613755556666"
PLAINTIFF_ID, DEFENDANT_ID, REQUESTER_ID = "11010519491231002X", "110101199003071153", "440305198812120013"

# Who reads each value whole; everyone else who reaches the page reads it masked.
# A department head reads the case pages of their department's judges and mediators
# (issue 20: they supervise them), the numbers masked.
CASE_PAGE_READERS = {"general_liaison", "mediator", "judge", "plaintiff", "defendant", "superuser", "department_head"}
WHOLE_ON_CASE_PAGE = {
    "plaintiff_phone": {"general_liaison", "mediator", "judge", "plaintiff"},
    "defendant_phone": {"general_liaison", "mediator", "judge", "defendant"},
    "plaintiff_id": {"general_liaison", "mediator", "judge"},
    "defendant_id": {"general_liaison", "mediator", "judge"},
}
ORDER_PAGE_READERS = {"general_liaison", "department_liaison", "department_head", "judge", "superuser"}
WHOLE_ON_ORDER_PAGE = {
    "requester_phone": {"general_liaison", "department_liaison", "department_head", "judge"},
    "requester_id": {"general_liaison"},
}


def whole_phone_forms(e164: str) -> list[str]:
    """Every way a page could spell the whole number."""
    national = e164.removeprefix("+86")
    return [e164, national, phones.display(e164), f"{national[:3]}-{national[3:7]}-{national[7:]}"]


@pytest.fixture
def personal(court):
    """Case A's parties as natural persons with phones and ID numbers, and the judge's
    order with a requester's ID number (undone after each test)."""
    values = {}
    for side, phone, number in (
        ("plaintiff", PLAINTIFF_PHONE, PLAINTIFF_ID),
        ("defendant", DEFENDANT_PHONE, DEFENDANT_ID),
    ):
        party = getattr(court.case, f"{side}_participant").party
        party = Party.objects.get(pk=party.pk)
        party.kind, party.phone, party.id_number = Party.Kind.PERSON, phone, number
        party.save()
        values[f"{side}_phone"], values[f"{side}_id"] = phone, number
    order = court.judges_order
    order.requester_phone, order.requester_id_number = REQUESTER_PHONE, REQUESTER_ID
    order.save()
    values["requester_phone"], values["requester_id"] = REQUESTER_PHONE, REQUESTER_ID
    return SimpleNamespace(values=values, order=order)


def page_as(court, role: str, url: str):
    client = Client()
    if role != "anonymous":
        client.force_login(court.people[role])
    return client.get(url)


def assert_shown(html: str, kind: str, value: str, whole: bool, who: str) -> None:
    if kind.endswith("phone"):
        masked, forms = phones.mask(value), whole_phone_forms(value)
        if whole:
            assert phones.display(value) in html, f"{who} should read {kind} whole"
        else:
            assert masked in html, f"{who} should read {kind} masked"
            assert not any(form in html for form in forms), f"{who} reads {kind} whole"
    else:
        masked = id_numbers.mask(value)
        if whole:
            assert value in html, f"{who} should read {kind} whole"
        else:
            assert masked in html, f"{who} should read {kind} masked"
            assert value not in html and value[:14] not in html, f"{who} reads {kind} whole"


@pytest.mark.parametrize("role", ROLES)
def test_the_case_page_shows_each_partys_numbers_whole_only_to_who_needs_them(court, personal, role):
    response = page_as(court, role, reverse("case_detail", args=[court.case.case.pk]))

    if role not in CASE_PAGE_READERS:
        # Nobody else reads the page at all, let alone a number on it.
        assert response.status_code in (302, 403, 404)
        html = response.content.decode()
        assert not any(form in html for form in whole_phone_forms(PLAINTIFF_PHONE))
        return
    assert response.status_code == 200
    html = response.content.decode()
    for kind, readers in WHOLE_ON_CASE_PAGE.items():
        assert_shown(html, kind, personal.values[kind], role in readers, role)


@pytest.mark.parametrize("role", ROLES)
def test_the_work_order_page_shows_the_requesters_numbers_whole_only_to_who_needs_them(court, personal, role):
    response = page_as(court, role, reverse("work_order_detail", args=[personal.order.number]))

    if role not in ORDER_PAGE_READERS:
        assert response.status_code in (302, 403, 404)
        assert REQUESTER_ID not in response.content.decode()
        return
    assert response.status_code == 200
    html = response.content.decode()
    for kind, readers in WHOLE_ON_ORDER_PAGE.items():
        assert_shown(html, kind, personal.values[kind], role in readers, role)


@pytest.mark.parametrize(
    "role", sorted({"general_liaison", "department_liaison", "department_head", "judge", "superuser"})
)
def test_the_desk_list_never_spells_a_requesters_numbers(court, personal, role):
    html = page_as(court, role, reverse("desk")).content.decode()

    assert personal.order.number in html or role != "general_liaison"
    assert not any(form in html for form in whole_phone_forms(REQUESTER_PHONE))
    assert REQUESTER_ID not in html


@pytest.mark.parametrize("role", ["mediator", "judge", "plaintiff", "defendant", "other_party"])
def test_the_case_api_gives_each_partys_numbers_whole_only_to_who_needs_them(court, personal, role):
    client = Client()
    client.force_login(court.people[role])

    listing = client.get(reverse("api_my_cases")).content.decode()
    response = client.get(reverse("api_my_case", args=[court.case.case.pk]))

    for value in (PLAINTIFF_PHONE, DEFENDANT_PHONE):
        assert not any(form in listing for form in whole_phone_forms(value))
    assert PLAINTIFF_ID not in listing and DEFENDANT_ID not in listing
    if role == "other_party":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    shown = {party["side"]: party for party in response.json()["parties"]}
    for side in ("plaintiff", "defendant"):
        phone, number = personal.values[f"{side}_phone"], personal.values[f"{side}_id"]
        whole_phone = role in WHOLE_ON_CASE_PAGE[f"{side}_phone"]
        whole_id = role in WHOLE_ON_CASE_PAGE[f"{side}_id"]
        assert shown[side]["phone"] == (phones.display(phone) if whole_phone else phones.mask(phone)), (role, side)
        assert shown[side]["id_number"] == (number if whole_id else id_numbers.mask(number)), (role, side)


def test_the_work_order_api_never_spells_the_requesters_numbers(court, personal):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {court.api_token}")

    body = client.get(reverse("api_work_order", args=[personal.order.number])).content.decode()

    assert personal.order.number in body
    assert not any(form in body for form in whole_phone_forms(REQUESTER_PHONE))
    assert REQUESTER_ID not in body


def test_the_mediator_of_a_case_opened_from_an_order_reads_its_requesters_id_number(court, personal):
    order, mediator, other_mediator = personal.order, court.people["mediator"], court.people["other_mediator"]
    case_services.refer_to_mediation(
        order=order, actor=court.people["judge"], mediator=mediator, cause_of_action="合同纠纷", claim_amount=1000
    )

    assert disclosure.shown_id_number(order.requester_id_number, mediator, order=order) == REQUESTER_ID
    assert disclosure.shown_phone(order.requester_phone, mediator, order=order) == phones.display(REQUESTER_PHONE)
    assert disclosure.shown_id_number(order.requester_id_number, other_mediator, order=order) == id_numbers.mask(
        REQUESTER_ID
    )
    assert disclosure.shown_phone(order.requester_phone, other_mediator, order=order) == phones.mask(REQUESTER_PHONE)


def test_the_operators_admin_reads_a_requesters_numbers_masked(court, personal):
    client = Client()
    client.force_login(court.people["superuser"])

    html = client.get(reverse("admin:mediation_workorder_change", args=[personal.order.pk])).content.decode()

    assert phones.mask(REQUESTER_PHONE) in html and id_numbers.mask(REQUESTER_ID) in html
    assert not any(form in html for form in whole_phone_forms(REQUESTER_PHONE))
    assert REQUESTER_ID not in html


def test_the_audit_trail_in_the_admin_names_actors_from_their_accounts(court):
    client = Client()
    client.force_login(court.people["superuser"])

    response = client.get(reverse("admin:mediation_auditentry_changelist"), {"action__exact": "work_order.dispatch"})

    assert response.status_code == 200
    assert court.people["general_liaison"].full_name in response.content.decode()


def test_the_figures_exports_carry_no_requesters_numbers(court, personal):
    client = Client()
    client.force_login(court.people["general_liaison"])

    csv = client.get(reverse("figures_csv")).content.decode("utf-8-sig")
    workbook = zipfile.ZipFile(io.BytesIO(client.get(reverse("figures_xlsx")).content))
    sheets = "".join(workbook.read(name).decode("utf-8") for name in workbook.namelist() if name.endswith(".xml"))

    for text in (csv, sheets):
        assert not any(form in text for form in whole_phone_forms(REQUESTER_PHONE))
        assert REQUESTER_ID not in text
