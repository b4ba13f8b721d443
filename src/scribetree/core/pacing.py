"""Background work that shares the event loop with requests: the in-process job worker under ``serve``.

The periodic jobs (the alert evaluation, the analytics catch-up) run on the loop that answers the editor's
batches. Handing the loop back with ``asyncio.sleep(0)`` between steps lets the waiting requests run, but the job
is ready again at once: for its whole run (a second or two every 30 s with 1,000 students writing) it takes as
much of the loop as all the requests together, and their latency doubles meanwhile (bench/RESULTS.md).

``await pause()`` between steps waits ``RATIO`` times as long as the step took (at most ``MAX_PAUSE`` s), so a job
takes at most 1 / (1 + RATIO) of the loop: it runs longer, and requests barely notice it. A step's time is the wall
time since the task's last pause, its own waits on the database included, so a job pauses somewhat longer than
its CPU alone would ask. Each task keeps its own clock (two jobs running at once do not pause for each other).

Off unless ``enable()`` was called: the app's lifespan turns it on when it runs the worker in process; a
standalone ``scribetree worker`` serves no requests, and there ``pause()`` only hands the loop back.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar

RATIO = 3.0  # a job takes at most a quarter of the loop
MAX_PAUSE = 0.25  # seconds: one long step never stalls a job for long

_enabled = False
_resumed: ContextVar[float | None] = ContextVar("pacing_resumed", default=None)


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


async def pause() -> float:
    """Hand the event loop back; while requests share it, also wait in proportion to the step just done. Returns
    the seconds waited."""
    if not _enabled:
        await asyncio.sleep(0)
        return 0.0
    now = time.perf_counter()
    last = _resumed.get()
    wait = 0.0 if last is None else min(MAX_PAUSE, (now - last) * RATIO)
    await asyncio.sleep(wait)
    _resumed.set(time.perf_counter())
    return wait
