"""JSON for apps and integrations: the signed-in user's cases with their services and
agreements."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from documents import selectors
from documents.access import sees_service_addresses, side_of, visible_powers_of_attorney, visible_services
from documents.agreement_rules import signing_options
from documents.models import Agreement, PowerOfAttorney, Service
from mediation.api.fields import ShownIdNumberField, ShownPhoneField
from mediation.models import MediationCase
from mediation.selectors.cases import visible_cases

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
                "judicial_confirmation": _judicial_confirmation(request, case),
            }
        )
