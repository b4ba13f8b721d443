"""Diagnostic server: the app under uvicorn as ``scribetree serve`` runs it (``cli.prepare_server_process``), plus a
sampler.

Every ``--every`` seconds it writes one JSON line to ``--out`` with the database pools' checked-out
connections and the requests waiting for one, the sign-in admission queue (admitted, waiting), and the
requests in flight (sign-ins apart from everything else). ``bench.run --probe`` uses it instead of
``scribetree serve`` and summarises the samples of the measured window; it answers "what are requests
waiting for?" without touching src/.

    SCRIBETREE_...=... .venv/bin/python -m bench.pool_probe --port 8000 --out probe.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any


def summarize(path: str, start: float, end: float) -> dict[str, Any]:
    """Medians and maxima of the samples taken between two perf_counter instants (any process: CLOCK_MONOTONIC)."""
    rows = []
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            if start <= r["t"] <= end:
                rows.append(r)
    out: dict[str, Any] = {"samples": len(rows)}
    if not rows:
        return out
    for key in rows[0]:
        if key == "t":
            continue
        vals = sorted(r[key] for r in rows)
        out[key] = {"median": vals[len(vals) // 2], "max": vals[-1]}
    return out


class InFlight:
    """ASGI wrapper that counts requests in flight: sign-ins apart from the rest."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.signin = 0
        self.other = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = "signin" if scope["method"] == "POST" and scope["path"].endswith("/session") else "other"
        setattr(self, kind, getattr(self, kind) + 1)
        try:
            await self.app(scope, receive, send)
        finally:
            setattr(self, kind, getattr(self, kind) - 1)


async def sample(wrapper: InFlight, out: str, every: float) -> None:
    from sqlalchemy import event

    from scribetree.core.config import settings
    from scribetree.core.db import engines
    from scribetree.tenancy import auth

    def waiting(pool: Any) -> int:  # requests queued for a connection (SQLAlchemy's asyncio-adapted queue)
        queue = getattr(getattr(pool, "_pool", None), "_queue", None)
        return len(getattr(queue, "_getters", ()))

    opened = {"read": 0, "write": 0}  # connections the pools opened so far (an overflow connection is closed
    watched: set[int] = set()  # when it comes back to a full pool, so a busy pool may open one per request)

    def count_connects(name: str, pool: Any) -> None:
        if id(pool) in watched:
            return
        watched.add(id(pool))

        def on_connect(*_: Any) -> None:
            opened[name] += 1

        event.listen(pool, "connect", on_connect)

    with open(out, "a", buffering=1) as fh:
        while True:
            eng = engines()
            count_connects("read", eng.read.pool)
            count_connects("write", eng.write.pool)
            gate = auth._admission()
            row = {
                "t": round(time.perf_counter(), 4),
                "read_pool_checked_out": eng.read.pool.checkedout(),  # type: ignore[attr-defined]
                "read_pool_waiting": waiting(eng.read.pool),
                "write_pool_checked_out": eng.write.pool.checkedout(),  # type: ignore[attr-defined]
                "write_pool_waiting": waiting(eng.write.pool),
                "signin_admitted": settings.SIGNIN_CONCURRENCY - gate._value,
                "signin_waiting": len(gate._waiters or ()),
                "inflight_signin": wrapper.signin,
                "inflight_other": wrapper.other,
                "read_connections_opened": opened["read"],  # the same pool on PostgreSQL: the same count twice
                "write_connections_opened": opened["write"],
            }
            fh.write(json.dumps(row) + "\n")
            await asyncio.sleep(every)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--every", type=float, default=0.1)
    args = p.parse_args()

    import uvicorn

    from scribetree.app import create_app
    from scribetree.cli import prepare_server_process

    options = prepare_server_process()  # serve's malloc and garbage-collector settings: without them, probed runs
    wrapper = InFlight(create_app())  # collected their whole heap every few seconds and measured that instead
    started: list[asyncio.Task[None]] = []

    class App:  # start the sampler inside uvicorn's loop, once
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if not started:
                started.append(asyncio.get_running_loop().create_task(sample(wrapper, args.out, args.every)))
            await wrapper(scope, receive, send)

    uvicorn.run(App(), host=args.host, port=args.port, **options)


if __name__ == "__main__":
    main()
