from django.urls import path

from documents import api

urlpatterns = [
    path("cases/", api.MyCasesView.as_view(), name="api_my_cases"),
    path("cases/<int:case_id>/", api.MyCaseView.as_view(), name="api_my_case"),
    path(
        "obligations/<int:obligation_id>/actions/<slug:action>/",
        api.ObligationActionView.as_view(),
        name="api_obligation_action",
    ),
]
