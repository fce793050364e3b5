"""Fixtures of the browser journeys: one daphne process per module serving the test
database, one Chromium for the run, and a `journey` per test whose browser contexts
are closed (and whose requests are checked) when it ends."""

from __future__ import annotations

import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import require_service
from tests.e2e.browser import AXE, CHROMIUM, CHROMIUM_ARGS, ROOT, Journey
from tests.servers import DaphneProcess, database_url_for_servers


def pytest_configure(config):
    """The daphne process cannot see SQLite's in-memory test database: when these
    tests run on SQLite, the test database is a file of this run (removed after it)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test = database.setdefault("TEST", {})
        if not test.get("NAME") or test["NAME"] == ":memory:":
            (ROOT / "var").mkdir(exist_ok=True)
            test["NAME"] = str(ROOT / "var" / f"test-e2e-{os.getpid()}.sqlite3")


@pytest.fixture(scope="session")
def _browser_tools():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        missing.append(f"{AXE.relative_to(ROOT)} (make frontend/node_modules/.installed)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install playwright)")
    require_service("The browser tests' tools", not missing, "missing " + ", ".join(missing))


@pytest.fixture(scope="module")
def chromium_args():
    """Chromium's command line; a module that needs more (a fake camera) overrides it."""
    return CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser(_browser_tools, chromium_args):
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API keeps an event loop running in this thread while it
    # is open: closed with the module, so that later tests can start event loops of
    # their own (asyncio.run) and keep Django's async-safety checks. The test's own
    # database calls between browser steps are synchronous all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args)
            yield chromium
            chromium.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="module")
def documents_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-documents")


@pytest.fixture(scope="module")
def sms_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-sms")


@pytest.fixture(scope="module")
def server_environment():
    """More of the server process's environment; a module that needs more (a Janus
    server) overrides it."""
    return {}


@pytest.fixture(scope="module")
def server(
    django_db_setup, _platform_keys, documents_dir, sms_dir, tmp_path_factory, _browser_tools, server_environment
):
    """The platform under daphne, with the test database, the run's signing keys and
    this module's document storage; the text messages it sends are files in `sms_dir`
    (read with `journey.texted`)."""
    from rooms.server.cluster import DAPHNE_FLAGS, free_port

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and "memory" in str(database["NAME"]):
        pytest.skip("the SQLite test database is in memory; the server process cannot share it")
    env = {
        **{name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_servers(),
        "DOCUMENT_STORAGE_DIR": str(documents_dir),
        "E2E_SMS_DIR": str(sms_dir),
        "PYTHONUNBUFFERED": "1",
        **_platform_keys,
        **server_environment,
    }
    # Daphne answers behind no proxy here.
    flags = [flag for flag in DAPHNE_FLAGS if flag != "--proxy-headers"]
    log = tmp_path_factory.mktemp("e2e-server") / "daphne.log"
    port = free_port()
    daphne = DaphneProcess({**env, "SITE_URL": f"http://127.0.0.1:{port}"}, log, flags=flags, port=port)
    try:
        daphne.wait_ready()
        # The first request imports and builds what every later one uses.
        with urllib.request.urlopen(daphne.url + "/accounts/login/", timeout=120) as response:
            assert response.status == 200
        yield daphne
    finally:
        daphne.stop()
        kept = ROOT / "var" / "e2e" / "daphne.log"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, kept)


@pytest.fixture(autouse=True)
def _storage_shared_with_the_server(_isolated_files_and_keys, settings, documents_dir):
    """What the test stores through services, the server reads, and vice versa."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(documents_dir)},
        },
    }


@pytest.fixture
def journey(request, browser, server, sms_dir):
    """A journey's browser contexts; when it ends, every request must have stayed on
    127.0.0.1. The server's text messages of earlier journeys are gone."""
    for old in sms_dir.glob("*.json"):
        old.unlink()
    trip = Journey(browser=browser, base_url=server.url, name=request.node.name, sms_dir=sms_dir)
    trip.server = server
    yield trip
    trip.close()
    assert not trip.outside_requests, f"requests left 127.0.0.1: {trip.outside_requests}"
