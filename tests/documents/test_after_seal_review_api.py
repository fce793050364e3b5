"""An attacker's review of the obligations API: ids and bodies no client should send
get a clear answer (404 or 400), never a server error, and change nothing."""

import pytest
from rest_framework.test import APIClient

from documents.models import ObligationStep
from tests.documents import performance_world

built = performance_world.built
module_files = performance_world.module_files
_module_files = performance_world._module_files

pytestmark = pytest.mark.django_db

HUGE = 10**30


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_login(user)
    return client


def test_an_obligation_id_beyond_any_row_is_not_found(built):
    assert (
        api(built.plaintiff).post(f"/api/v1/obligations/{HUGE}/actions/confirm/", {}, format="json").status_code == 404
    )


@pytest.mark.parametrize("evidence", [[HUGE], [-1], [2**63]])
def test_evidence_ids_beyond_any_row_are_refused_as_bad_input(built, evidence):
    steps = ObligationStep.objects.count()
    response = api(built.defendant).post(
        f"/api/v1/obligations/{built.by_term[2].pk}/actions/report_performed/",
        {"performed_on": built.today.isoformat(), "evidence": evidence},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "evidence" in response.json()
    assert ObligationStep.objects.count() == steps
