"""Personal data at rest: encrypted under rotatable keys, matched by a keyed hash."""

import pytest
from cryptography.fernet import Fernet

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
    with pytest.raises(Exception):
        personal_data.decrypt(token)


def test_the_keyed_hash_matches_per_kind_and_depends_on_the_key(settings):
    settings.PERSONAL_DATA_HASH_KEY = "one"
    first = personal_data.keyed_hash("id_number", ID)
    assert first == personal_data.keyed_hash("id_number", ID)
    assert first != personal_data.keyed_hash("phone", ID)
    settings.PERSONAL_DATA_HASH_KEY = "two"
    assert first != personal_data.keyed_hash("id_number", ID)
    assert personal_data.keyed_hash("id_number", "") == ""
