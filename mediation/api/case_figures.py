"""`GET /api/v1/stats/cases/`: the mediation figures (definitions in docs/api.md and
mediation.selectors.case_figures)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from mediation import policy
from mediation.api.serializers import FiguresQuerySerializer
from mediation.api.views import CanSeeFigures
from mediation.selectors.case_figures import case_figures


class CaseFiguresView(APIView):
    """What became of the cases referred in each year: referred, accepted, settled,
    failed, withdrawn, the settlement rate and the average days to outcome, per year
    and per year and mediator, organisation, department and cause of action."""

    permission_classes = [permissions.IsAuthenticated, CanSeeFigures]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="First year of referral, e.g. 2024"),
            OpenApiParameter("to", int, required=True, description="Last year of referral, e.g. 2026"),
        ],
        responses={
            200: OpenApiResponse(description="years, by_mediator, by_organisation, by_department, by_cause"),
            400: OpenApiResponse(description="Missing or invalid years, one message list per parameter."),
        },
        summary="Mediation figures: referred, accepted, settled, failed, withdrawn, settlement rate, days to outcome",
    )
    def get(self, request):
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            case_figures(
                year_from=query.validated_data["from"],
                year_to=query.validated_data["to"],
                department_id=policy.figures_department(request.user),
            )
        )
