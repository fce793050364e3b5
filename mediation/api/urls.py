from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from mediation.api import views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("work-orders/", views.WorkOrderCollectionView.as_view(), name="api_work_orders"),
    path("work-orders/<str:number>/", views.WorkOrderDetailView.as_view(), name="api_work_order"),
    path(
        "work-orders/<str:number>/actions/<slug:action>/",
        views.WorkOrderActionView.as_view(),
        name="api_work_order_action",
    ),
    path("stats/work-orders/", views.WorkOrderFiguresView.as_view(), name="api_work_order_stats"),
]
