"""Real-time fan-out for WebSocket pushes (ARCHITECTURE §5): in-process when embedded, Redis in production.

``publish(channel, message)`` sends a JSON-serialisable dict to every subscriber of ``channel`` on every
process that shares the broker; it never raises into the caller (a failure is logged and counted in
``stats``), because a live view is a convenience and the change that caused the message has already
committed. Code inside a unit of work publishes after commit, so a rolled-back change announces nothing::

    after_commit(session, lambda: pubsub.publish(activity_channel(tenant_id, assignment_id), {...}))

``subscribe(*channels)`` is an async context manager yielding an async iterator of messages (each dict gets
``"channel"`` added). Each subscriber has a bounded queue: a consumer that falls behind loses its OLDEST
messages (counted in ``stats.dropped``), so memory never grows without bound.

Redis backend: one client (small connection pool) per process for publishing and ONE shared pub/sub
connection per process whose reader task fans messages out to local subscribers. When Redis drops, the
reader reconnects with exponential backoff and subscribes again to every channel still wanted; messages
published while it was away are lost, so every local subscriber then gets ``{"type": "resync"}`` (a live
page re-reads its state). Publishing skips Redis for a short, growing pause after a failure so a Redis
outage does not slow every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from scribetree.core.config import settings

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000  # messages kept per subscriber before the oldest are dropped
_BACKOFF_MIN = 0.1
_BACKOFF_MAX = 5.0


def activity_channel(tenant_id: UUID | str, assignment_id: UUID | str) -> str:
    """Writing activity of one assignment (batches, submissions)."""
    return f"t:{tenant_id}:assignment:{assignment_id}:activity"


def alerts_channel(tenant_id: UUID | str, course_id: UUID | str) -> str:
    """New alerts of one course, for its staff."""
    return f"t:{tenant_id}:course:{course_id}:alerts"


def user_channel(tenant_id: UUID | str, user_id: UUID | str) -> str:
    """Notifications for one user."""
    return f"t:{tenant_id}:user:{user_id}"


@dataclass
class PubSubStats:
    """Process-wide counters (exported by ops metrics; asserted by tests)."""

    published: int = 0
    publish_failures: int = 0
    delivered: int = 0
    dropped: int = 0
    reconnects: int = 0


stats = PubSubStats()


class Subscription:
    """A bounded queue of messages for one subscriber; iterate it with ``async for``."""

    def __init__(self, channels: tuple[str, ...], maxsize: int = QUEUE_SIZE) -> None:
        self.channels = channels
        self._items: deque[dict[str, Any]] = deque()
        self._maxsize = maxsize
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, message: dict[str, Any]) -> None:
        if len(self._items) >= self._maxsize:
            self._items.popleft()  # drop the oldest: a slow consumer must not grow memory
            self.dropped += 1
            stats.dropped += 1
        self._items.append(message)
        stats.delivered += 1
        self._ready.set()

    async def get(self) -> dict[str, Any]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self.get()


class Broker(Protocol):
    """What ``publish``/``subscribe`` need from a transport."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, *channels: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


def _encode(channel: str, message: dict[str, Any]) -> str:
    return json.dumps(message, default=str, separators=(",", ":"))


