"""core.malloc: `scribetree serve` has glibc return blocks above SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB (argon2's
19 MiB buffers) to the OS when freed, and keeps smaller ones in its heap as glibc's adaptive thresholds would.

The probe runs `scribetree serve` with uvicorn.run replaced: at the moment it would serve, it allocates and frees a
block of PROBE_BLOCK_MIB three times and reports how much more resident memory the process holds afterwards.
"""

from __future__ import annotations

import ctypes
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
import json, os, sys
import uvicorn

def rss_kb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))

def run(*args, **kwargs):
    before = rss_kb()
    for _ in range(3):
        block = b"x" * (int(os.environ["PROBE_BLOCK_MIB"]) << 20)
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


def kept_mb(block_mib: int, **env: str) -> float:
    data = tempfile.mkdtemp(prefix="scribetree-malloc-")
    inherited = {k: v for k, v in os.environ.items() if k != "SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB"}  # the default
    full = {
        **inherited,
        "SCRIBETREE_DATA_DIR": data,
        "SCRIBETREE_DATABASE_URL": "",
        "PROBE_BLOCK_MIB": str(block_mib),
        **env,
    }
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=full, timeout=180)
    assert r.returncode == 0, r.stderr
    (line,) = [line for line in r.stdout.splitlines() if line.startswith("@@kept ")]
    return json.loads(line.removeprefix("@@kept "))


class TestServe:
    @glibc_only
    def test_by_default_a_freed_argon2_sized_block_goes_back_to_the_os(self) -> None:
        assert kept_mb(20) < 5

    @glibc_only
    def test_by_default_smaller_blocks_stay_in_the_heap(self) -> None:
        """The trim threshold is raised with the mmap threshold: a freed 4 MiB block is kept for the next one, as
        glibc's adaptive thresholds would, instead of the heap shrinking and regrowing at every large free."""
        assert kept_mb(4) > 3

    @glibc_only
    def test_turned_off_glibc_keeps_the_big_blocks(self) -> None:
        assert kept_mb(20, SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB="0") > 15


class TestConfigure:
    def test_does_nothing_off_linux(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(sys, "platform", "darwin")
        assert malloc.configure() == {}

    def test_does_nothing_when_turned_off(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(settings, "MALLOC_MMAP_THRESHOLD_KB", 0)
        assert malloc.configure() == {}

    def test_sets_the_trim_threshold_at_twice_the_mmap_threshold(self, monkeypatch: pytest.MonkeyPatch) -> None:
        libc = RecordingLibc()
        monkeypatch.setattr(malloc, "_glibc", lambda: libc)
        monkeypatch.setattr(settings, "MALLOC_MMAP_THRESHOLD_KB", 8 * 1024)
        assert malloc.configure() == {"M_MMAP_THRESHOLD": 8 << 20, "M_TRIM_THRESHOLD": 16 << 20}
        assert libc.calls == [(malloc.M_MMAP_THRESHOLD, 8 << 20), (malloc.M_TRIM_THRESHOLD, 16 << 20)]

    def test_warns_when_argon2_buffers_would_stay_under_the_threshold(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        monkeypatch.setattr(malloc, "_glibc", RecordingLibc)
        monkeypatch.setattr(settings, "ARGON2_MEMORY_KIB", 12 * 1024)
        monkeypatch.setattr(settings, "MALLOC_MMAP_THRESHOLD_KB", 16 * 1024)
        with caplog.at_level("WARNING", logger="scribetree"):
            malloc.configure()
        assert "below SCRIBETREE_ARGON2_MEMORY_KIB" in caplog.text


class RecordingLibc:
    """glibc's mallopt as configure() calls it, recorded instead of applied: the test process's own allocator is
    left as it is (the serve tests above apply the settings for real, in their own process)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: ctypes.c_int, value: ctypes.c_int) -> int:
        self.calls.append((param.value, value.value))
        return 1
