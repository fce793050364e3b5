from django.urls import path

from documents import api

urlpatterns = [
    path("cases/", api.MyCasesView.as_view(), name="api_my_cases"),
    path("cases/<int:case_id>/", api.MyCaseView.as_view(), name="api_my_case"),
]