def _decode(channel: str, data: str | bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(data)
    except ValueError:
        log.warning("pubsub: dropped a message that is not JSON", extra={"channel": channel})
        return None
    if not isinstance(message, dict):
        return None
    message["channel"] = channel
    return message


class _LocalFanout:
    """Channel → local subscriptions (both brokers deliver through this)."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = {}

    def add(self, sub: Subscription) -> list[str]:
        """Register ``sub``; returns the channels that had no local subscriber before."""
        new = []
        for channel in sub.channels:
            subs = self.subscribers.setdefault(channel, set())
            if not subs:
                new.append(channel)
            subs.add(sub)
        return new

    def remove(self, sub: Subscription) -> list[str]:
        """Unregister ``sub``; returns the channels nobody here listens to any more."""
        gone = []
        for channel in sub.channels:
            subs = self.subscribers.get(channel)
            if subs is None:
                continue
            subs.discard(sub)
            if not subs:
                del self.subscribers[channel]
                gone.append(channel)
        return gone

    def notify_all(self, message: dict[str, Any]) -> None:
        """Give every local subscription ``message`` once (e.g. ``resync`` after a reconnect)."""
        seen: set[int] = set()
        for channel, subs in list(self.subscribers.items()):
            for sub in list(subs):
                if id(sub) not in seen:
                    seen.add(id(sub))
                    sub.put({**message, "channel": channel})

    def deliver(self, channel: str, data: str | bytes) -> None:
        subs = self.subscribers.get(channel)
        if not subs:
            return
        for sub in list(subs):
            message = _decode(channel, data)  # one copy each: a consumer may change its dict
            if message is not None:
                sub.put(message)


class InProcessBroker:
    """Embedded mode: one process, no network. Messages are JSON round-tripped like Redis would."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._fanout = _LocalFanout()
        self._queue_size = queue_size

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._fanout.deliver(channel, _encode(channel, message))

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        sub = Subscription(tuple(dict.fromkeys(channels)), self._queue_size)
        self._fanout.add(sub)
        try:
            yield sub
        finally:
            self._fanout.remove(sub)

    async def close(self) -> None:
        self._fanout.subscribers.clear()


class RedisBroker:
    """Production: Redis PUBLISH, one shared SUBSCRIBE connection per process fanned out locally."""

    def __init__(
        self, url: str, queue_size: int = QUEUE_SIZE, timeout: float = 2.0, client_name: str = "scribetree-pubsub"
    ) -> None:
        import redis.asyncio as redis

        self._redis_mod = redis
        self.url = url
        self._queue_size = queue_size
        self._timeout = timeout
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            max_connections=4,
            single_connection_client=False,
            client_name=client_name,  # CLIENT LIST shows whose connections these are
        )
        self._fanout = _LocalFanout()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._publish_paused_until = 0.0
        self._publish_backoff = 0.0
        self._closed = False

    # publishing -------------------------------------------------------------------------------------
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        now = time.monotonic()
        if now < self._publish_paused_until:
            raise ConnectionError("Redis publishing is paused after a recent failure")
        try:
            await self._client.publish(channel, _encode(channel, message))
        except (OSError, self._redis_mod.RedisError):
            self._publish_backoff = min(_BACKOFF_MAX, max(_BACKOFF_MIN, self._publish_backoff * 2))
            self._publish_paused_until = time.monotonic() + self._publish_backoff
            raise
        self._publish_backoff = 0.0

    # subscribing ------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        sub = Subscription(tuple(dict.fromkeys(channels)), self._queue_size)
        new = self._fanout.add(sub)
        try:
            if new:
                await self._redis_subscribe(new)
            yield sub
        finally:
            gone = self._fanout.remove(sub)
            if gone and not self._closed:
                await self._redis_unsubscribe(gone)

    async def _redis_subscribe(self, channels: list[str]) -> None:
        """SUBSCRIBE and wait for Redis to confirm, so a message published right after is not missed."""
        loop = asyncio.get_running_loop()
        waits = []
        for channel in channels:
            fut = self._confirmed.get(channel)
            if fut is None or fut.done():
                fut = self._confirmed[channel] = loop.create_future()
            waits.append(fut)
        try:
            async with self._lock:
                if not await self._connect_locked():  # a new connection subscribes to every wanted channel
                    await self._pubsub.subscribe(*channels)
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read_forever(), name="pubsub-redis-reader")
            await asyncio.wait_for(asyncio.gather(*waits), self._timeout)
        except (OSError, TimeoutError, self._redis_mod.RedisError) as exc:
            # The reader keeps trying: once Redis is back it subscribes to every wanted channel.
            log.warning("pubsub: Redis subscribe not confirmed yet", extra={"error": repr(exc)})
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read_forever(), name="pubsub-redis-reader")

    async def _connect_locked(self) -> bool:
        """With ``_lock`` held: make sure there is a subscriber connection; a new one subscribes to every channel
        a local subscriber wants (after a reconnect too). Returns whether it was new."""
        if self._pubsub is not None:
            return False
        pubsub = self._client.pubsub()
        wanted = list(self._fanout.subscribers)
        if wanted:
            try:
                await pubsub.subscribe(*wanted)
            except BaseException:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
        self._pubsub = pubsub
        return True

    async def _redis_unsubscribe(self, channels: list[str]) -> None:
        for channel in channels:
            self._confirmed.pop(channel, None)
        try:
            async with self._lock:
                if self._pubsub is not None:
                    await self._pubsub.unsubscribe(*channels)
        except (OSError, self._redis_mod.RedisError):
            pass  # the connection is gone; the reader resubscribes only to what is still wanted

    async def _read_forever(self) -> None:
        backoff = _BACKOFF_MIN
        lost = False
        while not self._closed:
            try:
                async with self._lock:
                    new = await self._connect_locked()
                    pubsub = self._pubsub
                if lost and (new or pubsub.subscribed):
                    # Messages published while the connection was down are gone: tell every subscriber, so a
                    # live page re-reads its state instead of showing a stale one.
                    lost = False
                    self._fanout.notify_all({"type": "resync"})
                if not self._fanout.subscribers and not pubsub.subscribed:
                    return  # nobody listens here; the next subscribe starts a reader again
                message = await pubsub.get_message(timeout=1.0)
                backoff = _BACKOFF_MIN
                if message is None:
                    continue
                kind = message.get("type")
                channel = message.get("channel")
                if isinstance(channel, bytes):
                    channel = channel.decode()
                if kind == "message":
                    self._fanout.deliver(channel, message["data"])
                elif kind == "subscribe":
                    fut = self._confirmed.get(channel)
                    if fut is not None and not fut.done():
                        fut.set_result(None)
            except asyncio.CancelledError:
                raise
            except (OSError, self._redis_mod.RedisError, RuntimeError) as exc:
                # RuntimeError: redis-py's "pubsub connection not set" while a reconnect is half done
                stats.reconnects += 1
                lost = True
                log.warning(
                    "pubsub: Redis subscriber connection lost; reconnecting",
                    extra={"error": repr(exc), "retry_in": backoff},
                )
                async with self._lock:
                    old, self._pubsub = self._pubsub, None
                if old is not None:
                    with contextlib.suppress(Exception):
                        await old.aclose()
                await asyncio.sleep(backoff)
                backoff = min(_BACKOFF_MAX, backoff * 2)

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._client.aclose()


