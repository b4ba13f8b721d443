"""Memory timeline of a `scribetree serve` process, for finding where its RSS goes (diagnostic, not the app's).

    PYTHONPATH=bench/memprobe .venv/bin/python -m bench.run --db sqlite --scenario c

Python imports ``sitecustomize`` at start-up from the path; in a process started as ``scribetree serve`` this one
starts a thread that writes, every 0.25 s, to ``bench/results/memprobe-<pid>.txt`` (``BENCH_MEMPROBE_DIR`` to put
it elsewhere): seconds since start, VmRSS, glibc's ``mallinfo2()`` over all arenas (bytes taken from the OS by
brk/heaps, mmapped blocks, in use, free but kept; MB), what SQLite has allocated (MB) and the threads by name.
``BENCH_MEMPROBE_CENSUS=10`` adds, every 10 s, the objects the garbage collector tracks counted by type;
``BENCH_MEMPROBE_JOBS=1`` a line with the RSS when each job of the in-process worker starts and ends (it wraps
``Worker._execute`` once ``scribetree.core.jobs`` is imported). Other processes are left alone.
Linux with glibc 2.33+ only (mallinfo2).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from pathlib import Path
from typing import TextIO


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _rss_mb() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmRSS"))


def _libsqlite() -> ctypes.CDLL | None:
    """The SQLite library Python's sqlite3 module uses (the same one once loaded), for its memory counter."""
    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        return None
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return lib


def _census(fh: TextIO) -> None:
    """Objects the garbage collector tracks, counted by type (the 20 most numerous; those frozen at start-up by
    core/gcpolicy are not counted), and the interpreter's allocated blocks (sys.getallocatedblocks)."""
    import collections
    import gc

    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    top = " ".join(f"{name}={n}" for name, n in counts.most_common(20))
    fh.write(f"census blocks={sys.getallocatedblocks()} tracked={sum(counts.values())} {top}\n")


def _watch_jobs(fh: TextIO, start: float, lock: threading.Lock) -> bool:
    """Wrap the job worker's ``_execute`` to write each job's start and end; False while it is not imported yet."""
    module = sys.modules.get("scribetree.core.jobs")
    if module is None:
        return False
    run = module.Worker._execute

    def line(what: str, actor: str) -> None:
        with lock:
            now = time.monotonic()  # also as the clock bench.run's phase marks use (perf_counter: the same on Linux)
            fh.write(f"job {what} {now - start:6.1f} {actor} rss={_rss_mb()} clock={now:.3f}\n")

    async def _execute(self: object, job: object) -> None:
        line("start", job.actor)  # type: ignore[attr-defined]
        try:
            await run(self, job)
        finally:
            line("end", job.actor)  # type: ignore[attr-defined]

    module.Worker._execute = _execute
    return True


def _sample(out: Path) -> None:
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = _MallInfo2
    sqlite = _libsqlite()
    start = last = time.monotonic()
    census = float(os.environ.get("BENCH_MEMPROBE_CENSUS", "0"))
    jobs_watched = not os.environ.get("BENCH_MEMPROBE_JOBS")
    lock = threading.Lock()
    with out.open("w", buffering=1) as fh:
        while True:
            jobs_watched = jobs_watched or _watch_jobs(fh, start, lock)
            m = libc.mallinfo2()
            names = ",".join(sorted(t.name for t in threading.enumerate()))
            with lock:
                fh.write(
                    f"{time.monotonic() - start:6.1f} rss={_rss_mb()} arena={m.arena >> 20} mmap={m.hblkhd >> 20} "
                    f"inuse={m.uordblks >> 20} free={m.fordblks >> 20} "
                    f"sqlite={sqlite.sqlite3_memory_used() >> 20 if sqlite else '-'} "
                    f"threads={names}\n"
                )
            if census and time.monotonic() - last >= census:
                last = time.monotonic()
                with lock:
                    _census(fh)
            time.sleep(0.25)


if "serve" in sys.argv and sys.platform.startswith("linux"):
    folder = Path(os.environ.get("BENCH_MEMPROBE_DIR", Path(__file__).resolve().parents[1] / "results"))
    folder.mkdir(parents=True, exist_ok=True)
    threading.Thread(
        target=_sample, args=(folder / f"memprobe-{os.getpid()}.txt",), daemon=True, name="memprobe"
    ).start()
