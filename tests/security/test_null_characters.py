"""A NUL character anywhere a request can carry text is refused with 400 (or a form's
error), never a server error: PostgreSQL refuses NUL in text, the file system in
paths."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from mediation.services.api_tokens import create_api_token
from tests.mediation.test_api import INTAKE_URL, intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False)


@pytest.fixture
def liaison_client(liaison):
    client = Client(raise_request_exception=False)
    client.force_login(liaison)
    return client


@pytest.mark.parametrize(
    "url",
    ["/verify/%00/", "/verify/abc%00def/", "/static/%00.css", "/verify/?code=%00", "/accounts/login/?next=/%00"],
)
def test_a_nul_in_an_anonymous_address_is_refused_with_400(anonymous, url):
    response = anonymous.get(url)

    assert response.status_code == 400
    # The refusal carries the headers every response carries.
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "url", ["/orders/%00/", "/api/v1/work-orders/%00/", "/cases/?status=%00", "/desk/?q=a%00b", "/invite/%00/"]
)
def test_a_nul_in_a_signed_in_address_is_refused_with_400(liaison_client, url):
    assert liaison_client.get(url).status_code == 400


def test_a_nul_in_a_login_form_is_a_form_error(anonymous):
    response = anonymous.post("/accounts/login/", {"login": "someone\x00@example.test", "password": "pass\x00word"})

    assert response.status_code == 200
    assert "_auth_user_id" not in anonymous.session


def test_a_nul_in_an_api_body_is_refused_with_400_and_stores_nothing():
    _token, raw = create_api_token(name="hotline-12368")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(INTAKE_URL, intake(content="When\x00 is my hearing?"), format="json")

    assert response.status_code == 400
    assert "content" in response.json().get("errors", response.json())
