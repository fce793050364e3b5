"""The services the platform runs on: in CI the suite must run against PostgreSQL and
Redis, never silently against the embedded defaults."""

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
