"""The platform's own error pages (404, 403, CSRF failure, 500), in the reader's
language with a line in the other shipped language and a way back home.

They render with a plain context built from settings only: no context processor, no
database query, no signed-in user. A 500 page must render when the database or a
context processor is what failed, and the others are cheap for strangers."""

from __future__ import annotations

from django.conf import settings
from django.http import (
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token


def _court() -> dict:
    return {"court_name": settings.COURT_NAME, "court_phone": settings.COURT_CONTACT_PHONE}


def _render(template_name: str) -> str:
    return loader.get_template(template_name).render(_court())


@requires_csrf_token
def page_not_found(request, exception=None):
    return HttpResponseNotFound(_render("404.html"))


@requires_csrf_token
def permission_denied(request, exception=None):
    return HttpResponseForbidden(_render("403.html"))


def csrf_failure(request, reason=""):
    return HttpResponseForbidden(_render("403_csrf.html"))


@requires_csrf_token
def server_error(request):
    return HttpResponseServerError(_render("500.html"))
