"""Hardening: cross-site WebSockets, login brute force, the production settings,
and the headers every page carries (Content-Security-Policy without inline scripts,
framing, sniffing, referrer)."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from cryptography.fernet import Fernet
from django.core.cache import cache
from django.urls import get_resolver, reverse

from config.settings import base as base_settings
from mediation.sms import templates as sms_templates
from tests.factories import PASSWORD, UserFactory
from tests.servers import session_cookie

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "frontend" / "templates", *sorted(ROOT.glob("*/templates"))]


# Cross-site WebSocket ------------------------------------------------------------------------


async def connect_with(room_id: int, headers: list[tuple[bytes, bytes]]):
    from config.asgi import application

    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room_id}/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "origin",
    [b"http://evil.example", b"https://evil.example", b"http://testserver.evil.example", b"null", None],
    ids=["foreign", "foreign-https", "lookalike", "null", "none"],
)
async def test_a_websocket_from_a_foreign_origin_is_refused_even_with_a_valid_session(world, origin):
    from channels.db import database_sync_to_async

    cookie = await database_sync_to_async(session_cookie)(world.plaintiff)
    headers = [(b"cookie", cookie.encode()), (b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator, connected, _code = await connect_with(world.joint.pk, headers)
    try:
        assert not connected
        # Refused before the handshake: no hello, nothing at all.
        assert await communicator.receive_nothing(timeout=0.2)
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_from_the_platforms_own_origin_is_accepted(world):
    from channels.db import database_sync_to_async

    cookie = await database_sync_to_async(session_cookie)(world.plaintiff)
    headers = [(b"cookie", cookie.encode()), (b"host", b"testserver"), (b"origin", b"http://testserver")]
    communicator, connected, _code = await connect_with(world.joint.pk, headers)
    try:
        assert connected
        hello = await communicator.receive_json_from(timeout=5)
        assert hello["type"] == "hello" and hello["me"]["id"] == world.plaintiff.pk
    finally:
        await communicator.disconnect()


# Login brute force ---------------------------------------------------------------------------


@pytest.fixture
def rate_limited(settings):
    """The rate limits of base settings (the test settings switch them off)."""
    settings.ACCOUNT_RATE_LIMITS = base_settings.ACCOUNT_RATE_LIMITS
    cache.clear()
    yield
    cache.clear()


def attempt_login(client, email: str, password: str, ip: str, **headers):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip, headers=headers
    )


def refused_as_too_many(response) -> bool:
    return response.status_code == 429 or "Too many failed login attempts" in response.content.decode()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_login_rate_limits_are_configured_in_base_settings():
    limits = base_settings.ACCOUNT_RATE_LIMITS
    assert limits["login_failed"] == "5/5m/key,20/15m/ip"
    assert "login" in limits and "reset_password" in limits


@pytest.mark.django_db
def test_after_five_failed_logins_even_the_right_password_is_refused(client, rate_limited):
    target = UserFactory(email="target@example.test")
    for attempt in range(5):
        response = attempt_login(client, target.email, f"guess-{attempt}", "198.51.100.1")
        assert response.status_code == 200 and not refused_as_too_many(response), attempt
        assert not signed_in(client)

    response = attempt_login(client, target.email, PASSWORD, "198.51.100.1")

    assert refused_as_too_many(response)
    assert not signed_in(client)


@pytest.mark.django_db
def test_the_account_stays_locked_from_another_address(client, rate_limited):
    target = UserFactory(email="target@example.test")
    for attempt in range(5):
        attempt_login(client, target.email, f"guess-{attempt}", f"198.51.100.{attempt + 1}")

    response = attempt_login(client, target.email, PASSWORD, "203.0.113.99")

    assert refused_as_too_many(response)
    assert not signed_in(client)


@pytest.mark.django_db
def test_one_address_cannot_spray_guesses_over_many_accounts_or_hide_behind_forwarded_for(client, rate_limited):
    victims = [UserFactory() for _ in range(20)]
    for number, victim in enumerate(victims):
        # X-Forwarded-For is not trusted (no proxy count configured), so a made-up
        # one changes nothing.
        attempt_login(client, victim.email, "guess", "198.51.100.7", X_Forwarded_For=f"10.0.0.{number}")
    someone = UserFactory()

    response = attempt_login(client, someone.email, PASSWORD, "198.51.100.7", X_Forwarded_For="10.0.0.200")

    assert refused_as_too_many(response)
    assert not signed_in(client)


@pytest.mark.django_db
def test_failures_on_one_account_do_not_lock_the_others_behind_the_same_address(client, rate_limited):
    # A court office's NAT: everyone signs in from one address.
    careless = UserFactory(email="careless@example.test")
    colleague = UserFactory(email="colleague@example.test")
    for attempt in range(5):
        attempt_login(client, careless.email, f"guess-{attempt}", "198.51.100.1")

    locked = attempt_login(client, careless.email, PASSWORD, "198.51.100.1")
    assert refused_as_too_many(locked)
    assert not signed_in(client)

    response = attempt_login(client, colleague.email, PASSWORD, "198.51.100.1")

    assert response.status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_retrying_a_locked_account_does_not_use_up_its_address_budget(client, rate_limited):
    careless = UserFactory(email="careless@example.test")
    colleague = UserFactory(email="colleague@example.test")
    # 5 failures, then 15 retries of the locked account: 20, the address's budget
    # (and under the 30 logins a minute any address may try).
    for attempt in range(20):
        attempt_login(client, careless.email, f"guess-{attempt}", "198.51.100.1")

    response = attempt_login(client, colleague.email, PASSWORD, "198.51.100.1")

    assert response.status_code == 302
    assert signed_in(client)


def test_behind_the_platforms_proxy_the_rate_limits_count_per_client_address():
    # A subprocess: settings are read from the environment once, at start-up.
    code = "from config.settings import base; print(base.ALLAUTH_TRUSTED_PROXY_COUNT)"
    env = {key: value for key, value in os.environ.items() if key != "TRUSTED_PROXY"}

    def proxy_count(**changes) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**env, **changes}, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    assert proxy_count(TRUSTED_PROXY="true") == "1"
    assert proxy_count() == "0"


@pytest.mark.django_db
def test_one_office_behind_the_proxy_does_not_use_up_another_offices_budget(client, rate_limited, settings):
    # As the cluster runs: every request comes from the proxy, which names the client.
    settings.TRUSTED_PROXY = True
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for victim in [UserFactory() for _ in range(20)]:
        attempt_login(client, victim.email, "guess", proxy, X_Forwarded_For="198.51.100.7")
    someone = UserFactory()

    sprayer = attempt_login(client, someone.email, PASSWORD, proxy, X_Forwarded_For="198.51.100.7")
    assert refused_as_too_many(sprayer)
    response = attempt_login(client, someone.email, PASSWORD, proxy, X_Forwarded_For="203.0.113.8")

    assert response.status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_a_successful_login_below_the_limit_still_works(client, rate_limited):
    target = UserFactory(email="target@example.test")
    for attempt in range(3):
        attempt_login(client, target.email, f"guess-{attempt}", "198.51.100.1")

    response = attempt_login(client, target.email, PASSWORD, "198.51.100.1")

    assert response.status_code == 302
    assert signed_in(client)


# Production settings --------------------------------------------------------------------------


def production_environment(**changes) -> dict:
    """What a court's server would have: a long random key, its host names, its own
    signing-key password, PostgreSQL and Redis."""
    # Every module that registers an SMS template is imported once the URL conf is (as
    # in `check`), so the provider's template map below names them all.
    get_resolver().url_patterns  # noqa: B018
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PKI_", "AUDIT_", "SMS_", "PERSONAL_DATA_"))
        and key != "CI"
    }
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="mediation.court.example",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://mediation.court.example",
        SITE_URL="https://mediation.court.example",
        PKI_PASSWORD=secrets.token_urlsafe(24),
        # The audit chain's key, kept apart from the database and from DJANGO_SECRET_KEY.
        AUDIT_CHAIN_KEY=secrets.token_urlsafe(48),
        # Personal data's keys, likewise kept apart (docs/people.md).
        PERSONAL_DATA_KEYS=Fernet.generate_key().decode(),
        PERSONAL_DATA_HASH_KEY=secrets.token_urlsafe(48),
        DATABASE_URL="postgres://mediation:secret@db.court.example:5432/mediation",
        REDIS_URL="redis://redis.court.example:6379/0",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        # A court whose every subdomain serves HTTPS opts in to HSTS preloading.
        DJANGO_SECURE_HSTS_PRELOAD="true",
        # Text messages through a provider, every template registered there, and the
        # delivery receipts' secret address (docs/sms.md).
        SMS_BACKEND="aliyun",
        SMS_ALIYUN_ACCESS_KEY_ID="LTAI5tTestKeyId",
        SMS_ALIYUN_ACCESS_KEY_SECRET=secrets.token_urlsafe(24),
        SMS_ALIYUN_SIGN_NAME="北京市石景山区人民法院",
        SMS_ALIYUN_TEMPLATES=json.dumps({code: f"SMS_{n:09d}" for n, code in enumerate(sms_templates.TEMPLATES)}),
        SMS_RECEIPT_TOKEN=secrets.token_urlsafe(32),
    )
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def run_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_values():
    result = run_check(production_environment())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output.upper().replace("--FAIL-LEVEL WARNING", ""), output


@pytest.mark.slow
def test_production_refuses_to_start_without_its_secret_key():
    result = run_check(production_environment(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stdout + result.stderr


# Headers and the Content-Security-Policy --------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


class ScriptFinder(HTMLParser):
    """Every <script> tag and every inline event-handler attribute of a page."""

    def __init__(self):
        super().__init__()
        self.inline_scripts: list[dict] = []
        self.handlers: list[tuple[str, str]] = []
        self.javascript_urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self.inline_scripts.append(attributes)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.javascript_urls.append(value)


def assert_hardened(response, label: str) -> None:
    assert response.status_code == 200, (label, response.status_code)
    assert response["X-Frame-Options"] == "DENY", label
    assert response["X-Content-Type-Options"] == "nosniff", label
    assert response["Referrer-Policy"] == "same-origin", label
    if not response["Content-Type"].startswith("text/html"):
        return
    policy = csp_directives(response["Content-Security-Policy"])
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts == ["'self'"], (label, scripts)
    assert policy.get("object-src") == ["'none'"], label
    assert policy.get("frame-ancestors") == ["'none'"], label
    assert policy.get("base-uri") == ["'self'"], label
    finder = ScriptFinder()
    finder.feed(response.content.decode())
    assert not finder.inline_scripts, (label, finder.inline_scripts)
    assert not finder.handlers, (label, finder.handlers)
    assert not finder.javascript_urls, (label, finder.javascript_urls)


@pytest.fixture
def pages(world, people):
    """A few pages of each kind, as the person who sees them."""
    return [
        (None, reverse("account_login")),
        (None, reverse("verify")),
        (people["liaison"], reverse("desk")),
        (people["liaison"], reverse("figures")),
        (people["liaison"], reverse("work_order_intake")),
        (people["mediator"], reverse("case_detail", args=[world.case.pk])),
        (people["mediator"], reverse("case_documents", args=[world.case.pk])),
        (world.plaintiff, reverse("room", args=[world.joint.pk])),
        (world.plaintiff, reverse("my_cases")),
        (world.defendant, reverse("notifications")),
    ]


@pytest.mark.django_db
def test_every_page_carries_the_security_headers_and_a_csp_without_inline_scripts(client, pages):
    for user, url in pages:
        client.logout()
        if user is not None:
            client.force_login(user)
        assert_hardened(client.get(url), url)


@pytest.mark.django_db
def test_error_pages_and_json_carry_the_headers_too(client, people):
    client.force_login(people["nobody"])
    for url, status in ((reverse("desk"), 403), ("/no/such/page/", 404), (reverse("notification_count"), 200)):
        response = client.get(url)
        assert response.status_code == status, url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        if response["Content-Type"].startswith("text/html"):
            assert "'unsafe-inline'" not in csp_directives(response["Content-Security-Policy"])["script-src"]


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text()
            for match in SCRIPT_TAG.finditer(text):
                attributes = match.group(1)
                if "src=" not in attributes and 'type="application/json"' not in attributes:
                    offenders.append(f"{template.relative_to(ROOT)}: <script{attributes}>")
            offenders.extend(f"{template.relative_to(ROOT)}: {m.group(0)}" for m in EVENT_HANDLER.finditer(text))
    assert not offenders, offenders


def test_the_configured_policy_allows_no_inline_or_eval_scripts():
    directives = base_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for name in ("script-src", "default-src"):
        assert "'unsafe-inline'" not in directives[name]
        assert "'unsafe-eval'" not in directives[name]
    assert not [source for source in directives["script-src"] if source.startswith(("http:", "https:", "*"))]
