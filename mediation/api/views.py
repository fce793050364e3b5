from collections.abc import Mapping

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from mediation import policy
from mediation.actions.work_orders import WORK_ORDER_ACTIONS
from mediation.api.serializers import (
    FiguresQuerySerializer,
    WorkOrderDetailSerializer,
    WorkOrderFiguresSerializer,
    WorkOrderIntakeSerializer,
    WorkOrderSerializer,
)
from mediation.errors import ActionForbidden
from mediation.models import ApiToken
from mediation.roles import API_CLIENT_GROUP, has_role
from mediation.selectors.stats import work_order_figures
from mediation.selectors.work_orders import work_order_for
from mediation.services.work_orders import receive_work_order


def _external_source(request) -> str:
    if isinstance(request.auth, ApiToken):
        return request.auth.name
    return f"user:{request.user.pk}"


class WorkOrderCollectionView(APIView):
    @extend_schema(
        request=WorkOrderIntakeSerializer,
        responses={
            201: WorkOrderSerializer,
            200: OpenApiResponse(WorkOrderSerializer, description="This external_id was already received."),
            400: OpenApiResponse(description="Invalid fields, one message list per field."),
            401: OpenApiResponse(description="Missing, unknown or revoked token."),
        },
        summary="Receive a work order from the hotline or WeChat system",
    )
    def post(self, request):
        intake = WorkOrderIntakeSerializer(data=request.data)
        intake.is_valid(raise_exception=True)
        if not policy.can(request.user, "receive"):
            raise ActionForbidden()
        order, created = receive_work_order(
            actor=request.user, external_source=_external_source(request), **intake.validated_data
        )
        return Response(
            WorkOrderSerializer(order).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class WorkOrderDetailView(APIView):
    @extend_schema(
        responses={200: WorkOrderDetailSerializer, 404: OpenApiResponse(description="No such order you may see.")}
    )
    def get(self, request, number):
        order = work_order_for(request.user, number)
        if order is None:
            raise Http404
        return Response(WorkOrderDetailSerializer(order).data)


class WorkOrderActionView(APIView):
    """Take an action on an order, with the same fields and rules as the order's page:
    400 with messages per field, 403 when the user may not, 409 when the order's
    state does not allow it."""

    @extend_schema(
        request={"application/json": {"type": "object", "additionalProperties": True}},
        responses={
            200: WorkOrderDetailSerializer,
            400: OpenApiResponse(description="Invalid fields, one message list per field."),
            403: OpenApiResponse(description="You may not take this action on this order."),
            404: OpenApiResponse(description="No such order you may see, or no such action."),
            409: OpenApiResponse(description="The order's state does not allow this action now."),
        },
        summary="Take an action on a work order (dispatch, reply, close ...)",
    )
    def post(self, request, number, action):
        order = work_order_for(request.user, number)
        taken = WORK_ORDER_ACTIONS.get(action)
        if order is None or taken is None:
            raise Http404
        if not isinstance(request.data, Mapping):
            raise ParseError()
        form = taken.form(order, request.data, prefixed=False)
        if not form.is_valid():
            return Response({field: list(errors) for field, errors in form.errors.items()}, status=400)
        taken.run(order, request.user, form.cleaned_data)
        order.refresh_from_db()
        return Response(WorkOrderDetailSerializer(order).data)


class CanSeeFigures(permissions.BasePermission):
    def has_permission(self, request, view):
        return policy.can_see_figures(request.user) or has_role(request.user, API_CLIENT_GROUP)


class WorkOrderFiguresView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanSeeFigures]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="First year, e.g. 2018"),
            OpenApiParameter("to", int, required=True, description="Last year, e.g. 2020"),
        ],
        responses={200: WorkOrderFiguresSerializer},
    )
    def get(self, request):
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = work_order_figures(
            year_from=query.validated_data["from"],
            year_to=query.validated_data["to"],
            department_id=policy.figures_department(request.user),
        )
        # The page's own keys (its period and rows) are not part of the API.
        return Response({key: value for key, value in figures.items() if key not in ("period", "rows")})


class AfterSealFiguresView(APIView):
    """Judicial confirmation and performance figures per year, mediator and department
    (definitions: documents.selectors_figures, docs/api.md)."""

    permission_classes = [permissions.IsAuthenticated, CanSeeFigures]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="First year, e.g. 2024"),
            OpenApiParameter("to", int, required=True, description="Last year, e.g. 2026"),
        ],
        responses={200: OpenApiResponse(description="years, by_mediator, by_department")},
        summary="Figures after the seal: judicial confirmation, performance, voluntary performance rate",
    )
    def get(self, request):
        from documents.selectors_figures import after_seal_figures

        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            after_seal_figures(
                year_from=query.validated_data["from"],
                year_to=query.validated_data["to"],
                department_id=policy.figures_department(request.user),
            )
        )
