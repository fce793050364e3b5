from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("mediation.api.urls")),
    path("api/v1/", include("rooms.api_urls")),
    path("api/v1/", include("documents.api_urls")),
    path("", include("mediation.sms.urls")),
    path("", include("rooms.urls")),
    path("", include("documents.urls")),
    path("", include("mediation.urls")),
]

handler403 = "frontend.errors.permission_denied"
handler404 = "frontend.errors.page_not_found"
handler500 = "frontend.errors.server_error"
