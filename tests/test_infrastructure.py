"""The services the platform runs on: in CI the suite must run against PostgreSQL and
Redis, never silently against the embedded defaults."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.conftest import IN_CI


@pytest.mark.skipif(not IN_CI, reason="only CI insists on the real services")
@pytest.mark.django_db
def test_ci_runs_against_postgresql_and_redis():
    assert connection.vendor == "postgresql", "CI must run with DATABASE_URL pointing at PostgreSQL"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_redis_channel_layer_delivers_to_a_group(redis_url):
    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(hosts=[redis_url])

    async def round_trip():
        channel = await layer.new_channel()
        await layer.group_add("infra.check", channel)
        await layer.group_send("infra.check", {"type": "ping", "n": 1})
        message = await layer.receive(channel)
        await layer.group_discard("infra.check", channel)
        await layer.flush()
        return message

    assert async_to_sync(round_trip)() == {"type": "ping", "n": 1}


def test_configured_channel_layer_and_cache_work():
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "ping"})
        return await layer.receive(channel)

    assert async_to_sync(round_trip)() == {"type": "ping"}
    cache.set("infra-check", "ok", 5)
    assert cache.get("infra-check") == "ok"


SENTINEL_PROBE = """
import json, django
django.setup()
from django.conf import settings
from rooms.broker import _async_client
host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
pool = _async_client(settings.REDIS_URL).connection_pool
sentinel = pool.sentinel_manager.sentinels[0].connection_pool.connection_kwargs
print(json.dumps({
    "layer": {key: host[key] for key in ("sentinels", "master_name", "sentinel_kwargs", "username", "password", "db")},
    "hub": {key: pool.connection_kwargs.get(key) for key in ("username", "password", "db")},
    "hub_master": pool.service_name,
    "sentinel_password": sentinel.get("password"),
}))
"""


def test_through_sentinel_the_master_keeps_the_credentials_and_database_of_redis_url():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "REDIS_URL": "redis://court:master-secret@redis.internal:6379/3",
        "REDIS_SENTINELS": "sentinel-a:26379,sentinel-b:26379",
        "REDIS_SENTINEL_MASTER": "mediation",
        "REDIS_SENTINEL_PASSWORD": "sentinel-secret",
    }
    probe = subprocess.run(
        [sys.executable, "-c", SENTINEL_PROBE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["layer"] == {
        "sentinels": [["sentinel-a", 26379], ["sentinel-b", 26379]],
        "master_name": "mediation",
        "sentinel_kwargs": {"password": "sentinel-secret"},
        "username": "court",
        "password": "master-secret",
        "db": 3,
    }
    assert seen["hub"] == {"username": "court", "password": "master-secret", "db": 3}
    assert seen["hub_master"] == "mediation"
    assert seen["sentinel_password"] == "sentinel-secret"


def test_a_bucket_switches_case_files_to_private_s3_compatible_storage():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DOCUMENT_STORAGE_BUCKET": "court-case-files",
        "DOCUMENT_STORAGE_ENDPOINT": "https://minio.court.internal",
    }
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.STORAGES['documents']))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    storage = json.loads(probe.stdout.strip().splitlines()[-1])
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "court-case-files"
    assert storage["OPTIONS"]["endpoint_url"] == "https://minio.court.internal"
    # Private and never overwritten: files are served through the platform's views.
    assert storage["OPTIONS"]["default_acl"] is None
    assert storage["OPTIONS"]["file_overwrite"] is False


def _pins(path):
    """The `name==version` lines of a requirements or lock file, names normalised."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


@pytest.mark.parametrize(
    ("asked", "lock"),
    [
        ("requirements.txt", "requirements.lock"),
        ("requirements-test.txt", "requirements-test.lock"),
        ("requirements-scale.txt", "requirements-scale.lock"),
    ],
)
def test_every_pin_asked_for_is_the_one_locked_with_hashes(asked, lock):
    """`make` installs the lock files only: a pin changed in requirements*.txt without
    `make lock` would never be installed."""
    root = Path(settings.BASE_DIR)
    locked = _pins(root / lock)
    for name, version in _pins(root / asked).items():
        assert locked.get(name) == version, f"{name}=={version} in {asked}, {locked.get(name)} in {lock}: run make lock"
    # Every locked package carries the hashes pip checks with --require-hashes.
    entries = re.findall(r"^(\S+==\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", (root / lock).read_text(), re.M)
    assert len(entries) == len(locked)
    assert all("--hash=sha256:" in hashes for _, hashes in entries)


def test_the_runtime_lock_is_a_subset_of_the_test_lock():
    """What `make run` installs is exactly what CI tested."""
    root = Path(settings.BASE_DIR)
    runtime, test = _pins(root / "requirements.lock"), _pins(root / "requirements-test.lock")
    assert {name: test.get(name) for name in runtime} == runtime


def test_mediation_imports_neither_rooms_nor_documents_nor_configs_code():
    """Dependencies point one way (ARCHITECTURE.md section 3): `mediation` is the
    domain every other part builds on, and config/ holds configuration, not code it
    would need (the cluster supervisor and daphne's patches live in rooms.server)."""
    importing = re.compile(r"^\s*(?:from|import)\s+(rooms|documents|config)\b", re.MULTILINE)
    found = [
        f"{path}: {match.group(0).strip()}"
        for path in sorted(Path(settings.BASE_DIR, "mediation").rglob("*.py"))
        for match in importing.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_run_cluster_is_the_rooms_command():
    from django.core.management import get_commands

    assert get_commands()["run_cluster"] == "rooms"
