"""The signed `work_order.closed` webhook, delivered to a real HTTP server."""

import datetime as dt
import hashlib
import hmac
import http.server
import io
import json
import socket
import threading

import pytest
from django.core.management import call_command
from django.utils import timezone

from mediation.errors import TransitionNotAllowed
from mediation.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WorkOrder
from mediation.services import webhooks
from mediation.services import work_orders as services
from tests.workflows import order_in_state

Status = WorkOrder.Status
pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-hotline"


class Receiver:
    """A local HTTP server that records every request and answers with `status`."""

    def __init__(self, status=200):
        self.status = status
        self.requests = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}/hooks/court"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(name="hotline", url=receiver.url, secret=SECRET)


def unused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_order(people):
    return order_in_state(Status.CLOSED, people)


def test_closing_an_order_queues_one_delivery_per_active_endpoint(endpoint, people):
    WebhookEndpoint.objects.create(name="switched-off", url="http://127.0.0.1:9/", secret="x", is_active=False)

    order = closed_order(people)

    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint
    assert (delivery.event, delivery.status, delivery.attempt_count) == ("work_order.closed", "pending", 0)
    assert json.loads(delivery.body)["data"]["number"] == order.number


def test_no_delivery_is_queued_before_the_order_closes(endpoint, people):
    order_in_state(Status.AWAITING_CONFIRMATION, people)
    assert not WebhookDelivery.objects.exists()


def test_a_refused_close_queues_nothing(endpoint, people):
    order = order_in_state(Status.REPLIED, people)
    with pytest.raises(TransitionNotAllowed):
        services.close_work_order(order=order, actor=people["liaison"], outcome="Done")
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_is_posted_with_an_hmac_signature_of_the_exact_body(endpoint, receiver, people):
    order = closed_order(people)

    assert webhooks.deliver_many() == 1

    (request,) = receiver.requests
    assert request["path"] == "/hooks/court"
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == f"sha256={expected}"
    assert request["headers"]["Content-Type"].startswith("application/json")
    payload = json.loads(request["body"])
    assert payload["event"] == "work_order.closed"
    assert payload["data"]["number"] == order.number
    assert payload["data"]["status"] == "closed"
    assert payload["data"]["outcome"] == "Answered"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == ("delivered", 1)
    assert delivery.delivered_at is not None
    assert delivery.attempts.get().response_status == 200


def test_each_endpoint_gets_the_body_signed_with_its_own_secret(endpoint, receiver, people):
    with Receiver() as second_receiver:
        WebhookEndpoint.objects.create(name="wechat", url=second_receiver.url, secret="wechat-secret")
        closed_order(people)

        assert webhooks.deliver_many() == 2

        for server, secret in ((receiver, SECRET), (second_receiver, "wechat-secret")):
            (request,) = server.requests
            expected = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
            assert request["headers"]["X-Signature"] == f"sha256={expected}"


def test_a_receiver_error_is_logged_and_retried_later_with_growing_backoff(endpoint, receiver, people):
    receiver.status = 500
    closed_order(people)

    assert webhooks.deliver_many() == 0
    delivery = WebhookDelivery.objects.get()
    first = delivery.attempts.get()
    assert first.response_status == 500
    assert (delivery.status, delivery.attempt_count) == ("pending", 1)
    first_wait = delivery.next_attempt_at - first.attempted_at
    assert first_wait >= dt.timedelta(seconds=55)

    # Not due yet: a run now sends nothing.
    assert webhooks.deliver_many() == 0
    assert len(receiver.requests) == 1

    assert webhooks.deliver_many(now=delivery.next_attempt_at + dt.timedelta(seconds=1)) == 0
    delivery.refresh_from_db()
    second = delivery.attempts.latest("id")
    second_wait = delivery.next_attempt_at - second.attempted_at
    assert (delivery.status, delivery.attempt_count) == ("pending", 2)
    assert len(receiver.requests) == 2
    assert second_wait > first_wait * 1.5


def test_retries_send_the_identical_signed_body(endpoint, receiver, people):
    receiver.status = 503
    closed_order(people)
    webhooks.deliver_many()
    receiver.status = 204

    webhooks.deliver_many(now=timezone.now() + dt.timedelta(hours=1))

    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["X-Signature"] == second["headers"]["X-Signature"]
    assert WebhookDelivery.objects.get().status == "delivered"


def test_after_the_last_allowed_attempt_the_delivery_fails(endpoint, receiver, people, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.status = 500
    closed_order(people)
    later = timezone.now()

    for _attempt in range(5):
        later += dt.timedelta(days=1)
        webhooks.deliver_many(now=later)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == ("failed", 3)
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 3
    assert len(receiver.requests) == 3


def test_an_unreachable_endpoint_is_logged_as_an_attempt_with_an_error(people):
    WebhookEndpoint.objects.create(name="down", url=f"http://127.0.0.1:{unused_port()}/hook", secret=SECRET)
    closed_order(people)

    assert webhooks.deliver_many() == 0

    delivery = WebhookDelivery.objects.get()
    attempt = delivery.attempts.get()
    assert attempt.response_status is None
    assert attempt.error
    assert (delivery.status, delivery.attempt_count) == ("pending", 1)
    assert delivery.next_attempt_at > timezone.now()


def test_a_delivered_webhook_is_not_sent_again_by_the_next_command_run(endpoint, receiver, people):
    closed_order(people)
    out = io.StringIO()
    call_command("deliver_webhooks", stdout=out)
    assert "delivered: 1" in out.getvalue()
    assert len(receiver.requests) == 1

    out = io.StringIO()
    call_command("deliver_webhooks", stdout=out)

    assert "delivered: 0" in out.getvalue()
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.count() == 1


def test_the_command_retries_a_due_failed_attempt(endpoint, receiver, people):
    receiver.status = 500
    closed_order(people)
    webhooks.deliver_many()
    receiver.status = 200
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))

    call_command("deliver_webhooks", stdout=io.StringIO())

    assert WebhookDelivery.objects.get().status == "delivered"
    assert len(receiver.requests) == 2
