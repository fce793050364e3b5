"""Personal data at rest (PIPL): resident ID numbers are stored encrypted, with a
keyed hash beside them for matching, so that a copy of the database reads neither.

Encryption is Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under the
keys in PERSONAL_DATA_KEYS, from the environment: the first encrypts, all decrypt
(MultiFernet), so a key is rotated by putting a new one first and running
`rotate_personal_data_keys`, then dropping the old one. Without the setting, a key
derived from SECRET_KEY is used and `check --deploy` warns.

The keyed hash (HMAC-SHA256 under PERSONAL_DATA_HASH_KEY, else derived from
SECRET_KEY) matches a value without storing it: an invitation's ID number against the
party's, an applicant's number against their order, the audit trail's references. It
is kept per kind of value ("id_number", "phone"), so a hash of one kind never equals
a hash of another."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

_DERIVE = b"mediation.personal-data.encryption"
_DERIVE_HASH = b"mediation.personal-data.keyed-hash"


def _derived(label: bytes) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), label, hashlib.sha256).digest()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derived(_DERIVE)))])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PERSONAL_DATA_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    return fernet().decrypt(token.encode("ascii")).decode("utf-8")


def is_current(token: str) -> bool:
    """Whether a token is encrypted under the first key (the one that encrypts now)."""
    keys = tuple(settings.PERSONAL_DATA_KEYS)
    first = Fernet(keys[0].encode("ascii")) if keys else Fernet(base64.urlsafe_b64encode(_derived(_DERIVE)))
    try:
        first.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The token re-encrypted under the first key (unchanged when empty)."""
    if not token:
        return ""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


def keyed_hash(kind: str, value: str) -> str:
    """A value's HMAC-SHA256 (hex) under the platform's hash key, per kind; "" for ""."""
    if not value:
        return ""
    key = settings.PERSONAL_DATA_HASH_KEY.encode("utf-8") if settings.PERSONAL_DATA_HASH_KEY else _derived(_DERIVE_HASH)
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """A text value stored encrypted (see above). Reads give the clear text back; the
    database holds only the token, so it can be neither searched nor ordered: keep a
    `keyed_hash` beside it for matching."""

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return decrypt(value)
        except InvalidToken as exc:
            raise ValueError(
                f"{self.model.__name__}.{self.name} cannot be decrypted: is PERSONAL_DATA_KEYS missing a key?"
            ) from exc

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