# the process's broker ---------------------------------------------------------------------------------
_broker: Broker | None = None
_broker_loop: asyncio.AbstractEventLoop | None = None


def get_broker() -> Broker:
    """The broker for this process and event loop (a new loop, e.g. in tests, gets a new one)."""
    global _broker, _broker_loop
    loop = asyncio.get_running_loop()
    if _broker is None or _broker_loop is not loop:
        _broker = RedisBroker(settings.REDIS_URL) if settings.REDIS_URL else InProcessBroker()
        _broker_loop = loop
    return _broker


def subscriber_count() -> int:
    """Open subscriptions in this process (for the metrics)."""
    if _broker is None:
        return 0
    fanout = getattr(_broker, "_fanout", None)
    if fanout is None:
        return 0
    return len({id(sub) for subs in fanout.subscribers.values() for sub in subs})


async def reset() -> None:
    """Close and forget the broker (shutdown, and tests that change ``REDIS_URL``)."""
    global _broker, _broker_loop
    broker, _broker, _broker_loop = _broker, None, None
    if broker is not None:
        with contextlib.suppress(Exception):
            await broker.close()


async def publish(channel: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``channel``'s subscribers everywhere; never raises (logged and counted)."""
    try:
        await get_broker().publish(channel, message)
    except Exception as exc:  # a push is best effort; the caller's change has committed
        stats.publish_failures += 1
        log.warning("pubsub: publish failed", extra={"channel": channel, "error": repr(exc)})
        return
    stats.published += 1


@contextlib.asynccontextmanager
async def subscribe(*channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """Receive messages from ``channels`` while the block runs; each message gets ``"channel"``."""
    async with get_broker().subscribe(*channels) as sub:
        yield sub
