"""The paper signer's box in the sealed agreement.

A party who signed a paper copy in person (a confirmed documents.InPersonAct) has no
digital signature, so their signature field of the locked PDF would stay empty. When
the agreement is sealed, the platform fills that field with its OWN signature (the
platform's seal key, never a certificate in the party's name: records are true),
whose appearance says, in the document's language, that it was signed on paper in
person, by whom, where and when, witnessed and confirmed by whom, and the scan's
fingerprint. A clerk printing the agreement sees it in the party's box; verification
names that signature as the platform's record of a paper signature
(documents.verification).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from documents.agreement_rendering import paper_signature_rows
from documents.pki import load_platform_pki
from documents.signing import sign_field
from documents.stamps import text_stamp
from mediation.models import ParticipantRole

# How much of the scan's SHA-256 the box shows (the whole is on the signing
# certificate and the verification page).
FINGERPRINT_CHARS = 12


def paper_box_lines(act, row: dict) -> tuple[str, list[str]]:
    """The heading and the lines of a paper signer's box, in the active language,
    for `act` and its row of `paper_signature_rows`: who signed in which capacity (and
    for which party, when someone signed for it), where and when, witnessed and
    confirmed by whom, and the start of the scan's fingerprint."""
    if act.capacity == ParticipantRole.PARTY or row["person"] == row["party"]:
        who = _("%(person)s (%(capacity)s)") % {"person": row["person"], "capacity": row["capacity"]}
    else:
        who = _("%(person)s (%(capacity)s) for %(party)s") % {
            "person": row["person"],
            "capacity": row["capacity"],
            "party": row["party"],
        }
    lines = [
        who,
        _("%(date)s at %(place)s")
        % {"date": f"{timezone.localtime(row['occurred_at']):%Y-%m-%d}", "place": row["place"]},
        _("Witness: %(witness)s  Confirmed by: %(confirmed_by)s")
        % {"witness": row["witness"], "confirmed_by": row["confirmed_by"]},
        _("Scan SHA-256 %(fingerprint)s…") % {"fingerprint": row["scan_sha256"][:FINGERPRINT_CHARS]},
    ]
    return _("Signed on paper, in person"), lines


def paper_box_stamp(act, row: dict) -> Image.Image:
    heading, lines = paper_box_lines(act, row)
    return text_stamp(heading, lines)


def _empty_fields(pdf: bytes) -> set[str]:
    reader = PdfFileReader(io.BytesIO(pdf))
    return {name for name, _value, _field in enumerate_sig_fields(reader, filled_status=False)}


def fill_paper_boxes(pdf: bytes, acts) -> bytes:
    """Sign each paper signer's still empty field with the platform's key, showing
    the paper statement there (in the court's document language). Without paper
    signatures the file is returned untouched."""
    if not acts:
        return pdf
    empty = _empty_fields(pdf)
    pair = load_platform_pki().seal
    with translation.override(settings.DOCUMENT_LANGUAGE):
        for act, row in zip(acts, paper_signature_rows(acts), strict=True):
            if act.slot not in empty:
                # A version laid out without that field: the certificate still says it.
                continue
            pdf = sign_field(
                pdf,
                field=act.slot,
                pair=pair,
                stamp=paper_box_stamp(act, row),
                reason=_("The platform's record of a signature made on paper in person for %(party)s")
                % {"party": row["party"]},
            )
    return pdf
