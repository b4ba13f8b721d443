from __future__ import annotations

import uuid

import pytest

from scribetree.core import ratelimit
from scribetree.core.config import settings
from scribetree.core.errors import TooManyRequests


def redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


class TestRateLimit:
    async def test_memory_storage_limits_and_says_when_to_retry(self):
        key = uuid.uuid4().hex
        await ratelimit.hit("2/minute", "t", key, "Slow down.")
        await ratelimit.hit("2/minute", "t", key, "Slow down.")
        with pytest.raises(TooManyRequests) as exc:
            await ratelimit.hit("2/minute", "t", key, "Slow down.")
        assert 1 <= exc.value.retry_after <= 60 and "Try again in" in exc.value.detail
        await ratelimit.hit("2/minute", "t", uuid.uuid4().hex, "other keys are separate")

    @pytest.mark.skipif(not redis_up(), reason="Redis is not running on 127.0.0.1:6379")
    async def test_redis_storage_is_shared_between_limiters(self, monkeypatch):
        """Two server processes share one Redis: a limit hit through one is seen by the other."""
        monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:6379/15")
        monkeypatch.setattr(ratelimit, "_limiter", None)
        first = ratelimit._get()
        key = uuid.uuid4().hex
        await ratelimit.hit("2/minute", "t", key, "x")
        monkeypatch.setattr(ratelimit, "_limiter", None)  # a second process's limiter, same Redis
        second = ratelimit._get()
        assert second is not first
        await ratelimit.hit("2/minute", "t", key, "x")
        with pytest.raises(TooManyRequests):
            await ratelimit.hit("2/minute", "t", key, "x")
        await second.storage.reset()
        monkeypatch.setattr(ratelimit, "_limiter", None)
