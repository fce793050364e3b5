import os

import pytest
from django.conf import settings

from mediation.roles import Role
from tests.factories import DepartmentFactory, UserFactory, staff

IN_CI = os.environ.get("CI") == "true"

# A real Janus server for the media tests (fixture `janus`).
pytest_plugins = ["tests.janus"]


def require_service(name: str, available: bool, reason: str) -> None:
    """In CI a missing service is a failure; on a developer's machine, a skip."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    require_service("Redis", bool(url), "set REDIS_URL=redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        require_service("Redis", False, f"{url} does not answer ({error})")
    return url


@pytest.fixture
def postgres(db):
    from django.db import connection

    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
    )
    return connection


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def sms_outbox():
    """The text messages sent during a test (the locmem SMS backend), empty at its start."""
    from mediation.sms.backends import locmem

    locmem.outbox.clear()
    return locmem.outbox


@pytest.fixture
def filing(db):
    return DepartmentFactory(name="Filing division", code="filing")


@pytest.fixture
def civil(db):
    return DepartmentFactory(name="Second civil division", code="civil-2")


@pytest.fixture
def other_department(db):
    return DepartmentFactory(name="Enforcement bureau", code="enforcement")


@pytest.fixture
def liaison(filing):
    return staff(Role.GENERAL_LIAISON, filing, full_name="Li Jing", email="liaison@example.test")


@pytest.fixture
def dept_liaison(civil):
    return staff(Role.DEPARTMENT_LIAISON, civil, full_name="Zhao Min", email="dept.liaison@example.test")


@pytest.fixture
def head(civil):
    return staff(Role.DEPARTMENT_HEAD, civil, full_name="Chen Gang", email="head@example.test")


@pytest.fixture
def judge(civil):
    return staff(Role.JUDGE, civil, full_name="Zhang Wei", email="judge@example.test")


@pytest.fixture
def other_judge(civil):
    return staff(Role.JUDGE, civil, full_name="Wang Fang", email="judge2@example.test")


@pytest.fixture
def outside_judge(other_department):
    return staff(Role.JUDGE, other_department, full_name="Sun Li", email="judge3@example.test")


@pytest.fixture
def mediator(filing):
    return staff(Role.MEDIATOR, filing, full_name="Liu Yang", email="mediator@example.test")


@pytest.fixture
def nobody(db):
    """A signed-in user with no role and no case."""
    return UserFactory(full_name="No Role", email="nobody@example.test")


@pytest.fixture
def people(liaison, dept_liaison, head, judge, other_judge, outside_judge, mediator, nobody):
    return {
        "liaison": liaison,
        "dept_liaison": dept_liaison,
        "head": head,
        "judge": judge,
        "other_judge": other_judge,
        "outside_judge": outside_judge,
        "mediator": mediator,
        "nobody": nobody,
    }


def pytest_report_header(config):
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"database: {database}; channel layer: {layer}; CI: {IN_CI}"


@pytest.fixture(scope="session")
def _platform_keys(tmp_path_factory):
    """Signing keys made once for the whole run, in a temporary directory."""
    from django.test import override_settings

    from documents.pki import generate_platform_pki, write_platform_pki

    directory = tmp_path_factory.mktemp("pki")
    files = {
        "PKI_AUTHORITY_FILE": str(directory / "authority.p12"),
        "PKI_TIMESTAMPING_FILE": str(directory / "timestamping.p12"),
        "PKI_SEAL_FILE": str(directory / "seal.p12"),
    }
    with override_settings(**files):
        write_platform_pki(generate_platform_pki())
    return files


@pytest.fixture(autouse=True)
def _isolated_files_and_keys(settings, tmp_path, _platform_keys):
    """Every test stores case files (and audit anchors) in its own directory and signs
    with the run's test keys, never with a developer's var/."""
    from documents.pki import load_platform_pki

    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    for name, value in _platform_keys.items():
        setattr(settings, name, value)
    settings.AUDIT_ANCHOR_DIR = str(tmp_path / "audit-anchors")
    load_platform_pki.cache_clear()
    yield
    load_platform_pki.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _no_permission_rows_after_flush(django_db_setup):
    """Transactional tests empty every table after each test, and Django then
    recreates the permission rows of every model: a second or two on PostgreSQL per
    test. The platform uses no model permissions (its rules live in
    mediation.policy), so the tests skip that step."""
    from django.contrib.auth.management import create_permissions
    from django.db.models.signals import post_migrate

    post_migrate.disconnect(create_permissions, dispatch_uid="django.contrib.auth.management.create_permissions")
    yield


@pytest.fixture(scope="session", autouse=True)
def _flushes_may_empty_the_audit_trail():
    """Transactional tests empty every table with TRUNCATE after each test, and
    PostgreSQL refuses TRUNCATE of the audit trail (migration 0009) unless the
    transaction has set mediation.audit.TRUNCATE_SETTING: the tests' flushes set it."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    from mediation.audit import TRUNCATE_SETTING

    refusing = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return refusing(self, [f"SET LOCAL {TRUNCATE_SETTING} = 'on'", *sql_list])

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = refusing


@pytest.fixture(scope="session", autouse=True)
def _no_connections_left_at_teardown(django_db_setup, django_db_blocker):
    """A socket's last database call can still be running in asgiref's worker thread
    when an async test's event loop ends, and that thread's connection then stays open,
    keeping PostgreSQL from dropping the test database at the end of the run."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connection.close()


@pytest.fixture(autouse=True)
def _fresh_rooms_runtime():
    """Each test starts with the rooms' process-wide state of a fresh process (the
    message limit, for one, would count across tests otherwise)."""
    from rooms.runtime import runtime

    runtime.reset()
