"""What a downloaded document is called: in the reader's language (调解协议书-(2026)京0107民诉
前调1号.pdf for a Chinese reader, mediation-agreement-… for an English one), sent as an
RFC 6266 / RFC 5987 Content-Disposition with an ASCII fallback for old clients."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.utils.http import content_disposition_header
from django.utils.translation import pgettext

# What may not appear in a file name on the common systems, and runs of what is left.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_NOT_ASCII = re.compile(r"[^\x20-\x7e]+")


def _clean(name: str) -> str:
    return _UNSAFE.sub("-", name).strip(" .-") or "document"


def agreement_filename(agreement, which: str) -> str:
    """The sealed agreement, its signing certificate, or the current version being
    signed, named after the case."""
    params = {"number": agreement.case.number}
    if which == "sealed":
        name = pgettext("file name", "mediation-agreement-%(number)s") % params
    elif which == "certificate":
        name = pgettext("file name", "signing-certificate-%(number)s") % params
    else:
        params["version"] = agreement.current_version.number
        name = pgettext("file name", "mediation-agreement-%(number)s-version-%(version)s") % params
    return _clean(name) + ".pdf"


def court_document_filename(document, which: str) -> str:
    """A court document, named by its kind and the case; "-unsealed" while it is
    being signed."""
    params = {"number": document.case.number}
    names = {
        "confirmation_application": pgettext("file name", "application-for-judicial-confirmation-%(number)s"),
        "ruling": pgettext("file name", "civil-ruling-%(number)s"),
        "enforcement_application": pgettext("file name", "application-for-enforcement-%(number)s"),
        "delegation_letter": pgettext("file name", "letter-of-delegation-%(number)s"),
        "filing_package": pgettext("file name", "filing-package-%(number)s"),
    }
    name = names[document.kind] % params
    if which != "sealed":
        name += pgettext("file name", "-unsealed")
    return _clean(name) + ".pdf"


def proof_of_service_filename(service) -> str:
    name = pgettext("file name", "proof-of-service-%(number)s-%(recipient)s") % {
        "number": service.case.number,
        "recipient": service.recipient,
    }
    return _clean(name) + ".pdf"


def ascii_fallback(filename: str) -> str:
    """The name for clients that do not read filename*: each run of other characters
    becomes a hyphen (调解协议书-(2026)京0107民诉前调1号.pdf → (2026)-0107-1.pdf)."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    stem = re.sub(r"-{2,}", "-", _NOT_ASCII.sub("-", stem)).strip(" .-") or "document"
    extension = _NOT_ASCII.sub("", extension)
    return f"{stem}.{extension}" if extension else stem


def attachment(filename: str) -> str:
    """The Content-Disposition of a download named `filename`: Django's header for an
    ASCII name; otherwise an ASCII `filename` beside the UTF-8 `filename*` (RFC 5987)."""
    if filename.isascii():
        return content_disposition_header(True, filename)
    fallback = ascii_fallback(filename).replace("\\", "").replace('"', "")
    # filename* first: readers that know it take it, whichever comes first (browsers,
    # Python's email parser); older ones skip it and read the ASCII name.
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}; filename=\"{fallback}\""
