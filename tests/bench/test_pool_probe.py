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
    "read_connections_opened",
    "write_connections_opened",
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


def test_the_probe_server_runs_the_app_as_serve_does(tmp_path: Path) -> None:
    """The probe once started uvicorn without ``serve``'s garbage-collector and malloc settings: its start-up heap
    was never frozen, so probed runs collected the whole heap every few seconds (28 full collections, 5.6 s of
    pauses in 30 s of PostgreSQL c) and measured that. A real probe server must report a frozen heap."""
    import subprocess
    import sys

    import httpx
    from bench.run import Server, base_env

    env = base_env(tmp_path / "data", f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}", {})
    subprocess.run([sys.executable, "-m", "scribetree.cli", "init"], env=env, check=True, capture_output=True)
    out = tmp_path / "probe.jsonl"
    server = Server(
        "probe",
        [sys.executable, "-m", "bench.pool_probe", "--port", "{port}", "--out", str(out)],
        env,
        "/healthz",
        tmp_path / "server.log",
    )
    server.start()
    try:
        metrics = httpx.get(server.url + "/metrics", timeout=10).text
    finally:
        server.stop()
    frozen = next(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("scribetree_gc_frozen"))
    assert frozen > 10_000, (frozen, (tmp_path / "server.log").read_text()[-2000:])
    assert out.read_text().count("\n") >= 1  # and it sampled
