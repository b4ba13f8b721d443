"""bench/memprobe: a process started as `serve` writes its memory timeline; any other process is left alone."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

PROBE_DIR = Path(__file__).resolve().parents[2] / "bench" / "memprobe"


def run(tmp_path: Path, *argv: str, code: str = "import time; time.sleep(0.6)", **extra: str) -> list[Path]:
    env = {**os.environ, "PYTHONPATH": str(PROBE_DIR), "BENCH_MEMPROBE_DIR": str(tmp_path), **extra}
    subprocess.run([sys.executable, "-c", code, *argv], env=env, check=True, timeout=60)
    return list(tmp_path.glob("memprobe-*.txt"))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallinfo2 is glibc's")
def test_a_serve_process_writes_its_timeline(tmp_path: Path) -> None:
    (out,) = run(tmp_path, "serve")
    first = out.read_text().splitlines()[0]
    fields = dict(part.split("=", 1) for part in first.split()[1:])
    assert int(fields["rss"]) > 5 and int(fields["inuse"]) >= 0
    assert "MainThread" in fields["threads"] and "memprobe" in fields["threads"]
    assert fields["sqlite"] in ("-", "0")  # nothing opened a database yet


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallinfo2 is glibc's")
def test_sqlites_memory_and_a_census_of_objects(tmp_path: Path) -> None:
    code = (
        "import sqlite3, time; db = sqlite3.connect(':memory:'); "
        "db.execute('CREATE TABLE t (x)'); db.executemany('INSERT INTO t VALUES (?)', [('x' * 1000,)] * 3000); "
        "kept = [object.__new__(type('Marker', (), {})) for _ in range(50000)]; time.sleep(0.8)"
    )
    (out,) = run(tmp_path, "serve", code=code, BENCH_MEMPROBE_CENSUS="0.3")
    lines = out.read_text().splitlines()
    samples = [dict(part.split("=", 1) for part in line.split()[1:]) for line in lines if not line.startswith("census")]
    assert max(int(s["sqlite"]) for s in samples) >= 2  # 3 MB of rows, some of it in SQLite's page cache
    census = [line for line in lines if line.startswith("census")]
    assert census and "Marker=50000" in census[-1]


def test_other_processes_are_left_alone(tmp_path: Path) -> None:
    assert run(tmp_path, "init") == []


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallinfo2 is glibc's")
def test_each_job_of_the_worker_gets_a_start_and_an_end_line(tmp_path: Path) -> None:
    code = """
import asyncio, sys, time, types
module = types.ModuleType("scribetree.core.jobs")
class Worker:
    async def _execute(self, job):
        await asyncio.sleep(0.05)
module.Worker = Worker
sys.modules["scribetree.core.jobs"] = module
time.sleep(0.6)  # the probe wraps _execute at its next sample
job = types.SimpleNamespace(actor="alerts.evaluate_activity")
asyncio.run(sys.modules["scribetree.core.jobs"].Worker()._execute(job))
"""
    (out,) = run(tmp_path, "serve", code=code, BENCH_MEMPROBE_JOBS="1")
    jobs = [line.split() for line in out.read_text().splitlines() if line.startswith("job ")]
    assert [(j[1], j[3]) for j in jobs] == [("start", "alerts.evaluate_activity"), ("end", "alerts.evaluate_activity")]
    assert all(j[4].startswith("rss=") and int(j[4][4:]) > 5 for j in jobs)
