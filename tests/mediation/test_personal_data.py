"""Personal data at rest: encrypted under rotatable keys, matched by a keyed hash."""

import pytest
from cryptography.fernet import Fernet, InvalidToken

from mediation import personal_data

ID = "11010519491231002X"


def test_a_value_is_not_stored_in_clear_and_reads_back(settings):
    token = personal_data.encrypt(ID)
    assert ID not in token
    assert personal_data.decrypt(token) == ID


def test_a_key_is_rotated_without_losing_what_the_old_one_encrypted(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [old]
    token = personal_data.encrypt(ID)
    settings.PERSONAL_DATA_KEYS = [new, old]
    assert personal_data.decrypt(token) == ID
    rotated = personal_data.rotate(token)
    settings.PERSONAL_DATA_KEYS = [new]
    assert personal_data.decrypt(rotated) == ID
    with pytest.raises(InvalidToken):
        personal_data.decrypt(token)


def test_the_keyed_hash_matches_per_kind_and_depends_on_the_key(settings):
    settings.PERSONAL_DATA_HASH_KEY = "one"
    first = personal_data.keyed_hash("id_number", ID)
    assert first == personal_data.keyed_hash("id_number", ID)
    assert first != personal_data.keyed_hash("phone", ID)
    settings.PERSONAL_DATA_HASH_KEY = "two"
    assert first != personal_data.keyed_hash("id_number", ID)
    assert personal_data.keyed_hash("id_number", "") == ""


@pytest.mark.django_db
def test_id_numbers_are_stored_encrypted_and_found_by_their_keyed_hash(django_db_setup):
    from django.db import connection

    from mediation import id_numbers
    from mediation.models import Party, User, WorkOrder
    from mediation.services import cases
    from tests.factories import UserFactory, WorkOrderFactory, staff

    mediator = staff("mediator")
    case = cases.open_mediation_case(actor=mediator, cause_of_action="民间借贷纠纷", claim_amount=30000)
    party = cases.add_party(
        case=case, actor=mediator, side="plaintiff", kind="person", name="王芳", id_number="11010519491231002x"
    )
    order = WorkOrderFactory(requester_id_number="11010519491231002X")
    person = UserFactory(id_number="11010519491231002X")

    with connection.cursor() as cursor:
        for table, column, pk in (
            ("mediation_party", "id_number", party.pk),
            ("mediation_workorder", "requester_id_number", order.pk),
            ("mediation_user", "id_number", person.pk),
        ):
            cursor.execute(f"SELECT {column}, {column}_hash FROM {table} WHERE id = %s", [pk])
            stored, stored_hash = cursor.fetchone()
            assert "1949" not in stored and "002X" not in stored.upper()
            assert stored_hash == id_numbers.keyed_hash(ID)
    assert Party.objects.get(pk=party.pk).id_number == ID
    assert WorkOrder.objects.get(pk=order.pk).requester_id_number == ID
    hash_ = id_numbers.keyed_hash("110105 19491231 002x")
    assert list(Party.objects.filter(id_number_hash=hash_)) == [party]
    assert list(User.objects.filter(id_number_hash=hash_)) == [person]


def test_a_deployment_without_its_own_personal_data_keys_is_warned(settings):
    from mediation.checks import check_personal_data_keys

    settings.PERSONAL_DATA_KEYS, settings.PERSONAL_DATA_HASH_KEY = [], ""
    [warning] = check_personal_data_keys(None)
    assert warning.id == "mediation.W020" and "PERSONAL_DATA_KEYS and PERSONAL_DATA_HASH_KEY" in warning.msg
    settings.PERSONAL_DATA_KEYS, settings.PERSONAL_DATA_HASH_KEY = [Fernet.generate_key().decode()], "k" * 40
    assert check_personal_data_keys(None) == []
