"""The rooms' tunables: one module, defaults a deployment overrides with `ROOMS`."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from rooms import conf
from rooms.protocol import ProtocolError, parse_client_frame
from rooms.ratelimit import SlidingWindowLimiter


def message(body: str) -> str:
    return f'{{"type":"message.send","client_id":"{uuid.uuid4()}","body":"{body}"}}'


def test_a_deployment_overrides_a_tunable_and_the_rooms_follow():
    assert conf.DEFAULTS["MAX_BODY_CHARS"] == conf.MAX_BODY_CHARS
    parse_client_frame(message("x" * 11))

    with override_settings(ROOMS={"MAX_BODY_CHARS": 10, "RATE_LIMIT_MESSAGES": 2}):
        with pytest.raises(ProtocolError) as refused:
            parse_client_frame(message("x" * 11))
        assert refused.value.code == "body_too_long"
        assert SlidingWindowLimiter().limit == 2

    assert conf.DEFAULTS["MAX_BODY_CHARS"] == conf.MAX_BODY_CHARS
    parse_client_frame(message("x" * 11))


def test_an_unknown_name_in_rooms_is_refused_rather_than_ignored():
    with pytest.raises(ImproperlyConfigured, match="MAX_BACTH"), override_settings(ROOMS={"MAX_BACTH": 100}):
        pass
    conf.load()
    assert conf.DEFAULTS["MAX_BATCH"] == conf.MAX_BATCH


def test_every_tunable_is_in_the_documented_table():
    table = (Path(settings.BASE_DIR) / "docs" / "rooms-internals.md").read_text(encoding="utf-8")
    assert [name for name in conf.DEFAULTS if f"`{name}`" not in table] == []
