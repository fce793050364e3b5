"""PAdES signatures on the platform's PDFs (pyHanko).

Each signer's signature is an incremental update, so every earlier revision stays
byte-for-byte inside the file and any later change is detectable. The first
signature on an agreement is the mediator's certification signature, which allows
only form filling (further signatures) afterwards; the last step is the platform's
document timestamp over the whole file.
"""

from __future__ import annotations

import io

from django.conf import settings
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter, append_signature_field
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from documents.pki import KeyPair, load_platform_pki
from documents.rendering import SlotBox


def _timestamper() -> timestamps.TimeStamper:
    """A configured RFC 3161 server, or the platform's own timestamping key."""
    if settings.TIMESTAMP_URL:
        return timestamps.HTTPTimeStamper(settings.TIMESTAMP_URL)
    tsa = load_platform_pki().timestamping
    return timestamps.DummyTimeStamper(
        tsa_cert=tsa.asn1_certificate,
        tsa_key=tsa.asn1_key,
        certs_to_embed=SimpleCertificateStore.from_certs([load_platform_pki().authority.asn1_certificate]),
    )


def add_signature_fields(pdf: bytes, slots: list[SlotBox]) -> bytes:
    """Empty signature fields where the signatures will be, so that signing later only
    fills forms (what the certification signature allows)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for slot in slots:
        append_signature_field(writer, SigFieldSpec(sig_field_name=slot.slot, on_page=slot.page, box=slot.box))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _signer(pair: KeyPair) -> signers.SimpleSigner:
    return signers.SimpleSigner(
        signing_cert=pair.asn1_certificate,
        signing_key=pair.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([load_platform_pki().authority.asn1_certificate]),
    )


def sign_field(
    pdf: bytes,
    *,
    field: str,
    pair: KeyPair,
    stamp: Image.Image | None,
    certify: bool = False,
    reason: str = "",
) -> bytes:
    """Add one signature in `field`, as an incremental update."""
    metadata = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=certify,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        reason=reason or None,
    )
    style = StaticStampStyle(background=PdfImage(stamp), border_width=0) if stamp is not None else None
    pdf_signer = signers.PdfSigner(metadata, signer=_signer(pair), timestamper=_timestamper(), stamp_style=style)
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()


def seal(pdf: bytes, *, reason: str) -> bytes:
    """The platform's own signature (its seal) on a document it issues."""
    field = "platform-seal"
    metadata = signers.PdfSignatureMetadata(
        field_name=field, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256", reason=reason
    )
    pdf_signer = signers.PdfSigner(metadata, signer=_signer(load_platform_pki().seal), timestamper=_timestamper())
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()


def document_timestamp(pdf: bytes) -> bytes:
    """A document timestamp over the whole file: nothing before it can change unseen."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.PdfTimeStamper(_timestamper()).timestamp_pdf(writer, md_algorithm="sha256").getvalue()
