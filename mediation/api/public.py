"""The public API (/api/v1/public/): applying for mediation and following a request
from the court's WeChat mini-program or another front end, with SMS codes and no
session. The same services as /apply/ and /apply/track/.

No authentication (so no CSRF: nothing here acts on a session), a throttle per client
address on every call, bounded bodies (config.body_limit) and the limits of the codes
themselves (mediation.verification_codes)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mediation import phones, throttle, verification_codes
from mediation.client_address import client_ip
from mediation.models import Application
from mediation.selectors import applications as selectors
from mediation.services import applications as services
from mediation.services.applications import LIMITS
from mediation.verification_codes import CodeRefused


class VerificationCodeRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text=gettext_lazy("A mobile number, e.g. +8613800138000."))
    purpose = serializers.ChoiceField(choices=[services.APPLY, services.TRACK])


class ApplicationRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    code = serializers.CharField(max_length=6, help_text=gettext_lazy("The code sent for the purpose “apply”."))
    name = serializers.CharField(max_length=LIMITS["name"])
    id_number = serializers.CharField(max_length=32)
    applicant_kind = serializers.ChoiceField(
        choices=Application.ApplicantKind.values, required=False, default=Application.ApplicantKind.PERSON
    )
    organisation_name = serializers.CharField(
        max_length=LIMITS["organisation_name"], required=False, allow_blank=True, default=""
    )
    organisation_credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True, default="")
    respondent_kind = serializers.ChoiceField(
        choices=Application.RespondentKind.values, required=False, default=Application.RespondentKind.PERSON
    )
    respondent_name = serializers.CharField(max_length=LIMITS["respondent_name"])
    respondent_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    facts = serializers.CharField(max_length=LIMITS["facts"])
    claim = serializers.CharField(max_length=LIMITS["claim"])
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None,
        help_text=gettext_lazy("In yuan."),
    )  # fmt: skip
    consent_online_mediation = serializers.BooleanField(
        help_text=gettext_lazy("Must be true (Online Mediation Rules of the People's Courts, art. 4).")
    )
    consent_electronic_service = serializers.BooleanField(required=False, default=False)
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=20)
    preferred_mediator = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text=gettext_lazy("Optional: the id of a mediator the applicant chose on the public roster."),
    )

    def validate_evidence(self, value):
        if value:
            raise serializers.ValidationError(
                _("Evidence cannot be sent through this API yet: bring it to the mediator once the case is opened.")
            )
        return value


class PublicDeadlinesSerializer(serializers.Serializer):
    first_contact_due = serializers.DateTimeField(source="contact_due", allow_null=True)
    completion_due = serializers.DateTimeField(allow_null=True)


class ReplySerializer(serializers.Serializer):
    content = serializers.CharField()
    channel = serializers.CharField()
    replied_at = serializers.DateTimeField()


class TrackedOrderSerializer(serializers.Serializer):
    number = serializers.CharField()
    category = serializers.CharField()
    received_at = serializers.DateTimeField()
    status = serializers.CharField(source="state")
    status_text = serializers.CharField(source="status")
    in_mediation = serializers.BooleanField()
    case_numbers = serializers.ListField(child=serializers.CharField())
    deadlines = PublicDeadlinesSerializer(source="*")
    replies = ReplySerializer(many=True)


def _throttled(request) -> Response | None:
    allowed, retry_after = throttle.allow(
        scope="public-api",
        address=client_ip(request),
        limit=settings.APPLY_THROTTLE_REQUESTS,
        window=settings.APPLY_THROTTLE_WINDOW_SECONDS,
    )
    if allowed:
        return None
    return _too_many(
        _("Too many requests came from your connection. Try again in %(seconds)s seconds.") % {"seconds": retry_after},
        code="throttled",
        retry_after=retry_after,
    )


def _too_many(message, *, code: str, retry_after: int | None = None, field: str | None = None) -> Response:
    body = {field: [message]} if field else {"detail": message, "code": code}
    response = Response(body, status=status.HTTP_429_TOO_MANY_REQUESTS)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


class PublicApiView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]


class VerificationCodeView(PublicApiView):
    @extend_schema(
        request=VerificationCodeRequestSerializer,
        responses={
            202: OpenApiResponse(
                description="A code is on its way, whether or not the number has applied: the answer says nothing "
                "about who did."
            ),
            400: OpenApiResponse(description="An invalid number or purpose, one message list per field."),
            429: OpenApiResponse(description="Too soon or too many codes; Retry-After says when to try again."),
        },
        summary="Send a one-time code by SMS, to apply or to follow a request",
        auth=[],
    )
    def post(self, request):
        refused = _throttled(request)
        if refused:
            return refused
        data = VerificationCodeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        send = (
            services.send_apply_code if data.validated_data["purpose"] == services.APPLY else services.send_track_code
        )
        try:
            send(phone=data.validated_data["phone"], client_address=client_ip(request), language=get_language())
        except CodeRefused as error:
            return _too_many(error.message, code=error.code, retry_after=error.retry_after)
        return Response({"detail": _("A code was sent by text message.")}, status=status.HTTP_202_ACCEPTED)


class ApplicationView(PublicApiView):
    @extend_schema(
        request=ApplicationRequestSerializer,
        responses={
            201: TrackedOrderSerializer,
            400: OpenApiResponse(
                description="Invalid fields (one message list per field; an ID number failing its check is an "
                "error on id_number), or a wrong, expired or used code (on code). A request refused only for "
                "its other fields does not use the code."
            ),
            429: OpenApiResponse(description="The sixth try on one code, or too many requests from the client."),
        },
        summary="Apply for mediation with a mobile number proved by a code",
        auth=[],
    )
    def post(self, request):
        refused = _throttled(request)
        if refused:
            return refused
        data = ApplicationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("evidence")
        code = fields.pop("code")
        try:
            order = services.apply_for_mediation(code=code, language=get_language(), **fields)
        except ValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        except CodeRefused as error:
            if error.code == "too_many_tries":
                return _too_many(error.message, code=error.code, field="code")
            return Response({"code": [error.message]}, status=status.HTTP_400_BAD_REQUEST)
        tracked = selectors.order_of_phone(str(order.requester_phone), order.number)
        return Response(TrackedOrderSerializer(tracked).data, status=status.HTTP_201_CREATED)


class TrackedOrderView(PublicApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("phone", str, required=True, description="The requester's mobile number."),
            OpenApiParameter(
                "X-Verification-Code",
                str,
                location=OpenApiParameter.HEADER,
                required=False,
                description="A fresh code sent for the purpose “track”: in this header, so that it stays out of "
                "the access logs that keep query strings.",
            ),
            OpenApiParameter(
                "code", str, required=False, description="The same code in the query, where no header can be sent."
            ),
        ],
        responses={
            200: TrackedOrderSerializer,
            404: OpenApiResponse(description="Any wrong combination of number, phone and code: the same answer."),
            429: OpenApiResponse(description="Too many requests from the client."),
        },
        summary="Follow a request: its status, deadlines and replies",
        auth=[],
    )
    def get(self, request, number):
        refused = _throttled(request)
        if refused:
            return refused
        not_found = Response({"detail": _("No such request for this number and code.")}, status=404)
        phone = phones.parse(request.query_params.get("phone", "")[:32])
        code = (request.headers.get("X-Verification-Code") or request.query_params.get("code", ""))[:6]
        if phone is None or not code:
            return not_found
        try:
            checked = verification_codes.check_code(phone.as_e164, services.TRACK, code)
            # One code, one look-up, whether or not the order is this number's.
            verification_codes.use_code(checked)
        except CodeRefused:
            return not_found
        tracked = selectors.order_of_phone(phone.as_e164, number)
        if tracked is None:
            return not_found
        return Response(TrackedOrderSerializer(tracked).data)
