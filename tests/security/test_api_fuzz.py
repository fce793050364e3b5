"""The HTTP API fuzzed from its own OpenAPI schema: schemathesis reads
/api/v1/schema/ from the Django application in this process (WSGI, in the test's
transaction) and sends requests that fit the schema and requests that do not, as an
integration system with a bearer token, as a general liaison signed in with a
session, and as nobody. Property: no request gets a 5xx.

Path parameters are sometimes replaced by ones that exist (a real order number,
case, room, action), so that generated bodies reach the code behind the 404s."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from mediation.actions.work_orders import WORK_ORDER_ACTIONS
from tests.servers import session_cookie

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("court_files_in_use")]

SCHEMA_PATH = "/api/v1/schema/"
# Examples per operation: the signed-in identities reach the code behind the checks;
# anonymous requests stop at authentication.
EXAMPLES = {"token": 25, "liaison_session": 25, "anonymous": 5}


def operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the schema, read without a request."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, methods in document["paths"].items()
        for method in methods
        if method in ("get", "post", "put", "patch", "delete")
    )


@pytest.fixture(scope="module")
def wsgi_app():
    """Django's WSGI handler in this thread. Like Django's test client, it must not
    close the database connection after each request: that would end the test's
    transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_world(court):
    """Real path parameters, and the identities requests are sent as."""
    csrf = _get_new_csrf_string()
    liaison_session = session_cookie(court.people["general_liaison"]).split("=", 1)[1]
    return {
        "path_values": {
            "number": [order.number for order in court.orders.values()],
            "case_id": [court.case.case.pk, court.other_case.case.pk],
            "room_id": [court.case.joint.pk, court.case.plaintiff_caucus.pk],
            "action": sorted(WORK_ORDER_ACTIONS),
        },
        "identities": {
            "token": {"headers": {"Authorization": f"Bearer {court.api_token}"}, "cookies": {}},
            "liaison_session": {
                "headers": {"X-CSRFToken": csrf},
                "cookies": {"sessionid": liaison_session, "csrftoken": csrf},
            },
            "anonymous": {"headers": {}, "cookies": {}},
        },
    }


@pytest.fixture(scope="module")
def api_schema(wsgi_app):
    """The schema as the platform serves it (its generation touches no table)."""
    return schemathesis.openapi.from_wsgi(SCHEMA_PATH, wsgi_app)


def with_real_path_values(strategy, path_values: dict):
    """Cases whose path parameters are, about half the time, ones that exist."""

    def substitute(drawn):
        case, use_real, picks = drawn
        if use_real and case.path_parameters:
            for name in list(case.path_parameters):
                if name in path_values:
                    case.path_parameters[name] = path_values[name][picks % len(path_values[name])]
        return case

    return st.tuples(strategy, st.booleans(), st.integers(min_value=0, max_value=50)).map(substitute)


@pytest.mark.parametrize("identity", sorted(EXAMPLES))
@pytest.mark.parametrize(("method", "path"), operations())
def test_no_generated_request_gets_a_server_error(api_schema, api_world, method, path, identity):
    operation = api_schema[path][method]
    strategy = with_real_path_values(
        st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)),
        api_world["path_values"],
    )
    who = api_world["identities"][identity]

    @settings(
        max_examples=EXAMPLES[identity],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def no_server_error(case):
        response = case.call(headers=who["headers"], cookies=who["cookies"])
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
        case.validate_response(response, checks=[not_a_server_error])

    no_server_error()


def test_the_schema_is_served_and_names_the_bearer_token(api_schema):
    document = api_schema.raw_schema
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An integration system's API token.",
    }
    operation_ids = [
        operation["operationId"] for methods in document["paths"].values() for operation in methods.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert {(method, path) for method, path in operations()} >= {
        ("POST", "/api/v1/work-orders/"),
        ("GET", "/api/v1/work-orders/{number}/"),
        ("POST", "/api/v1/work-orders/{number}/actions/{action}/"),
        ("GET", "/api/v1/stats/work-orders/"),
    }
