"""Live pushes (core.pubsub): how long a message takes from publish() to a subscriber, in-process and through
Redis between two brokers (standing in for two server processes), and the fan-out to many sockets of one node.

    .venv/bin/python -m bench.pubsub [--messages 2000] [--fanout 200] [--redis redis://127.0.0.1:6379/12]

Prints one JSON object: per case the median, p95 and p99 in milliseconds, and messages/s for the burst.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from scribetree.core import pubsub


def _summary(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {
        "n": len(s),
        "p50_ms": round(statistics.median(s) * 1000, 3),
        "p95_ms": round(pick(0.95) * 1000, 3),
        "p99_ms": round(pick(0.99) * 1000, 3),
    }


async def one_by_one(publisher: Any, subscriber: Any, n: int) -> dict[str, Any]:
    """Publish, wait for it to arrive, repeat: the latency of one push with nothing else queued."""
    channel = f"bench:{time.monotonic_ns()}"
    lat, pub = [], []
    async with subscriber.subscribe(channel) as sub:
        for i in range(n):
            t0 = time.perf_counter()
            await publisher.publish(channel, {"type": "activity", "i": i, "word_count": 300 + i})
            t1 = time.perf_counter()
            await asyncio.wait_for(anext(sub), 5)
            lat.append(time.perf_counter() - t0)
            pub.append(t1 - t0)
    return {"deliver": _summary(lat), "publish_call": _summary(pub)}


async def burst(publisher: Any, subscriber: Any, n: int) -> dict[str, Any]:
    """Publish n messages back to back while a consumer reads: messages/s until the consumer has them all
    (or they were dropped because it fell more than the queue size behind, which is counted)."""
    channel = f"bench:{time.monotonic_ns()}"
    async with subscriber.subscribe(channel) as sub:
        received = 0

        async def consume() -> None:
            nonlocal received
            while received + sub.dropped < n:
                await asyncio.wait_for(anext(sub), 10)
                received += 1

        consumer = asyncio.create_task(consume())
        t0 = time.perf_counter()
        for i in range(n):
            await publisher.publish(channel, {"type": "activity", "i": i})
        await consumer
        took = time.perf_counter() - t0
    return {
        "messages": n,
        "received": received,
        "dropped": sub.dropped,
        "seconds": round(took, 3),
        "per_second": round(n / took),
    }


async def fanout(publisher: Any, subscriber: Any, sockets: int, rounds: int) -> dict[str, Any]:
    """``sockets`` subscribers of one channel on one node (one shared Redis connection): publish to the last
    one's receipt."""
    channel = f"bench:{time.monotonic_ns()}"
    subs_cm = [subscriber.subscribe(channel) for _ in range(sockets)]
    subs = [await cm.__aenter__() for cm in subs_cm]
    try:
        lat = []
        for i in range(rounds):
            t0 = time.perf_counter()
            await publisher.publish(channel, {"type": "alert", "i": i})
            await asyncio.gather(*(asyncio.wait_for(anext(s), 5) for s in subs))
            lat.append(time.perf_counter() - t0)
    finally:
        for cm in subs_cm:
            await cm.__aexit__(None, None, None)
    return {"sockets": sockets, "to_last": _summary(lat)}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--fanout", type=int, default=200)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    local = pubsub.InProcessBroker()
    out["in_process"] = await one_by_one(local, local, args.messages)
    out["in_process_burst"] = await burst(local, local, args.messages * 5)
    out["in_process_fanout"] = await fanout(local, local, args.fanout, 200)
    a, b = pubsub.RedisBroker(args.redis), pubsub.RedisBroker(args.redis)
    try:
        out["redis_a_to_b"] = await one_by_one(a, b, args.messages)
        out["redis_burst"] = await burst(a, b, args.messages * 5)
        out["redis_fanout"] = await fanout(a, b, args.fanout, 200)
    finally:
        await a.close()
        await b.close()
    out["dropped"] = pubsub.stats.dropped
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
