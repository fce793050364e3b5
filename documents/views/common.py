"""What the documents' pages share: the client's address, the case a page is about, and
files sent as downloads."""

from __future__ import annotations

import base64
import binascii

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse

from documents.access import side_of
from documents.filenames import attachment
from documents.reauthentication import ReauthenticationFailed
from documents.stamps import MAX_SIGNATURE_IMAGE_BYTES
from mediation.models import MediationCase
from mediation.selectors.cases import case_for
from mediation.views.forms import attach_errors


def case_or_404(request, case_id) -> MediationCase:
    case = case_for(request.user, case_id)
    if case is None or (side_of(request.user, case) is None and not request.user.is_superuser):
        raise Http404
    return case


def file_response(data: bytes, content_type: str, filename: str) -> HttpResponse:
    """A download (never shown inline in the platform's origin)."""
    response = HttpResponse(data, content_type=content_type)
    # The name is quoted and escaped (a quote in it cannot add parameters); a Chinese
    # name goes as RFC 5987 filename* beside an ASCII filename, the header itself ASCII.
    response["Content-Disposition"] = attachment(filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def error_text(error: ValidationError) -> str:
    """A validation error's messages, as one line for a flash message."""
    return " ".join(message for messages_ in error.message_dict.values() for message in messages_)


def decode_png(data_url: str) -> bytes | None:
    """The PNG a signature pad sends as a data URL, or None if it is not one."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        return None
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None


def redrawable(data_url: str) -> str:
    """A drawn signature to give back after a refused attempt (a wrong password), for
    the canvas to draw again: only one the signing services would take."""
    image = decode_png(data_url)
    return data_url if image and len(image) <= MAX_SIGNATURE_IMAGE_BYTES else ""


def show_signing_refusal(form, error: Exception) -> None:
    """Why a signature was refused, on the sign form (an agreement's or a court
    document's): a wrong password or code on its field, invalid input on its fields,
    any other refusal above the form."""
    if isinstance(error, ValidationError):
        attach_errors(form, error)
    elif isinstance(error, ReauthenticationFailed):
        form.add_error({"totp": "totp_code", "sms": "sms_code"}.get(error.method, "password"), str(error))
    elif isinstance(error, PermissionDenied):
        form.add_error(None, str(error))
    else:
        form.add_error(None, error.message)
