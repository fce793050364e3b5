"""The sealed letter of delegation, for the court side, the organisation's admins and
the mediator it was dispatched to (mediation.policy.can_read_delegation_letter); a
404 to anyone else, as for a case they may not see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404

from documents.filenames import court_document_filename
from documents.services.delegation_letter import letter_of
from documents.services.storage import read_blob
from documents.views.common import file_response
from mediation.models import Delegation
from mediation.policy import can_read_delegation_letter


@login_required
def delegation_letter_pdf(request, delegation_id):
    delegation = Delegation.objects.select_related("case", "organisation").filter(pk=delegation_id).first()
    if delegation is None or not can_read_delegation_letter(request.user, delegation):
        raise Http404
    letter = letter_of(delegation)
    if letter is None or letter.sealed_blob_id is None:
        raise Http404
    return file_response(read_blob(letter.sealed_blob), "application/pdf", court_document_filename(letter, "sealed"))
