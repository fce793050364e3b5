"""The rooms' process-wide state is one object, and one reset makes it fresh."""

from functools import partial

from rooms.hub import get_hub
from rooms.runtime import runtime
from rooms.writer import get_writer


class Protocol:
    """A daphne protocol lacking what the fast path needs."""

    transport = object()
    STATE_OPEN = 3

    def reply(self, message):
        pass


async def test_reset_forgets_the_hub_the_writer_the_limits_and_the_fast_path_verdict():
    hub, writer, limiter = get_hub(), get_writer(), runtime.message_limiter
    assert (runtime.hub, runtime.writer) == (hub, writer)
    for _ in range(limiter.limit):
        assert limiter.allow(7)
    assert not limiter.allow(7)
    runtime.announced[1] = 1.0
    protocol = Protocol()
    assert runtime.fast_path.engage(partial(protocol.reply, protocol)) is None
    assert not runtime.fast_path.enabled

    runtime.reset()

    assert get_hub() is not hub and get_writer() is not writer
    assert runtime.message_limiter.allow(7)
    assert runtime.announced == {}
    assert runtime.fast_path.enabled and not runtime.fast_path.checked
    # The old writer's thread (and its database connection) is gone.
    assert writer._thread._shutdown
