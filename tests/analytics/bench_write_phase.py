"""A measurement, not a test (pytest does not collect this file by itself): the analytics job's write phase, timed.

    SCRIBETREE_TEST_DATABASE=sqlite .venv/bin/pytest -q -p no:cacheprovider tests/analytics/bench_write_phase.py -s

One student with ``N`` documents (one per assignment), each folded once; then five rounds of one more batch per
document and a catch-up (``analytics.refresh_tenant``), the write phase of each timed (on SQLite it holds the single
writer). Prints ``WRITE_MS`` and the five times. It lives among the tests for their fixtures (a tenant, a course, a
student); it asserts only that every round caught up every document.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics.service import AnalyticsService, analytics
from scribetree.core import db
from tests.analytics.test_service import T0, Writer
from tests.factories.courses import create_assignment
from tests.factories.writing import ins
from tests.writing.conftest import CtxFor, Klass

N = 200


async def test_write_phase(
    klass: Klass, ctx_for: CtxFor, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = await ctx_for(klass.student, klass.tenant)
    writers = []
    for _ in range(N):
        a = await create_assignment(session, klass.course)
        await session.commit()
        w = await Writer.open(ctx, a.id, T0)
        await w.send(T0, [ins(0, "Hello world " * 50)])
        writers.append(w)
    async with db.unit_of_work(write=False) as read, db.unit_of_work() as s:
        await analytics.refresh_tenant(s, klass.tenant.id, read_session=read)
    took: list[float] = []
    original = AnalyticsService._write

    async def timed(self: AnalyticsService, *args: Any) -> Any:
        t = time.perf_counter()
        try:
            return await original(self, *args)
        finally:
            took.append((time.perf_counter() - t) * 1000)

    monkeypatch.setattr(AnalyticsService, "_write", timed)
    for k in range(5):
        for w in writers:
            await w.send(T0 + timedelta(seconds=5 * (k + 1)), [ins(len(w.text), " more")])
        async with db.unit_of_work(write=False) as read, db.unit_of_work() as s:
            result = await analytics.refresh_tenant(s, klass.tenant.id, read_session=read)
        assert result.documents == N
    print("WRITE_MS", [round(x) for x in took])
