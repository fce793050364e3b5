"""One person's signature in a place of a platform PDF, as a settlement agreement and a
court document both take it: the drawn (or typed) signature made into a stamp, a
one-hour certificate issued to the signer, the PAdES signature added as a new
revision, and what the signature's record keeps (`SignatureRecord`)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from documents.models import Blob, SignatureRecord
from documents.pki import KeyPair
from documents.services.storage import store_blob
from documents.signing import sign_field
from documents.stamps import signature_stamp, typed_signature
from mediation.models import User


def signer_certificate(actor: User, identity) -> KeyPair:
    """The signer's one-hour certificate: their name (the verified one, for a real
    name) and, for a real-name-verified person, the keyed hash of their ID number,
    never the number itself."""
    from documents.pki import issue_signer_certificate

    return issue_signer_certificate(
        name=str(actor), user_id=actor.pk, email=actor.email or "", id_number_hash=identity.id_number_hash
    )


@dataclass(frozen=True)
class MadeSignature:
    # The file's new revision, with the signature in its place.
    revision: Blob
    # The signature record's fields this step decides (method, image, certificate,
    # revision, identity level, time); the caller adds who, where and how.
    fields: dict


def sign_in_place(
    *,
    pdf: bytes,
    actor: User,
    identity,
    field: str,
    method: str,
    image_png: bytes | None,
    reason: str,
    now: dt.datetime,
    certify: bool = False,
) -> MadeSignature:
    """Sign `pdf` in its empty signature field `field` as `actor`: their drawing, or
    their typed name when they typed it or drew nothing."""
    if method == SignatureRecord.Method.TYPED or not image_png:
        drawn = typed_signature(str(actor))
        method = SignatureRecord.Method.TYPED
    else:
        drawn = image_png
    stamp = signature_stamp(drawn, name=str(actor), signed_at=now)
    pair = signer_certificate(actor, identity)
    signed = sign_field(pdf, field=field, pair=pair, stamp=stamp, certify=certify, reason=reason)
    revision = store_blob(signed, "application/pdf")
    image_buffer = io.BytesIO()
    stamp.save(image_buffer, format="PNG")
    return MadeSignature(
        revision=revision,
        fields={
            "signed_at": now,
            "identity_level": identity.level,
            "identity_verifier": identity.verifier,
            "method": method,
            "image": store_blob(image_buffer.getvalue(), "image/png"),
            "certificate_pem": pair.certificate_pem,
            "certificate_serial": format(pair.certificate.serial_number, "x"),
            "revision_hash": revision.sha256,
        },
    )
