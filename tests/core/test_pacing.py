"""core.pacing: a job step on the request loop is followed by a wait in proportion to it, only while enabled, with
each task on its own clock. (What it does to request latency is measured by bench.run, scenario c.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from scribetree.core import pacing


@pytest.fixture
def paced() -> Iterator[None]:
    pacing.enable()
    try:
        yield
    finally:
        pacing.enable(False)


async def test_off_it_only_hands_the_loop_back() -> None:
    assert not pacing.enabled()
    await pacing.pause()
    time.sleep(0.02)  # a step: blocking, as computing is
    assert await pacing.pause() == 0.0


async def test_on_it_waits_three_times_the_step_at_most_a_quarter_second(paced: None) -> None:
    async def job() -> list[float]:
        waits = [await pacing.pause()]  # the first pause starts the clock
        time.sleep(0.02)
        waits.append(await pacing.pause())
        time.sleep(0.2)
        waits.append(await pacing.pause())
        return waits

    first, short, long = await asyncio.create_task(job())
    assert first == 0.0
    assert pacing.RATIO * 0.02 <= short < pacing.MAX_PAUSE
    assert long == pacing.MAX_PAUSE


async def test_each_task_keeps_its_own_clock(paced: None) -> None:
    started = asyncio.Event()

    async def busy() -> None:
        await pacing.pause()
        time.sleep(0.05)
        started.set()
        await pacing.pause()

    async def other() -> float:
        await started.wait()
        return await pacing.pause()  # its first pause: the other task's step is not its own

    _, waited = await asyncio.gather(busy(), other())
    assert waited == 0.0
