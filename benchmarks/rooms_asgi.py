"""The platform's ASGI application as `benchmarks/rooms.py` serves it.

It is `config.asgi.application` unchanged, except that the per-user message limit
(20 messages in 10 seconds, an abuse guard) is lifted: the benchmark measures what the
server can carry, and at more than 2 messages/s per client the limit, not the server,
would refuse the surplus.
"""

from config.asgi import application
from rooms.runtime import runtime

runtime.message_limiter.limit = 1_000_000_000

__all__ = ["application"]
