"""core.malloc: with SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB set, `scribetree serve` has glibc return big freed blocks
to the OS instead of keeping them in its heaps.

The probe runs `scribetree serve` with uvicorn.run replaced: at the moment it would serve, it allocates and frees a
20 MiB block three times (the size of argon2's buffer) and reports how much more resident memory the process holds
afterwards.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile

import pytest

from scribetree.core import malloc
from scribetree.core.config import settings

PROBE = """
import json, sys
import uvicorn

def rss_kb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))

def run(*args, **kwargs):
    before = rss_kb()
    for _ in range(3):
        block = b"x" * (20 << 20)
        del block
    print("@@kept " + json.dumps((rss_kb() - before) / 1024), flush=True)

uvicorn.run = run
from scribetree.cli import main
sys.argv = ["scribetree", "serve", "--no-migrate", "--port", "8999"]
main()
"""

glibc_only = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="mallopt settings exist only in glibc (Linux)"
)


def kept_mb(**env: str) -> float:
    data = tempfile.mkdtemp(prefix="scribetree-malloc-")
    full = {**os.environ, "SCRIBETREE_DATA_DIR": data, "SCRIBETREE_DATABASE_URL": "", **env}
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=full, timeout=180)
    assert r.returncode == 0, r.stderr
    (line,) = [line for line in r.stdout.splitlines() if line.startswith("@@kept ")]
    return json.loads(line.removeprefix("@@kept "))


class TestServe:
    @glibc_only
    def test_with_a_threshold_freed_big_blocks_go_back_to_the_os(self) -> None:
        assert kept_mb(SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB="128") < 5

    @glibc_only
    def test_by_default_glibc_keeps_them(self) -> None:
        """The default is glibc's own threshold (its p95 cost under load: core/malloc.py)."""
        assert kept_mb() > 15


class TestConfigure:
    def test_does_nothing_off_linux(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(sys, "platform", "darwin")
        assert malloc.configure() == {}

    def test_does_nothing_when_turned_off(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(settings, "MALLOC_MMAP_THRESHOLD_KB", 0)
        assert malloc.configure() == {}
