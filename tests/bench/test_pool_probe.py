"""bench/pool_probe: the sampler inside the server writes what requests wait for, and the summary reads it back.

Its sampler once died at its first sample (it asked for a password-hash limiter that had been replaced) and
``bench.run --probe`` reported an empty window; this runs it against the app as the tests build it.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
from bench.pool_probe import InFlight, sample, summarize

KEYS = {
    "t",
    "read_pool_checked_out",
    "read_pool_waiting",
    "write_pool_checked_out",
    "write_pool_waiting",
    "signin_admitted",
    "signin_waiting",
    "inflight_signin",
    "inflight_other",
}


async def test_the_sampler_writes_rows_while_requests_run(app, tmp_path: Path) -> None:
    wrapper = InFlight(app)
    out = tmp_path / "probe.jsonl"
    start = time.perf_counter()
    sampler = asyncio.create_task(sample(wrapper, str(out), 0.01))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapper), base_url="http://testserver") as c:
        for _ in range(3):
            assert (await c.get("/healthz")).status_code == 200
            await asyncio.sleep(0.02)
    assert not sampler.done(), sampler.exception()  # still sampling: it did not die
    sampler.cancel()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) >= 3 and all(set(r) == KEYS for r in rows)
    assert all(r["read_pool_waiting"] == 0 and r["signin_waiting"] == 0 for r in rows)
    window = summarize(str(out), start, time.perf_counter())
    assert window["samples"] == len(rows)
    assert window["inflight_other"]["max"] >= 0 and window["read_pool_checked_out"]["median"] >= 0
