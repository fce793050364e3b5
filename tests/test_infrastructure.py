"""The services the platform runs on: in CI the suite must run against PostgreSQL and
Redis, never silently against the embedded defaults."""

import json
import os
import subprocess
import sys

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
from rooms.hub import _async_client
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
