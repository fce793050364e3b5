"""Production error pages are the platform's own: in the reader's language, with a
line in the other shipped language, the court's name and phone, and a way home.
Never Django's bare English pages. Run with DEBUG off, as in production."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import include, path

from mediation.models import AuditEntry


def boom(request):
    raise RuntimeError("the database went away")


def forbidden(request):
    raise PermissionDenied


urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("", include("config.urls")),
]

# The handlers production uses: Django reads them from the root URLconf.
from config.urls import handler403, handler404, handler500  # noqa: E402, F401

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_error_pages")]

PAGES = {
    # path: (status, Chinese heading, English heading)
    "/no-such-page/": (404, "页面不存在", "Page not found"),
    "/forbidden/": (403, "您无权打开此页面", "You may not open this page"),
    "/boom/": (500, "系统出错了", "Something went wrong on our side"),
}


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False
    settings.COURT_NAME = "北京市石景山区人民法院"
    settings.COURT_CONTACT_PHONE = "010-12368"


def fetch(path: str, language: str):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    return client.get(path)


@pytest.mark.parametrize("path", list(PAGES))
def test_an_error_page_reads_in_chinese_first_with_an_english_line_and_a_way_home(path):
    status, chinese, english = PAGES[path]

    response = fetch(path, "zh-CN,zh;q=0.9")

    assert response.status_code == status
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert page.index(chinese) < page.index(english)
    assert "北京市石景山区人民法院" in page and "010-12368" in page
    assert 'href="/"' in page
    assert "Server Error (500)" not in page and "<h1>Not Found</h1>" not in page


@pytest.mark.parametrize("path", list(PAGES))
def test_an_error_page_reads_in_english_first_for_an_english_reader(path):
    status, chinese, english = PAGES[path]

    response = fetch(path, "en")

    assert response.status_code == status
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert page.index(english) < page.index(chinese)


def test_the_500_page_renders_without_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = fetch("/boom/", "zh-CN")
    assert response.status_code == 500
    assert "系统出错了" in response.content.decode()


def test_a_refused_form_says_the_form_expired_in_both_languages_and_saves_nothing():
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-CN")
    entries = AuditEntry.objects.count()

    response = client.post("/accounts/login/", {"login": "someone@example.com", "password": "x"})

    assert response.status_code == 403
    page = response.content.decode()
    assert "表单已失效" in page and "The form has expired" in page
    assert page.index("表单已失效") < page.index("The form has expired")
    assert "CSRF verification failed" not in page
    assert 'href="/"' in page
    assert AuditEntry.objects.count() == entries
