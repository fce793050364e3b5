"""JSON for apps and integrations: the signed-in user's cases with their services and
agreements."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from documents import selectors
from documents.access import sees_service_addresses, side_of, visible_powers_of_attorney, visible_services
from documents.agreement_rules import signing_options
from documents.models import Agreement, Document, Obligation, PowerOfAttorney, Service
from documents.selectors_performance import obligation_with_case, obligations_of_case
from documents.services import performance
from documents.services.uploads import too_large
from mediation.api.fields import ShownIdNumberField, ShownPhoneField
from mediation.models import MediationCase
from mediation.selectors.cases import case_for, visible_cases

CaseSummary = inline_serializer(
    "CaseSummary",
    {
        "id": serializers.IntegerField(),
        "number": serializers.CharField(),
        "status": serializers.CharField(),
        "cause_of_action": serializers.CharField(),
    },
)


class PartySerializer(serializers.Serializer):
    """A party of the case; its phone and ID number whole or masked for the reader
    (mediation.disclosure)."""

    side = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    phone = ShownPhoneField()
    id_number = ShownIdNumberField()


def _case_summary(case: MediationCase) -> dict:
    return {"id": case.pk, "number": case.number, "status": case.status, "cause_of_action": case.cause_of_action}


def _step(step, *, with_address: bool) -> dict:
    shown = {
        "step": step.step,
        "at": step.at,
        "actor": str(step.actor) if step.actor else None,
        "method": step.method,
        # On the acknowledged step: acknowledged without opening the documents.
        "without_opening": step.without_opening,
    }
    # The court's eyes only (sees_service_addresses): absent, not null, for a party.
    if with_address:
        shown["ip"] = step.ip_address
    return shown


def _service(request, service: Service, *, with_addresses: bool) -> dict:
    return {
        "id": service.pk,
        "recipient": str(service.recipient),
        "method": service.method,
        "status": service.status,
        "served_at": service.served_at,
        "acknowledge_by": service.acknowledge_by,
        "acknowledge_days": service.acknowledge_days,
        "note": service.note,
        "documents": [{"title": d.title, "sha256": d.blob_id} for d in service.documents.all()],
        "steps": [_step(step, with_address=with_addresses) for step in service.steps.select_related("actor")],
        "proof_of_service_url": request.build_absolute_uri(reverse("service_proof", args=[service.pk])),
    }


def _signing(agreement: Agreement, user) -> dict:
    """Whether this reader may sign now, by the one signing rule, and why they may
    not where they would (an agent without special authority to settle)."""
    signed = selectors.signed_slots(agreement.current_version) if agreement.current_version else set()
    options = signing_options(agreement, user, signed)
    return {
        "may_sign": options.may_sign,
        "refusals": [{"code": refusal.code, "detail": refusal.message} for refusal in options.refusals],
    }


def _power_of_attorney(power: PowerOfAttorney) -> dict:
    accepted = power.status == PowerOfAttorney.Status.ACCEPTED
    return {
        "id": power.pk,
        "agent": str(power.participant.user),
        "party": power.participant.party.name,
        "status": power.status,
        "uploaded_at": power.uploaded_at,
        "checked_at": power.checked_at,
        "scope": {
            "change_claims": power.may_change_claims,
            "settle": power.may_settle,
            "sign_agreement": power.may_sign_agreement,
        }
        if accepted
        else None,
        "valid_until": power.valid_until if accepted else None,
        "rejection_reason": power.rejection_reason or None,
    }


def _judicial_confirmation(request, case: MediationCase) -> dict | None:
    """The case's latest application for judicial confirmation, as the parties follow
    it: null before there is one; the ruling's PDF and code once it is sealed."""
    from documents.services.confirmation_court import latest_confirmation

    confirmation = latest_confirmation(case)
    if confirmation is None:
        return None
    ruling = confirmation.ruling if confirmation.ruling_id and confirmation.ruling.is_sealed else None
    return {
        "status": confirmation.status,
        "case_number": confirmation.case_number or None,
        "applied_at": confirmation.applied_at,
        "decided_at": confirmation.decided_at,
        "ruling_pdf_url": request.build_absolute_uri(reverse("court_document_pdf", args=[ruling.pk, "sealed"]))
        if ruling
        else None,
        "verification_code": ruling.verification_code if ruling else None,
    }


