"""Python's cyclic garbage collector in the long-running processes (``serve``, ``worker``).

After start-up a server holds 200,000-300,000 objects that live as long as the process: modules, classes, the
routes, SQLAlchemy's mappers, pydantic's validators. Every full collection walks all of them, and the event loop
answers nobody meanwhile. In bench scenario c (500 students on SQLite) a full collection came about every 5 s and
took 110-280 ms each time: every request in flight waited that long. ``freeze_startup_heap()`` moves what is alive
once start-up is over into the collector's permanent generation (``gc.freeze``), which no collection walks; a full
collection then took 12-50 ms (bench/RESULTS.md; `bench.run` prints these figures). Objects made later are collected
as before; a frozen object that later dies is still freed by reference counting, only a frozen reference cycle is
not (start-up makes few, and once).

Frozen only where a process runs for hours: ``serve`` and ``worker`` ask for it (``enable()``) before the app starts;
tests that build the app many times in one process do not. ``SCRIBETREE_GC_FREEZE_AT_STARTUP=false`` turns it off.
The same processes also collect less often (``SCRIBETREE_GC_THRESHOLDS``, see ``set_thresholds``).

``stats`` counts the collections and the time the loop stood still in them, by generation, for /metrics.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from scribetree.core.config import settings

log = logging.getLogger("scribetree")


@dataclass
class Stats:
    """Seconds spent in collections and the longest one, by generation, since this process started watching."""

    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    longest: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    frozen: int = 0

    @property
    def collections(self) -> list[int]:
        """Collections by generation since the process started (the interpreter counts them)."""
        return [generation["collections"] for generation in gc.get_stats()]


stats = Stats()
_wanted = False
_started_at: float | None = None


def enable() -> None:
    """This process runs for hours: freeze its start-up heap once the app has started (``after_startup``), and
    collect at the thresholds of ``SCRIBETREE_GC_THRESHOLDS`` from now on."""
    global _wanted
    _wanted = settings.GC_FREEZE_AT_STARTUP
    set_thresholds(settings.GC_THRESHOLDS)


def set_thresholds(thresholds: tuple[int, int, int]) -> None:
    """``gc.set_threshold``, unless all are 0 (the interpreter's own then stay).

    A young collection comes every ``thresholds[0]`` new objects (700 by default). At the default, under load, what
    a request in flight allocates outlives two young collections and is promoted to the old generation, and the
    old generation's growth (a quarter of its size since the last full collection) triggers a full collection:
    in bench scenario c on PostgreSQL one a second, each stopping the loop for 80-150 ms. At 50,000 most of a
    request's objects die before any collection sees them."""
    if any(thresholds):
        gc.set_threshold(*thresholds)
        log.info("garbage collector thresholds set", extra={"thresholds": list(gc.get_threshold())})


def after_startup() -> int:
    """Called when the app has started; freezes the heap if ``enable()`` was called. Returns the objects frozen."""
    if not _wanted:
        return 0
    from scribetree.core import db

    db.engines()  # the database's dialect and driver are imported with its engines: frozen with the rest
    return freeze_startup_heap()


def freeze_startup_heap() -> int:
    """Collect what start-up left as garbage, then move every object still alive out of the collector's way."""
    gc.collect()
    gc.freeze()
    stats.frozen = gc.get_freeze_count()
    log.info("start-up heap frozen", extra={"objects": stats.frozen})
    return stats.frozen


def watch() -> None:
    """Time every collection of this process into ``stats`` (a few microseconds per collection)."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    global _started_at
    if phase == "start":
        _started_at = time.perf_counter()
        return
    if _started_at is None:
        return
    took, generation = time.perf_counter() - _started_at, info["generation"]
    _started_at = None
    stats.seconds[generation] += took
    stats.longest[generation] = max(stats.longest[generation], took)
