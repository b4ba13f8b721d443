"""bench/memprobe: a process started as `serve` writes its memory timeline; any other process is left alone."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

PROBE_DIR = Path(__file__).resolve().parents[2] / "bench" / "memprobe"


def run(tmp_path: Path, *argv: str) -> list[Path]:
    env = {**os.environ, "PYTHONPATH": str(PROBE_DIR), "BENCH_MEMPROBE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", "import time; time.sleep(0.6)", *argv], env=env, check=True, timeout=60)
    return list(tmp_path.glob("memprobe-*.txt"))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallinfo2 is glibc's")
def test_a_serve_process_writes_its_timeline(tmp_path: Path) -> None:
    (out,) = run(tmp_path, "serve")
    first = out.read_text().splitlines()[0]
    fields = dict(part.split("=", 1) for part in first.split()[1:])
    assert int(fields["rss"]) > 5 and int(fields["inuse"]) >= 0
    assert "MainThread" in fields["threads"] and "memprobe" in fields["threads"]


def test_other_processes_are_left_alone(tmp_path: Path) -> None:
    assert run(tmp_path, "init") == []