def _agreement(request, agreement: Agreement) -> dict:
    version = agreement.current_version
    sealed = agreement.is_sealed
    return {
        "signing": _signing(agreement, request.user),
        "id": agreement.pk,
        "status": agreement.status,
        "version": version.number if version else None,
        "version_hash": version.content_hash if version else "",
        "verification_code": agreement.verification_code,
        "sealed_sha256": agreement.sealed_blob_id,
        "sealed_pdf_url": request.build_absolute_uri(reverse("agreement_pdf", args=[agreement.pk, "sealed"]))
        if sealed
        else None,
        "signing_certificate_url": request.build_absolute_uri(
            reverse("agreement_pdf", args=[agreement.pk, "certificate"])
        )
        if sealed
        else None,
    }


ObligationSerializer = inline_serializer(
    "Obligation",
    {
        "id": serializers.IntegerField(),
        "kind": serializers.ChoiceField(choices=Obligation.Kind.values),
        "obligor": serializers.CharField(help_text="The name of the party that owes it."),
        "obligee": serializers.CharField(help_text="The name of the party it is owed to."),
        "amount": serializers.CharField(allow_null=True, help_text="Yuan, two decimals; null for an act."),
        "due_date": serializers.DateField(allow_null=True),
        "status": serializers.ChoiceField(choices=Obligation.Status.values),
    },
)


def _obligation(obligation: Obligation) -> dict:
    return {
        "id": obligation.pk,
        "kind": obligation.kind,
        "obligor": obligation.obligor.name,
        "obligee": obligation.obligee.name,
        "amount": str(obligation.amount) if obligation.amount is not None else None,
        "due_date": obligation.due_date.isoformat() if obligation.due_date else None,
        "status": obligation.status,
    }


def _my_cases(user):
    return [case for case in visible_cases(user).order_by("-created_at") if side_of(user, case) is not None]


class MyCasesView(APIView):
    @extend_schema(responses=type(CaseSummary)(many=True))
    def get(self, request):
        return Response([_case_summary(case) for case in _my_cases(request.user)])


class MyCaseView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "CaseDetail",
            {
                "case": CaseSummary,
                "parties": PartySerializer(many=True),
                "services": serializers.ListField(child=serializers.DictField()),
                "agreements": serializers.ListField(child=serializers.DictField()),
                "powers_of_attorney": serializers.ListField(child=serializers.DictField()),
                "obligations": type(ObligationSerializer)(many=True),
                "judicial_confirmation": serializers.DictField(allow_null=True),
            },
        )
    )
    def get(self, request, case_id):
        case = visible_cases(request.user).filter(pk=case_id).first()
        if case is None or side_of(request.user, case) is None:
            raise Http404
        services = visible_services(request.user, case)
        with_addresses = sees_service_addresses(request.user, case)
        return Response(
            {
                "case": _case_summary(case),
                "parties": PartySerializer(
                    case.parties.all(), many=True, context={"request": request, "case": case}
                ).data,
                "services": [_service(request, service, with_addresses=with_addresses) for service in services],
                "agreements": [_agreement(request, a) for a in case.agreements.select_related("current_version")],
                # The agents' authority: a fact of each agent's side (and the court's).
                "powers_of_attorney": [
                    _power_of_attorney(power) for power in visible_powers_of_attorney(request.user, case)
                ],
                # What the sealed agreement's terms owe, by whom to whom (documents.services.performance).
                "obligations": [_obligation(obligation) for obligation in obligations_of_case(case)],
                "judicial_confirmation": _judicial_confirmation(request, case),
            }
        )


# Performance of the agreed terms -----------------------------------------------------------------

# The API's action names and the services' (documents.performance_rules).
OBLIGATION_ACTIONS = {
    "report_performed": "report_performed",
    "confirm": "confirm",
    "dispute": "dispute",
    "urge": "urge",
}

