"""Rate limits with the maintained ``limits`` library: in memory when embedded, Redis in production.

Fixed windows keyed by what is being protected (client address, account). A limit that is hit raises
``TooManyRequests`` with the seconds until the window resets (sent as ``Retry-After``).
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from scribetree.core.config import settings
from scribetree.core.errors import TooManyRequests

_limiter: FixedWindowRateLimiter | None = None


def _get() -> FixedWindowRateLimiter:
    global _limiter
    if _limiter is None:
        uri = "async+" + settings.REDIS_URL if settings.REDIS_URL else "async+memory://"
        _limiter = FixedWindowRateLimiter(storage_from_string(uri))
    return _limiter


async def hit(limit: str, namespace: str, key: str, message: str) -> None:
    if not settings.RATE_LIMIT_ENABLED:
        return
    item = parse(limit)
    limiter = _get()
    if not await limiter.hit(item, namespace, key):
        reset_at, _ = await limiter.get_window_stats(item, namespace, key)
        wait = max(1, math.ceil(reset_at - time.time()))
        raise TooManyRequests(f"{message} Try again in {wait} seconds.", retry_after=wait)


async def reset() -> None:
    """Forget every counter (tests)."""
    await _get().storage.reset()
