from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from mediation.api import case_figures, public, views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("work-orders/", views.WorkOrderCollectionView.as_view(), name="api_work_orders"),
    path("work-orders/<str:number>/", views.WorkOrderDetailView.as_view(), name="api_work_order"),
    path(
        "work-orders/<str:number>/actions/<slug:action>/",
        views.WorkOrderActionView.as_view(),
        name="api_work_order_action",
    ),
    path("public/verification-codes/", public.VerificationCodeView.as_view(), name="api_public_codes"),
    path("public/applications/", public.ApplicationView.as_view(), name="api_public_applications"),
    path("public/work-orders/<str:number>/", public.TrackedOrderView.as_view(), name="api_public_work_order"),
    path("stats/work-orders/", views.WorkOrderFiguresView.as_view(), name="api_work_order_stats"),
    path("stats/after-seal/", views.AfterSealFiguresView.as_view(), name="api_after_seal_stats"),
    path("stats/cases/", case_figures.CaseFiguresView.as_view(), name="api_case_stats"),
]
