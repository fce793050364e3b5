"""The keys of the audit chain, held outside the database.

An unkeyed hash chain only proves that nobody edited an entry without recomputing the
hashes after it; anyone who can write the table can recompute them. So each entry's
hash is an HMAC under a key the database never sees (`AUDIT_CHAIN_KEY` from the
environment), and so is each anchor file (mediation.audit_anchors).

Each entry records the id of its key, so the key can be rotated: new entries use the
current key, and entries written under a retired key (`AUDIT_CHAIN_RETIRED_KEYS`) still
verify. Without `AUDIT_CHAIN_KEY` the key is derived from `SECRET_KEY` (and keys
derived from `SECRET_KEY_FALLBACKS` still verify); `check --deploy` warns about that,
because whoever reads the settings of one web host then holds the audit key too.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

# Domain separation: the same secret never signs two kinds of thing.
_DERIVE_FROM_SECRET_KEY = b"mediation.audit-chain.derived-from-secret-key"
_KEY_ID = b"mediation.audit-chain.key-id"
_ANCHOR_KEY = b"mediation.audit-chain.anchor-key"


@dataclass(frozen=True)
class ChainKey:
    key_id: str
    secret: bytes = b""

    def sign(self, payload: bytes) -> str:
        """The HMAC-SHA256 of an entry's canonical payload."""
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()

    def sign_anchor(self, payload: bytes) -> str:
        """The signature of an anchor file: HMAC under a key derived from this one, so
        an anchor's signature can never pass for an entry's hash."""
        anchor_secret = hmac.new(self.secret, _ANCHOR_KEY, hashlib.sha256).digest()
        return hmac.new(anchor_secret, payload, hashlib.sha256).hexdigest()

    def __repr__(self):  # never print the secret
        return f"ChainKey({self.key_id!r})"


def _chain_key(secret: str | bytes) -> ChainKey:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    key_id = hmac.new(raw, _KEY_ID, hashlib.sha256).hexdigest()[:16]
    return ChainKey(key_id=key_id, secret=raw)


def _derived_from(secret_key: str) -> ChainKey:
    return _chain_key(hmac.new(secret_key.encode("utf-8"), _DERIVE_FROM_SECRET_KEY, hashlib.sha256).digest())


@lru_cache(maxsize=8)
def _keyring(current: str, retired: tuple[str, ...], secret_key: str, fallbacks: tuple[str, ...]):
    derived = [_derived_from(value) for value in (*fallbacks, secret_key) if value]
    configured = [_chain_key(value) for value in (*retired, current) if value]
    if not current and not derived:
        raise RuntimeError("The audit chain needs AUDIT_CHAIN_KEY or SECRET_KEY to key its entries.")
    signing = configured[-1] if current else derived[-1]
    return signing, {key.key_id: key for key in (*derived, *configured)}


def _settings_tuple():
    return (
        getattr(settings, "AUDIT_CHAIN_KEY", "") or "",
        tuple(getattr(settings, "AUDIT_CHAIN_RETIRED_KEYS", ()) or ()),
        settings.SECRET_KEY or "",
        tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ()),
    )


def signing_key() -> ChainKey:
    """The key new entries and new anchors are signed with."""
    return _keyring(*_settings_tuple())[0]


def verifying_key(key_id: str) -> ChainKey | None:
    """The configured key with this id (current, retired or derived), if any."""
    return _keyring(*_settings_tuple())[1].get(key_id)
