"""The catch-up's two phases: reads and folding (compute) apart from a short write, and what that must keep.

- Students' edit batches commit while a catch-up job folds (on SQLite the job does not hold the single writer
  through its compute phase; before the split they waited for it until the job's commit).
- A refresh whose watermark another refresh moved between its compute and its write phase writes nothing: the
  same batches are never counted twice in the day rows.
- Folding hands the event loop back between slices of batches, and measures a long text's style off the loop.

The interleavings are made deterministic by running the other party from inside the compute phase (a wrapped
``MetricsRepository.batches_after`` or ``batches_after_many``), under ``asyncio.wait_for`` with a generous limit:
a writer that waits for the catch-up would wait forever, and the test fails at the limit instead of hanging.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from scribetree.analytics import metrics, style
from scribetree.analytics import service as analytics_module
from scribetree.analytics.repository import MetricsRepository
from scribetree.analytics.service import analytics
from scribetree.analytics.tasks import refresh_tenant as refresh_tenant_job
from scribetree.core import db
from tests.analytics.test_service import T0, Writer, day_rows, metrics_row, refresh, write_history
from tests.factories.writing import ins
from tests.writing.conftest import CtxFor, Klass

LIMIT = 30.0  # seconds; only reached when something waits for a lock it will never get


def during_compute(monkeypatch: pytest.MonkeyPatch, act: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run ``act`` once, right after the first batches are read (the middle of a compute phase: a document's
    page, or a slice's batches read together by the periodic catch-up); returns the list its result is appended
    to."""
    done: list[Any] = []

    def after_first_read(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def read(self: MetricsRepository, *args: Any, **kwargs: Any) -> Any:
            page = await original(self, *args, **kwargs)
            if not done:
                done.append(None)  # first: ``act`` may refresh too, and so read batches
                done[0] = await asyncio.wait_for(act(), LIMIT)
            return page

        return read

    for name in ("batches_after", "batches_after_many"):
        monkeypatch.setattr(MetricsRepository, name, after_first_read(getattr(MetricsRepository, name)))
    return done


async def refresh_apart(tenant_id: Any, document_id: Any) -> int:
    """``refresh_document`` with its reads in a read unit of work (as the job does)."""
    async with db.unit_of_work(write=False) as read, db.unit_of_work() as s:
        return await analytics.refresh_document(s, tenant_id, document_id, read_session=read)


ONE_DAY = (T0.date(), 5, 56, 7, 1, 6, 1, 17, 40, 6)  # write_history's day row (see test_hand_computed_history)


class TestWriterFree:
    async def test_a_students_batch_commits_while_the_job_folds(
        self, klass: Klass, ctx_for: CtxFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ctx_a, ctx_b = await ctx_for(klass.student, klass.tenant), await ctx_for(klass.classmate, klass.tenant)
        a = await Writer.open(ctx_a, klass.assignment.id, T0)
        b = await Writer.open(ctx_b, klass.assignment.id, T0)
        await write_history(a)
        # the hot path (apply_batch in its own write unit of work) while the job is in its compute phase
        sent = during_compute(monkeypatch, lambda: b.send(T0 + timedelta(seconds=5), [ins(0, "Meanwhile")]))
        async with db.unit_of_work() as s:  # what the worker gives the job
            await refresh_tenant_job(s, tenant_id=str(klass.tenant.id))
        assert sent == [None]  # b's batch committed (a time-out would have raised)
        assert b.revision == 1
        row = await metrics_row(a.document_id)
        assert (row.batches, row.words_added, row.text) == (5, 7, a.text)
        assert [r[1:] for r in await day_rows(a.document_id)] == [ONE_DAY]
        # b's batch came after the job listed its documents: the next run takes it
        async with db.unit_of_work(write=False) as read, db.unit_of_work() as s:
            later = await analytics.refresh_tenant(s, klass.tenant.id, read_session=read)
        assert (later.documents, later.batches) == (1, 1)
        assert (await metrics_row(b.document_id)).words_added == 1

    async def test_the_read_connection_goes_back_before_the_write_begins(
        self, klass: Klass, ctx_for: CtxFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One pool on PostgreSQL: a task holding a read connection while it waits for a write one can deadlock."""
        w = await Writer.open(await ctx_for(klass.student, klass.tenant), klass.assignment.id, T0)
        await write_history(w)
        original = MetricsRepository.locked
        seen: list[tuple[bool, bool]] = []  # (read session in a transaction, write session in one) at the lock

        async with db.unit_of_work(write=False) as read, db.unit_of_work() as s:

            async def locked(self: MetricsRepository, document_ids: Any) -> Any:
                seen.append((read.in_transaction(), s.in_transaction()))
                return await original(self, document_ids)

            monkeypatch.setattr(MetricsRepository, "locked", locked)
            result = await analytics.refresh_tenant(s, klass.tenant.id, read_session=read)
        assert seen == [(False, False)] and (result.documents, result.batches) == (1, 5)


class TestWatermarkMoved:
    async def test_a_refresh_overtaken_before_its_write_writes_nothing(
        self, klass: Klass, ctx_for: CtxFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        w = await Writer.open(await ctx_for(klass.student, klass.tenant), klass.assignment.id, T0)
        await write_history(w)
        # no metrics row yet: the other refresh creates it between this one's compute and write phases
        other = during_compute(monkeypatch, lambda: refresh(klass.tenant.id, w.document_id))
        assert await refresh_apart(klass.tenant.id, w.document_id) == 0
        assert other == [5]
        row = await metrics_row(w.document_id)
        assert (row.batches, row.words_added, row.wm_revision) == (5, 7, 5)
        assert [r[1:] for r in await day_rows(w.document_id)] == [ONE_DAY]  # counted once
        # an existing row whose watermark moved meanwhile
        await w.send(T0 + timedelta(seconds=760), [ins(len(w.text), " More")])
        monkeypatch.undo()
        other = during_compute(monkeypatch, lambda: refresh(klass.tenant.id, w.document_id))
        assert await refresh_apart(klass.tenant.id, w.document_id) == 0
        assert other == [1]
        row = await metrics_row(w.document_id)
        assert (row.batches, row.words_added, row.wm_revision) == (6, 8, 6)
        days = await day_rows(w.document_id)
        assert [(d[2], d[4], d[6]) for d in days] == [(6, 8, 7)]  # batches, words added, word delta: once
        assert await refresh_apart(klass.tenant.id, w.document_id) == 0  # nothing left: caught up

    async def test_the_job_writes_the_documents_nobody_else_moved(
        self, klass: Klass, ctx_for: CtxFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ctx_a, ctx_b = await ctx_for(klass.student, klass.tenant), await ctx_for(klass.classmate, klass.tenant)
        a = await Writer.open(ctx_a, klass.assignment.id, T0)
        b = await Writer.open(ctx_b, klass.assignment.id, T0)
        await write_history(a)
        await write_history(b, T0 + timedelta(seconds=1))  # b: the later activity
        # a page read catches `a` up while the job computes (the job computes `a` first: oldest activity)
        during_compute(monkeypatch, lambda: refresh(klass.tenant.id, a.document_id))
        async with db.unit_of_work(write=False) as read, db.unit_of_work() as s:
            result = await analytics.refresh_tenant(s, klass.tenant.id, read_session=read)
        assert (result.documents, result.batches, result.more) == (1, 5, False)  # b only
        for w in (a, b):
            assert (await metrics_row(w.document_id)).batches == 5
            assert [r[1:] for r in await day_rows(w.document_id)] == [ONE_DAY]


class TestEventLoop:
    async def test_folding_hands_the_loop_back_between_slices(
        self, klass: Klass, ctx_for: CtxFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        w = await Writer.open(await ctx_for(klass.student, klass.tenant), klass.assignment.id, T0)
        await write_history(w)  # 5 batches, one page
        monkeypatch.setattr(analytics_module, "FOLD_SLICE", 2)
        ticks = 0

        async def ticker() -> None:  # another task on the loop: counts how often it gets to run
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        original = metrics.fold
        calls: list[tuple[int, int]] = []  # (batches folded in one go, ticks so far)

        def fold(state: metrics.State, batches: Any, **kwargs: Any) -> Any:
            batches = list(batches)
            calls.append((len(batches), ticks))
            return original(state, batches, **kwargs)

        monkeypatch.setattr(metrics, "fold", fold)
        task = asyncio.create_task(ticker())
        try:
            assert await refresh_apart(klass.tenant.id, w.document_id) == 5
        finally:
            task.cancel()
        assert [n for n, _t in calls] == [2, 2, 1]
        seen = [t for _n, t in calls]
        assert all(later > earlier for earlier, later in itertools.pairwise(seen))  # the loop ran between

    async def test_a_long_texts_style_is_measured_the_same_off_the_loop(self, klass: Klass, ctx_for: CtxFor) -> None:
        w = await Writer.open(await ctx_for(klass.student, klass.tenant), klass.assignment.id, T0)
        text = "A sentence of some words. " * 400  # 10,400 characters: over STYLE_THREAD_CHARS
        assert len(text) > analytics_module.STYLE_THREAD_CHARS
        await w.send(T0, [ins(0, text)])
        assert await refresh_apart(klass.tenant.id, w.document_id) == 1
        row = await metrics_row(w.document_id)
        assert row.style == style.measure(text).model_dump(mode="json") and row.style_revision == 1
