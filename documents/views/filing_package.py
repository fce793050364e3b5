"""The filing package of a failed case, as its sealed PDF and as JSON, for the court:
the case's mediator and judge, the general liaison, whoever handles the originating
work order (policy rule "read_filing_package"). Anyone else, a party's people first,
gets a 404, as for a case they may not see."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404

from documents.filenames import court_document_filename
from documents.models import CourtDocument
from documents.services.filing_package import as_json, filing_package_of
from documents.services.storage import read_blob
from documents.views.common import file_response
from mediation import policy
from mediation.models import MediationCase


def _package(request, case_id) -> CourtDocument:
    case = MediationCase.objects.select_related("work_order").filter(pk=case_id).first()
    if case is None or not policy.can_on_case(request.user, "read_filing_package", case):
        raise Http404
    document = filing_package_of(case)
    if document is None:
        raise Http404
    return document


@login_required
def filing_package_pdf(request, case_id):
    document = _package(request, case_id)
    return file_response(
        read_blob(document.sealed_blob), "application/pdf", court_document_filename(document, "sealed")
    )


@login_required
def filing_package_json(request, case_id):
    document = _package(request, case_id)
    data = json.dumps(as_json(document), ensure_ascii=False, indent=2).encode("utf-8")
    name = court_document_filename(document, "sealed").removesuffix(".pdf") + ".json"
    return file_response(data, "application/json; charset=utf-8", name)
