"""glibc malloc settings for ``scribetree serve``, so that the memory of a sign-in burst goes back to the OS.

Left alone, glibc raises its mmap threshold to the largest block freed so far (up to 32 MiB) and its trim threshold
to twice that (mallopt(3), "M_MMAP_THRESHOLD"). After the first sign-in, each argon2 hash takes its 19 MiB buffer
(m=19456 KiB) from the hashing thread's heap instead of mmapping it, and a heap keeps up to twice that free: with two
hashing threads, a process held about 35 MB more for the rest of its life.

``configure()`` fixes the mmap threshold (``SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB``, default 16 MiB, below argon2's
buffer) and the trim threshold at twice it: the values glibc's own adjustment would have reached, so every other
allocation is served as before, and only blocks above the threshold (argon2's) are mmapped and unmapped when freed.
Fixing the mmap threshold alone, as this module did at first, leaves the trim threshold at its 128 KiB default: the
main heap then shrinks and regrows at every large free, which cost latency under load (bench/RESULTS.md).

``0`` leaves glibc's defaults alone. Linux with glibc only; elsewhere (macOS, musl) ``configure()`` does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from scribetree.core.config import settings

log = logging.getLogger("scribetree")

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3


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
    if settings.MALLOC_MMAP_THRESHOLD_KB > settings.ARGON2_MEMORY_KIB:
        log.warning(
            "the malloc mmap threshold is above argon2's buffer: the hashing threads' heaps will keep it after a "
            "sign-in; set SCRIBETREE_MALLOC_MMAP_THRESHOLD_KB below SCRIBETREE_ARGON2_MEMORY_KIB",
            extra={"threshold_kib": settings.MALLOC_MMAP_THRESHOLD_KB, "argon2_kib": settings.ARGON2_MEMORY_KIB},
        )
    wanted = {"M_MMAP_THRESHOLD": (M_MMAP_THRESHOLD, threshold), "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, 2 * threshold)}
    done = {}
    for name, (param, value) in wanted.items():
        if libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)) != 1:
            log.warning("mallopt refused a setting", extra={"param": name, "value": value})
            continue
        done[name] = value
    return done
