"""PAdES signatures on the platform's PDFs (pyHanko).

Each signer's signature is an incremental update, so every earlier revision stays
byte-for-byte inside the file and any later change is detectable. The first
signature on an agreement is the mediator's certification signature, which allows
only form filling (further signatures) afterwards; the last step is the platform's
document timestamp over the whole file.
"""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.utils import translation
from django.utils.translation import pgettext
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import (
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
    append_signature_field,
    enumerate_sig_fields,
)
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from documents.pki import KeyPair, load_platform_pki
from documents.rendering import SlotBox
from documents.stamps import court_seal

# Room reserved in the PDF for one signature (CMS with two certificates and a
# timestamp token). Reserving it saves pyHanko a trial signature to measure it.
SIGNATURE_BYTES_RESERVED = 16 * 1024


class PlatformTimeStamper(timestamps.DummyTimeStamper):
    """RFC 3161 tokens signed with the platform's own timestamping key, for a court
    network without a timestamping server. pyHanko's in-process timestamper does the
    encoding; this keeps the RSA key loaded instead of parsing it for every token."""

    def __init__(self, pair: KeyPair, authority: KeyPair):
        super().__init__(
            tsa_cert=pair.asn1_certificate,
            tsa_key=pair.asn1_key,
            certs_to_embed=SimpleCertificateStore.from_certs([authority.asn1_certificate]),
        )
        self._private_key = pair.key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt):
        from asn1crypto import cms, core
        from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
        from pyhanko.sign import general
        from pyhanko.sign.general import simple_cms_attribute
        from pyhanko_certvalidator.util import get_pyca_cryptography_hash

        digest = hashlib.new(md_algorithm.replace("-", ""), tst_info_data).digest()
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest),
            ]
        )
        signature = self._private_key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs


_platform_timestamper: tuple[object, PlatformTimeStamper] | None = None


def _timestamper() -> timestamps.TimeStamper:
    """A configured RFC 3161 server, or the platform's own timestamping key."""
    global _platform_timestamper
    if settings.TIMESTAMP_URL:
        return timestamps.HTTPTimeStamper(settings.TIMESTAMP_URL)
    pki = load_platform_pki()
    if _platform_timestamper is None or _platform_timestamper[0] is not pki:
        _platform_timestamper = (pki, PlatformTimeStamper(pki.timestamping, pki.authority))
    return _platform_timestamper[1]


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


def seal_style() -> StaticStampStyle:
    """The appearance of the platform's seal: the court's seal image (in the document's
    language, "电子签章" beneath the star)."""
    with translation.override(settings.DOCUMENT_LANGUAGE):
        label = pgettext("text on a seal", "Electronic seal")
    # Ink, not paper: the text under the seal stays legible through it.
    return StaticStampStyle(background=PdfImage(court_seal(label)), border_width=0, background_opacity=0.9)


def sign_field(
    pdf: bytes,
    *,
    field: str,
    pair: KeyPair,
    stamp: Image.Image | None,
    certify: bool = False,
    reason: str = "",
    style: StaticStampStyle | None = None,
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
    if stamp is not None:
        style = StaticStampStyle(background=PdfImage(stamp), border_width=0)
    pdf_signer = signers.PdfSigner(metadata, signer=_signer(pair), timestamper=_timestamper(), stamp_style=style)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return pdf_signer.sign_pdf(writer, bytes_reserved=SIGNATURE_BYTES_RESERVED).getvalue()


SEAL_FIELD = "platform-seal"


def seal(pdf: bytes, *, reason: str, visible_at: SlotBox | None = None) -> bytes:
    """The platform's own signature (its seal) on a document it issues. With
    `visible_at` (where the template placed the seal: documents/pdf/_seal.html), the
    signature shows as the court's seal there; otherwise it is invisible."""
    field = SEAL_FIELD
    metadata = signers.PdfSignatureMetadata(
        field_name=field, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256", reason=reason
    )
    visible = {}
    if visible_at is not None:
        visible = {
            "new_field_spec": SigFieldSpec(sig_field_name=field, on_page=visible_at.page, box=visible_at.box),
            "stamp_style": seal_style(),
        }
    pdf_signer = signers.PdfSigner(
        metadata, signer=_signer(load_platform_pki().seal), timestamper=_timestamper(), **visible
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return pdf_signer.sign_pdf(writer, bytes_reserved=SIGNATURE_BYTES_RESERVED).getvalue()


def has_empty_seal_field(pdf: bytes) -> bool:
    """Whether the document was laid out with a place for the platform's seal (a
    signature field named SEAL_FIELD, not signed yet)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    return any(True for _field in enumerate_sig_fields(reader, filled_status=False, with_name=SEAL_FIELD))


def seal_in_place(pdf: bytes, *, reason: str) -> bytes:
    """The platform's seal in the document's own SEAL_FIELD, made when it was laid
    out (documents/pdf/_seal.html), showing the court's seal there: for a document
    signed by others first, whose certification allows filling its fields only."""
    return sign_field(
        pdf, field=SEAL_FIELD, pair=load_platform_pki().seal, stamp=None, reason=reason, style=seal_style()
    )


def document_timestamp(pdf: bytes) -> bytes:
    """A document timestamp over the whole file: nothing before it can change unseen."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stamper = signers.PdfTimeStamper(_timestamper())
    return stamper.timestamp_pdf(writer, md_algorithm="sha256", bytes_reserved=SIGNATURE_BYTES_RESERVED).getvalue()
