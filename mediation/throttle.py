"""A fixed-window count of requests per client address, in the shared cache (Redis
when REDIS_URL is set, so every process counts together).

The address comes from the caller (`mediation.client_address.client_ip`, which knows
whether a trusted proxy sits in front). IPv6 clients are counted per /64, the block one
subscriber usually holds, so that walking through addresses does not reset the count.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def client_key(address: str | None) -> str:
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def allow(*, scope: str, address: str | None, limit: int, window: int) -> tuple[bool, int]:
    """Count one request; (allowed, seconds until the window ends). When the cache is
    unreachable the request is allowed and the failure logged: the other bounds (size,
    fields, time) still hold."""
    now = time.time()
    slot = int(now // window)
    retry_after = max(1, int((slot + 1) * window - now))
    key = f"throttle:{scope}:{client_key(address)}:{slot}"
    try:
        if cache.add(key, 1, timeout=window + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=window + 1)
                count = 1
    except Exception:
        logger.error("Throttle %s unavailable; request allowed", scope, exc_info=True)
        return True, retry_after
    return count <= limit, retry_after
