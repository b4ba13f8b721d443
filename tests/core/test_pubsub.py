"""core.pubsub: in-process and real Redis, delivery after commit only, bounded queues, reconnects."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest

from scribetree.core import db, pubsub
from scribetree.core.config import settings

REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def need_redis() -> None:
    """Skip loudly without Redis; in CI (SCRIBETREE_REQUIRE_POSTGRES=1) a missing Redis fails instead."""
    if redis_up():
        return
    if os.environ.get("SCRIBETREE_REQUIRE_POSTGRES") == "1":
        pytest.fail("Redis is not running on 127.0.0.1:6379 and CI requires it")
    pytest.skip("REDIS NOT RUNNING on 127.0.0.1:6379: the Redis pub/sub tests did not run")


async def drop_connections(admin: pubsub.RedisBroker, name: str) -> int:
    """Redis drops the connections named ``name`` (as a restart or failover would), and only those: other
    tests and helpers share this Redis."""
    listing = await admin._client.execute_command("CLIENT", "LIST")
    text = listing.decode() if isinstance(listing, bytes) else str(listing)
    ids = [
        f["id"]
        for f in (dict(kv.split("=", 1) for kv in line.split() if "=" in kv) for line in text.splitlines())
        if f.get("name") == name
    ]
    for client_id in ids:
        await admin._client.execute_command("CLIENT", "KILL", "ID", client_id)
    return len(ids)


async def next_message(sub, timeout: float = 3.0) -> dict:
    return await asyncio.wait_for(anext(sub), timeout)


async def nothing_within(sub, timeout: float = 0.2) -> bool:
    try:
        await asyncio.wait_for(anext(sub), timeout)
    except TimeoutError:
        return True
    return False


def test_channel_names():
    t, a, c, u = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert pubsub.activity_channel(t, a) == f"t:{t}:assignment:{a}:activity"
    assert pubsub.alerts_channel(t, c) == f"t:{t}:course:{c}:alerts"
    assert pubsub.user_channel(t, u) == f"t:{t}:user:{u}"


class TestInProcess:
    async def test_subscriber_receives_its_channels_only(self):
        broker = pubsub.InProcessBroker()
        async with broker.subscribe("a", "b") as sub, broker.subscribe("c") as other:
            await broker.publish("a", {"n": 1})
            await broker.publish("c", {"n": 2})
            await broker.publish("b", {"n": 3, "at": uuid.UUID(int=5)})
            assert await next_message(sub) == {"n": 1, "channel": "a"}
            assert await next_message(sub) == {"n": 3, "at": str(uuid.UUID(int=5)), "channel": "b"}
            assert await next_message(other) == {"n": 2, "channel": "c"}
            assert await nothing_within(sub)
        assert broker._fanout.subscribers == {}  # leaving the block unsubscribes

    async def test_each_subscriber_gets_its_own_copy(self):
        broker = pubsub.InProcessBroker()
        async with broker.subscribe("a") as one, broker.subscribe("a") as two:
            await broker.publish("a", {"n": 1})
            first = await next_message(one)
            first["n"] = 99
            assert await next_message(two) == {"n": 1, "channel": "a"}

    async def test_slow_consumer_loses_the_oldest_and_it_is_counted(self):
        broker = pubsub.InProcessBroker(queue_size=3)
        before = pubsub.stats.dropped
        async with broker.subscribe("a") as sub:
            for n in range(5):
                await broker.publish("a", {"n": n})
            assert [(await next_message(sub))["n"] for _ in range(3)] == [2, 3, 4]
            assert sub.dropped == 2
        assert pubsub.stats.dropped - before == 2

    async def test_module_functions_use_the_embedded_broker(self, monkeypatch):
        monkeypatch.setattr(settings, "REDIS_URL", "")
        await pubsub.reset()
        assert isinstance(pubsub.get_broker(), pubsub.InProcessBroker)
        async with pubsub.subscribe("x") as sub:
            await pubsub.publish("x", {"type": "ping"})
            assert await next_message(sub) == {"type": "ping", "channel": "x"}

    async def test_publish_never_raises_and_counts_the_failure(self, monkeypatch):
        monkeypatch.setattr(settings, "REDIS_URL", "")
        await pubsub.reset()
        before = pubsub.stats.publish_failures
        await pubsub.publish("x", {"bad": float("nan"), "ok": object()})  # default=str copes
        await pubsub.publish("x", {1: {1, 2}})  # a set is stringified; still no exception
        circular: dict = {}
        circular["self"] = circular
        await pubsub.publish("x", circular)  # ValueError inside json: logged and counted
        assert pubsub.stats.publish_failures == before + 1


class TestAfterCommit:
    async def test_published_after_commit_and_not_on_rollback(self, engines, monkeypatch):
        monkeypatch.setattr(settings, "REDIS_URL", "")
        await pubsub.reset()
        async with pubsub.subscribe("uow") as sub:
            with pytest.raises(RuntimeError):
                async with db.unit_of_work() as session:
                    db.after_commit(session, lambda: pubsub.publish("uow", {"n": "rolled back"}))
                    raise RuntimeError("the change fails")
            async with db.unit_of_work() as session:
                db.after_commit(session, lambda: pubsub.publish("uow", {"n": "committed"}))
                assert await nothing_within(sub, 0.05)  # not before the commit
            assert await next_message(sub) == {"n": "committed", "channel": "uow"}
            assert await nothing_within(sub)


class TestRedis:
    @pytest.fixture(autouse=True)
    def _redis(self):
        need_redis()

    async def test_two_processes_publisher_and_subscriber(self):
        """Two broker objects stand in for two server processes sharing one Redis."""
        node_a, node_b = pubsub.RedisBroker(REDIS_URL), pubsub.RedisBroker(REDIS_URL)
        channel = f"test:{uuid.uuid4()}"
        try:
            async with node_b.subscribe(channel) as sub, node_b.subscribe(channel, "other") as sub2:
                await node_a.publish(channel, {"type": "activity", "revision": 7})
                assert await next_message(sub) == {"type": "activity", "revision": 7, "channel": channel}
                assert await next_message(sub2) == {"type": "activity", "revision": 7, "channel": channel}
                await node_a.publish("unrelated", {"n": 1})
                assert await nothing_within(sub)
            # both local subscribers left: the shared connection unsubscribed from Redis
            await asyncio.sleep(0.05)
            assert node_b._fanout.subscribers == {}
        finally:
            await node_a.close()
            await node_b.close()

    async def test_one_shared_connection_per_process(self):
        node = pubsub.RedisBroker(REDIS_URL)
        try:
            async with node.subscribe("c1") as s1, node.subscribe("c2") as s2:
                assert node._pubsub is not None and set(node._pubsub.channels) == {b"c1", b"c2"}
                await node.publish("c2", {"n": 2})
                assert (await next_message(s2))["n"] == 2
                assert await nothing_within(s1)
        finally:
            await node.close()

    async def test_reconnects_after_redis_drops_the_connection(self):
        name = f"test-{uuid.uuid4().hex[:12]}"
        node_a, node_b = pubsub.RedisBroker(REDIS_URL), pubsub.RedisBroker(REDIS_URL, client_name=name)
        channel = f"test:{uuid.uuid4()}"
        before = pubsub.stats.reconnects
        try:
            async with node_b.subscribe(channel) as sub:
                await node_a.publish(channel, {"n": 1})
                assert (await next_message(sub))["n"] == 1
                assert await drop_connections(node_a, name) >= 1
                for _ in range(100):  # the reader notices, backs off and subscribes again
                    await asyncio.sleep(0.05)
                    if pubsub.stats.reconnects > before and node_b._pubsub is not None:
                        numsub = await node_a._client.pubsub_numsub(channel)
                        if numsub[0][1] >= 1:
                            break
                assert pubsub.stats.reconnects > before
                await node_a.publish(channel, {"n": 2})
                # what was published while it was away is lost: the subscriber is told to re-read its state
                assert await next_message(sub) == {"type": "resync", "channel": channel}
                assert (await next_message(sub))["n"] == 2
                assert await nothing_within(sub)
        finally:
            await node_a.close()
            await node_b.close()

    async def test_a_channel_subscribed_while_reconnecting_keeps_the_others(self):
        name = f"test-{uuid.uuid4().hex[:12]}"
        node_a, node_b = pubsub.RedisBroker(REDIS_URL), pubsub.RedisBroker(REDIS_URL, client_name=name)
        first, second = f"test:{uuid.uuid4()}", f"test:{uuid.uuid4()}"
        try:
            async with node_b.subscribe(first) as sub1:
                assert await drop_connections(node_a, name) >= 1
                for _ in range(200):  # the reader has noticed and dropped the connection: it is backing off
                    if node_b._pubsub is None:
                        break
                    await asyncio.sleep(0.005)
                assert node_b._pubsub is None
                async with node_b.subscribe(second) as sub2:  # opens the new connection itself
                    await node_a.publish(first, {"n": 1})
                    await node_a.publish(second, {"n": 2})
                    got1 = [await next_message(sub1), await next_message(sub1)]
                    assert {"type": "resync", "channel": first} in got1 and {"n": 1, "channel": first} in got1
                    got2 = [m for m in [await next_message(sub2)] if m.get("type") != "resync"]
                    if not got2:  # a resync may reach the new subscriber too (it joined during the gap)
                        got2 = [await next_message(sub2)]
                    assert got2[0]["n"] == 2
        finally:
            await node_a.close()
            await node_b.close()

    async def test_publish_to_unreachable_redis_never_raises_and_pauses(self, monkeypatch):
        monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
        await pubsub.reset()
        before = pubsub.stats.publish_failures
        try:
            await pubsub.publish("x", {"n": 1})
            broker = pubsub.get_broker()
            assert isinstance(broker, pubsub.RedisBroker) and broker._publish_paused_until > 0
            started = asyncio.get_running_loop().time()
            await pubsub.publish("x", {"n": 2})  # paused: fails at once instead of reconnecting
            assert asyncio.get_running_loop().time() - started < 0.05
            assert pubsub.stats.publish_failures == before + 2
        finally:
            await pubsub.reset()

    async def test_module_functions_over_redis(self, monkeypatch):
        monkeypatch.setattr(settings, "REDIS_URL", REDIS_URL)
        await pubsub.reset()
        other = pubsub.RedisBroker(REDIS_URL)
        channel = f"test:{uuid.uuid4()}"
        try:
            async with pubsub.subscribe(channel) as sub:
                await other.publish(channel, {"n": 1})
                assert await next_message(sub) == {"n": 1, "channel": channel}
        finally:
            await other.close()
            await pubsub.reset()


class TestMetrics:
    async def test_counters_and_subscribers_are_exported(self, monkeypatch):
        from scribetree.ops import metrics

        monkeypatch.setattr(settings, "REDIS_URL", "")
        await pubsub.reset()
        async with pubsub.subscribe("m1", "m2"), pubsub.subscribe("m2"):
            await pubsub.publish("m2", {"n": 1})
            body = metrics.render()[0].decode()
            assert "scribetree_pubsub_subscribers 2.0" in body
        assert f'scribetree_pubsub_events{{event="published"}} {float(pubsub.stats.published)}' in body
        assert 'scribetree_pubsub_events{event="dropped"}' in body
        assert "scribetree_pubsub_subscribers 0.0" in metrics.render()[0].decode()
