"""Actors for the job-queue tests, importable by the worker subprocess too.

Side effects go to files in a directory passed as an argument, so they can be counted across processes
without a table of their own.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import jobs
from scribetree.core.jobs_models import Job


def _mark(folder: str, stem: str, content: str = "") -> None:
    Path(folder, f"{stem}.{uuid.uuid4().hex}").write_text(content)


@jobs.actor("tests.record")
async def record(
    session: AsyncSession, *, dir: str, token: str, sleep: float = 0, tenant_id: str | None = None
) -> None:
    """One file per run, named after ``token``: a job that ran twice leaves two."""
    if sleep:
        await asyncio.sleep(sleep)
    await session.scalar(select(func.count()).select_from(Job))  # the unit of work is a real session
    _mark(dir, token, tenant_id or "")


@jobs.actor("tests.flaky", max_attempts=5)
async def flaky(session: AsyncSession, *, dir: str, fail_times: int) -> None:
    runs = len(list(Path(dir).glob("flaky.*")))
    _mark(dir, "flaky")
    if runs < fail_times:
        raise RuntimeError(f"flaky failure {runs + 1} of {fail_times}")


@jobs.actor("tests.fail_always", max_attempts=3)
async def fail_always(session: AsyncSession) -> None:
    raise ValueError("boom")


@jobs.actor("tests.permanent")
async def permanent(session: AsyncSession, *, reason: str) -> None:
    raise jobs.PermanentJobError(reason)


@jobs.actor("tests.slow", timeout_seconds=0.2)
async def slow(session: AsyncSession) -> None:
    await asyncio.sleep(30)


@jobs.actor("tests.sleep")
async def sleep(session: AsyncSession, *, seconds: float) -> None:
    await asyncio.sleep(seconds)


@jobs.actor("tests.enqueue_child")
async def enqueue_child(session: AsyncSession, *, dir: str, fail: bool = False) -> None:
    """Writes to the database in its unit of work (a child job), then fails if asked to."""
    await jobs.enqueue(session, "tests.record", dir=dir, token="child")
    await session.flush()
    if fail:
        raise RuntimeError("failing after a write")


@jobs.actor("tests.block_once")
async def block_once(session: AsyncSession, *, dir: str) -> None:
    """First run: leave a mark and hang (the test kills this process). Any later run: finish."""
    started = Path(dir, "started")
    if not started.exists():
        started.write_text("")
        await asyncio.sleep(3600)
    Path(dir, "done").write_text("")
