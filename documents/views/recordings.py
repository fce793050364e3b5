"""The court's decision whether the parties may see a room's recording (a button on
the case's documents page, for the case's judge and the general liaison)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.models import StoredRecording
from documents.services.recordings import decide_parties_access, may_decide_parties_access
from mediation.errors import DomainError


@login_required
@require_POST
def recording_parties_access(request, document_id, action):
    stored = (
        StoredRecording.objects.select_related("document", "document__case").filter(document_id=document_id).first()
    )
    if stored is None or action not in ("allow", "withdraw"):
        raise Http404
    case = stored.document.case
    if not may_decide_parties_access(request.user, case):
        raise Http404
    try:
        decide_parties_access(stored=stored, actor=request.user, allowed=action == "allow")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if action == "allow":
            messages.success(request, _("The parties may now see this recording."))
        else:
            messages.success(request, _("The parties can no longer see this recording."))
    return redirect("case_documents", case_id=case.pk)
