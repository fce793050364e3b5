"""`rotate_personal_data_keys`: after a new key is put first, every encrypted value is
re-encrypted under it, in batches, so that the old key can be dropped."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from mediation import personal_data
from mediation.models import Party, User, WorkOrder
from mediation.services import cases
from tests.factories import UserFactory, WorkOrderFactory, staff

pytestmark = pytest.mark.django_db

ID_NUMBERS = ["11010519491231002X", "110101199003071153", "440305198812120013"]


def stored(model, column, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def rotate(**options) -> str:
    out = io.StringIO()
    call_command("rotate_personal_data_keys", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [old]
    return settings, old, new


@pytest.fixture
def records(keys):
    """Parties, a requester and an account whose ID numbers are under the old key."""
    mediator = staff("mediator")
    case = cases.open_mediation_case(actor=mediator, cause_of_action="民间借贷纠纷", claim_amount=30000)
    rows = [
        (
            Party,
            "id_number",
            cases.add_party(case=case, actor=mediator, side=side, kind="person", name=name, id_number=number).pk,
        )
        for side, name, number in (("plaintiff", "王芳", ID_NUMBERS[0]), ("defendant", "李强", ID_NUMBERS[1]))
    ]
    rows.append((WorkOrder, "requester_id_number", WorkOrderFactory(requester_id_number=ID_NUMBERS[2]).pk))
    rows.append((User, "id_number", UserFactory(id_number=ID_NUMBERS[0]).pk))
    # Someone without an ID number: nothing to rotate.
    UserFactory(id_number="")
    return rows


def test_an_unreadable_value_is_named_and_fails_the_command_without_losing_the_others(keys, records):
    settings, old, new = keys
    model, column, pk = records[0]
    other = Fernet.generate_key().decode()
    # A value written under a key the server no longer has.
    with connection.cursor() as cursor:
        token = Fernet(other.encode()).encrypt(b"110105194912310021").decode()
        cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = %s WHERE id = %s", [token, pk])
    settings.PERSONAL_DATA_KEYS = [new, old]

    with pytest.raises(CommandError) as failure:
        rotate()

    assert f"mediation.Party.id_number #{pk}" in str(failure.value)
    assert stored(model, column, pk) == token
    settings.PERSONAL_DATA_KEYS = [new]
    assert WorkOrder.objects.get(pk=records[2][2]).requester_id_number == ID_NUMBERS[2]


def test_a_zero_batch_size_is_refused(keys, records):
    settings, old, new = keys
    settings.PERSONAL_DATA_KEYS = [new, old]
    before = [stored(model, column, pk) for model, column, pk in records]

    with pytest.raises(CommandError):
        rotate(batch_size=0)

    assert [stored(model, column, pk) for model, column, pk in records] == before


def test_every_value_is_re_encrypted_under_the_new_key_and_reads_without_the_old_one(keys, records):
    settings, old, new = keys
    before = {(model, pk): stored(model, column, pk) for model, column, pk in records}
    hashes = list(Party.objects.order_by("pk").values_list("id_number_hash", flat=True))
    settings.PERSONAL_DATA_KEYS = [new, old]

    out = rotate(batch_size=1)

    assert "mediation.Party.id_number: 2 re-encrypted, 0 already under the first key." in out
    assert "mediation.WorkOrder.requester_id_number: 1 re-encrypted" in out
    assert "mediation.User.id_number: 1 re-encrypted" in out
    assert "re-encrypted under the first key: 4 values." in out
    for model, column, pk in records:
        token = stored(model, column, pk)
        assert token != before[(model, pk)]
        assert not any(number in token for number in ID_NUMBERS)
    # The old key can go: everything reads under the new one alone, and still matches.
    settings.PERSONAL_DATA_KEYS = [new]
    assert [Party.objects.get(pk=pk).id_number for _m, _c, pk in records[:2]] == ID_NUMBERS[:2]
    assert WorkOrder.objects.get(pk=records[2][2]).requester_id_number == ID_NUMBERS[2]
    assert User.objects.get(pk=records[3][2]).id_number == ID_NUMBERS[0]
    assert list(Party.objects.order_by("pk").values_list("id_number_hash", flat=True)) == hashes


def test_a_second_run_finds_everything_under_the_first_key_and_changes_nothing(keys, records):
    settings, old, new = keys
    settings.PERSONAL_DATA_KEYS = [new, old]
    rotate()
    after_first = [stored(model, column, pk) for model, column, pk in records]

    out = rotate()

    assert "mediation.Party.id_number: 0 re-encrypted, 2 already under the first key." in out
    assert "re-encrypted under the first key: 0 values." in out
    assert [stored(model, column, pk) for model, column, pk in records] == after_first
    assert personal_data.is_current(after_first[0])
