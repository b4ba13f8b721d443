"""glibc malloc settings for ``scribetree serve``, so that the memory of a sign-in burst goes back to the OS.

Left alone, glibc raises its mmap threshold to the largest block freed so far (up to 32 MiB) and its trim threshold
to twice that (mallopt(3), "M_MMAP_THRESHOLD"). After the first sign-in, each argon2 hash takes its 19 MiB buffer
(m=19456 KiB) from the hashing thread's heap instead of mmapping it, and a heap keeps up to twice that free: with two
hashing threads, a process held about 40 MB more for the rest of its life. Setting the threshold turns the dynamic
adjustment off: blocks above it are mmapped and unmapped when freed. Objects of up to 512 bytes are not affected
(pymalloc serves them from its own arenas); a larger block above the threshold costs an mmap and a munmap.

Off by default (``SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB=0`` leaves glibc's defaults alone): in bench scenario c on
SQLite, runs with a fixed threshold (128 KiB to 16 MiB) kept 30-35 MB less peak RSS but had a median p95 of 99 ms
against 41 ms without (11 and 10 runs, bench/RESULTS.md). A deployment short of memory can turn it on (128).
Linux with glibc only; elsewhere (macOS, musl) ``configure()`` does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from scribetree.core.config import settings

log = logging.getLogger("scribetree")

M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None)
    return libc if hasattr(libc, "gnu_get_libc_version") else None  # musl has mallopt too, but ignores it


def configure() -> dict[str, int]:
    """Apply the settings to this process, before its threads start; returns what was set (empty: nothing)."""
    threshold = settings.MALLOC_MMAP_THRESHOLD_KB * 1024
    libc = _glibc() if threshold else None
    if libc is None:
        return {}
    if libc.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(threshold)) != 1:
        log.warning("mallopt refused the mmap threshold", extra={"threshold": threshold})
        return {}
    return {"M_MMAP_THRESHOLD": threshold}