ObligationActionBody = inline_serializer(
    "ObligationAction",
    {
        "performed_on": serializers.DateField(required=False, help_text="report_performed: the day it was performed."),
        "note": serializers.CharField(required=False, help_text="report_performed: optional; urge: what you did."),
        "evidence": serializers.ListField(
            child=serializers.IntegerField(),
            required=False,
            help_text="report_performed: ids of documents of the case that both sides may see.",
        ),
        "reason": serializers.CharField(required=False, help_text="dispute: why."),
        "receipt": serializers.FileField(
            required=False,
            help_text="report_performed, sent as multipart/form-data: the receipt, stored as evidence of performance "
            "that both sides may see (PDF, PNG, JPEG or Word).",
        ),
    },
)
ErrorBody = inline_serializer("ObligationActionError", {"detail": serializers.CharField()})


def _text(body, name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({name: _("Give text.")})
    return value


def _performed_on(body):
    raw = body.get("performed_on")
    try:
        day = parse_date(raw) if isinstance(raw, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError({"performed_on": _("Give the day it was performed as YYYY-MM-DD.")})
    return day


def _evidence(body) -> list[Document]:
    if hasattr(body, "getlist"):
        # A multipart form (with the receipt): the ids as repeated fields.
        try:
            ids = [int(value) for value in body.getlist("evidence")]
        except ValueError:
            raise ValidationError({"evidence": _("Give a list of document ids.")}) from None
    else:
        ids = body.get("evidence", [])
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValidationError({"evidence": _("Give a list of document ids.")})
    if len(ids) > performance.MAX_EVIDENCE:
        raise ValidationError({"evidence": _("At most %(max)s documents.") % {"max": performance.MAX_EVIDENCE}})
    # An id no row can have (past the 64-bit key) is no such document, never a query.
    documents = {
        document.pk: document for document in Document.objects.filter(pk__in=[i for i in ids if 0 < i < 2**63])
    }
    missing = [i for i in ids if i not in documents]
    if missing:
        raise ValidationError(
            {"evidence": _("No such document: %(ids)s.") % {"ids": ", ".join(str(i) for i in missing)}}
        )
    return [documents[i] for i in ids]


class ObligationActionView(APIView):
    """Act on an obligation: `report_performed` (the obligor's side), `confirm` and
    `dispute` (the obligee's side), `urge` (the case's mediator). 404 for who may not
    see the case, 403 for the wrong side, 409 in the wrong state, 400 for bad input;
    nothing changes on a refusal."""

    @extend_schema(
        request=ObligationActionBody,
        responses={
            200: ObligationSerializer,
            400: OpenApiResponse(description="Bad input: the field and what is wrong with it."),
            403: OpenApiResponse(ErrorBody, description="Not this reader's to do (the wrong side)."),
            404: OpenApiResponse(description="No such obligation, action or case for this reader."),
            409: OpenApiResponse(ErrorBody, description="Not possible in the obligation's state."),
        },
    )
    def post(self, request, obligation_id, action):
        obligation = obligation_with_case(obligation_id)
        if obligation is None or action not in OBLIGATION_ACTIONS:
            raise Http404
        case = case_for(request.user, obligation.case_id)
        if case is None or side_of(request.user, case) is None:
            raise Http404
        # Who may and in which state first, then what they sent.
        performance.check_action(obligation, request.user, OBLIGATION_ACTIONS[action])
        body = request.data if isinstance(request.data, dict) else {}
        if action == "report_performed":
            receipt = request.FILES.get("receipt")
            if receipt is not None and receipt.size > settings.DOCUMENT_MAX_BYTES:
                raise too_large()
            obligation = performance.report_performed(
                obligation=obligation,
                actor=request.user,
                performed_on=_performed_on(body),
                note=_text(body, "note"),
                evidence=_evidence(body),
                receipt=receipt.read() if receipt is not None else None,
                receipt_name=receipt.name if receipt is not None else "",
            )
        elif action == "confirm":
            obligation = performance.confirm_performance(obligation=obligation, actor=request.user)
        elif action == "dispute":
            obligation = performance.dispute_performance(
                obligation=obligation, actor=request.user, reason=_text(body, "reason")
            )
        else:
            obligation = performance.urge_performance(
                obligation=obligation, actor=request.user, note=_text(body, "note")
            )
        return Response(_obligation(obligation))
