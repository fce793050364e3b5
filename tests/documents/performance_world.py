"""A settled case whose sealed agreement owes three instalments, an act without a date
and a payment already past due, built once per test module through the services (the
agreement drafted, locked, signed by everyone and sealed); each test runs in a
savepoint of the module's transaction, so what it changes is undone.

Terms (in the agreement's order), the defendant paying the plaintiff in instalments:
  1. ¥20,000 due in 40 days  -> instalment 2 of 3
  2. ¥20,000 due in 10 days  -> instalment 1 of 3
  3. ¥10,000 due in 70 days  -> instalment 3 of 3
  4. the plaintiff delivers the video masters, no date
  5. the plaintiff pays ¥1,000 due yesterday -> overdue at sealing
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from documents.models import Agreement, Obligation
from documents.services import agreements
from documents.services.uploads import upload_document
from mediation.roles import Role
from tests.cases import make_case
from tests.documents.test_agreements import building, module_transaction, sign, storages_at
from tests.factories import DepartmentFactory, UserFactory, staff
from tests.identities import png_bytes, verify_phone


class World:
    """What the module fixture made, by name."""


def terms(world, today: dt.date) -> list[dict]:
    defendant, plaintiff = world.defendant_participant.party_id, world.plaintiff_participant.party_id

    def payment(amount, days, obligor=defendant, obligee=plaintiff):
        return {
            "kind": "payment",
            "obligor": obligor,
            "obligee": obligee,
            "amount": amount,
            "method": "银行转账",
            "due_date": (today + dt.timedelta(days=days)).isoformat(),
        }

    return [
        payment("20000", 40),
        payment("20000", 10),
        payment("10000", 70),
        {"kind": "act", "obligor": plaintiff, "obligee": defendant, "act": "交付视频母带", "due_date": ""},
        payment("1000", -1, obligor=plaintiff, obligee=defendant),
    ]


def build(things: World) -> None:
    department = DepartmentFactory(name="Civil", code="civil-performance")
    things.mediator = staff(Role.MEDIATOR, department, full_name="刘洋")
    things.judge = staff(Role.JUDGE, department, full_name="张伟")
    things.today = timezone.localdate()
    world = things.world = make_case(things.mediator, things.judge, label="P", agent_authority=True)
    things.plaintiff = verify_phone(world.plaintiff, "+8613800138101")
    things.defendant = verify_phone(world.defendant, "+8613800138102")
    things.plaintiff_party = world.plaintiff_participant.party
    things.defendant_party = world.defendant_participant.party
    # A receipt the defendant's side shared with the whole case before the seal, and one
    # it keeps to its own side.
    things.shared_receipt = upload_document(
        case=world.case, actor=things.defendant, data=png_bytes(), filename="转账凭证.png", kind="evidence"
    )
    things.side_only = upload_document(
        case=world.case,
        actor=things.defendant,
        data=png_bytes((30, 30)),
        filename="内部.png",
        kind="evidence",
        visibility="defendant",
    )
    agreement = agreements.start_agreement(case=world.case, actor=things.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=things.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=terms(world, things.today),
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=things.mediator)
    sign(agreement, things.mediator)
    sign(agreement, things.plaintiff, things.plaintiff_party)
    with TestCase.captureOnCommitCallbacks(execute=True):
        sign(agreement, things.defendant, things.defendant_party, method="typed")
    things.agreement = Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)
    assert things.agreement.status == Agreement.Status.SEALED
    things.case = things.agreement.case
    things.by_term = {o.term_number: o for o in Obligation.objects.filter(agreement=agreement)}
    # Another case, with a document of its own, and its party's person.
    other = things.other = make_case(things.mediator, things.judge, label="Q")
    things.other_document = upload_document(
        case=other.case, actor=other.defendant, data=png_bytes((20, 20)), filename="other.png", kind="evidence"
    )
    things.nobody = UserFactory(full_name="路人")


@pytest.fixture(scope="module")
def module_files(tmp_path_factory):
    return tmp_path_factory.mktemp("performance-files")


@pytest.fixture(autouse=True)
def _module_files(settings, _isolated_files_and_keys, module_files):
    settings.STORAGES = storages_at(module_files)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, module_files, _platform_keys):
    things = World()
    with module_transaction(django_db_blocker):
        with building(django_db_blocker, module_files, _platform_keys):
            build(things)
        yield things


def obligation(built, term: int) -> Obligation:
    return Obligation.objects.select_related("case", "obligor", "obligee", "agreement").get(pk=built.by_term[term].pk)
