"""bench.analytics --quick runs end to end (seed, catch-up, a real server, the client) and reports sane figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_analytics_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "analytics.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.analytics", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    [r] = report["runs"]
    # 10 students x 2 assignments, 3 writing days of 10 batches each
    assert (r["students"], r["events"]["documents"], r["events"]["batches"]) == (10, 20, 600)
    assert (r["catch_up"]["documents"], r["catch_up"]["batches"]) == (20, 600)
    endpoints = r["endpoints"]
    assert endpoints["all"]["n"] > 0 and endpoints["all"]["errors"] == 0
    for name in ("course", "assignment", "student", "document", "daily"):
        assert endpoints[name]["n"] > 0 and endpoints[name]["p95_ms"] >= endpoints[name]["p50_ms"] > 0, name
    assert report["medians"]["sqlite"]["catch_up_s"] == r["catch_up"]["seconds"]
    for name, seq in endpoints["sequential"].items():  # one request at a time, with the server's CPU per request
        assert seq["n"] == 3 and seq["p50_ms"] > 0 and seq["server_cpu_ms"] is not None, name
    assert endpoints["all"]["server_cpu_ms_per_request"] > 0
