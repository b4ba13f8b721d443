"""The periodic catch-up reads a slice of documents together: the documents, their metrics rows and their new
batches in one statement each, not three per document; what it folds is what a refresh of each document alone
folds, including when the statement's row limit cuts a document's batches short."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics import service as analytics_module
from scribetree.analytics.models import DailyActivityRow, DocumentMetricsRow
from scribetree.analytics.repository import MetricsRepository
from scribetree.analytics.service import analytics
from scribetree.core import db
from scribetree.courses.models import CourseRole
from tests.analytics.test_service import T0, Writer, day_rows, metrics_row
from tests.factories.courses import create_course_member
from tests.factories.writing import dele, ins
from tests.sql_log import statements
from tests.writing.conftest import CtxFor, Klass


async def class_writing(session: AsyncSession, klass: Klass, ctx_for: CtxFor, students: int) -> list[Writer]:
    """``students`` documents, each with a different history: 2 + i batches, the last a deletion."""
    role = CourseRole.student
    users = [await create_course_member(session, klass.course, klass.tenant, role) for _ in range(students)]
    await session.commit()
    contexts = [await ctx_for(user, klass.tenant) for user in users]
    await session.commit()  # ends the fixture session's read transaction before the writers write
    writers = []
    for i, ctx in enumerate(contexts):
        w = await Writer.open(ctx, klass.assignment.id, T0)
        for k in range(2 + i):
            await w.send(T0 + timedelta(seconds=5 * k + i), [ins(len(w.text), f"word{k} ")])
        await w.send(T0 + timedelta(seconds=60 + i), [dele(0, 2)])
        writers.append(w)
    return writers


FIGURES = ("batches", "sessions", "active_seconds", "words_added", "words_deleted", "chars_inserted", "text")


async def figures(writers: list[Writer]) -> list[tuple[Any, ...]]:
    out = []
    for w in writers:
        row = await metrics_row(w.document_id)
        out.append((*(getattr(row, f) for f in FIGURES), tuple(await day_rows(w.document_id))))
    return out


async def forget_figures(tenant_id: uuid.UUID) -> None:
    async with db.unit_of_work() as s:
        await s.execute(delete(DailyActivityRow).where(DailyActivityRow.tenant_id == tenant_id))
        await s.execute(delete(DocumentMetricsRow).where(DocumentMetricsRow.tenant_id == tenant_id))


async def one_by_one(tenant_id: uuid.UUID, writers: list[Writer]) -> list[tuple[Any, ...]]:
    await forget_figures(tenant_id)
    for w in writers:
        async with db.unit_of_work() as s:
            await analytics.refresh_document(s, tenant_id, w.document_id)
    return await figures(writers)


class TestReadTogether:
    async def test_reads_do_not_grow_with_the_documents_of_a_slice(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        """Two new documents or five (the first two caught up already): the same statements read them (three per
        document before)."""
        counts = []
        for students in (2, 5):
            writers = await class_writing(session, klass, ctx_for, students)
            with statements() as seen:
                async with db.unit_of_work() as s:
                    result = await analytics.refresh_tenant(s, klass.tenant.id)
            assert result.documents == students
            counts.append(len([q for q in seen if q.startswith("SELECT")]))
            assert (await figures(writers))[0][0] == 3  # the first student's three batches were folded
        assert counts[0] == counts[1], counts

    @pytest.mark.parametrize(("read_slice", "slice_batches"), [(100, 2_000), (2, 2_000), (100, 5), (3, 4)])
    async def test_folds_what_a_refresh_of_each_document_folds(
        self,
        session: AsyncSession,
        klass: Klass,
        ctx_for: CtxFor,
        monkeypatch: pytest.MonkeyPatch,
        read_slice: int,
        slice_batches: int,
    ) -> None:
        """Slices of every size, and a row limit that cuts a document's batches short (5 and 4 rows for
        histories of 3 to 7 batches): those documents are read page by page, with the same result."""
        monkeypatch.setattr(analytics_module, "READ_SLICE", read_slice)
        monkeypatch.setattr(analytics_module, "READ_SLICE_BATCHES", slice_batches)
        writers = await class_writing(session, klass, ctx_for, 5)
        async with db.unit_of_work() as s:  # half of the history first: the rest goes on from watermarks
            await analytics.refresh_tenant(s, klass.tenant.id, max_batches=12)
        async with db.unit_of_work() as s:
            await analytics.refresh_tenant(s, klass.tenant.id)
        together = await figures(writers)
        assert [f[0] for f in together] == [3, 4, 5, 6, 7]
        assert together == await one_by_one(klass.tenant.id, writers)


class TestBatchesAfterMany:
    async def test_each_document_after_its_own_watermark(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        writers = await class_writing(session, klass, ctx_for, 3)
        async with db.unit_of_work(write=False) as s:
            repo = MetricsRepository(s, klass.tenant.id)
            every = {w.document_id: await repo.batches_after(w.document_id, 0, None, None, 100) for w in writers}
            marks = {}
            for i, w in enumerate(writers):  # the first document from the start, the others after their i-th
                b = every[w.document_id][i - 1] if i else None
                marks[w.document_id] = (b.revision, b.received_at, b.id) if b else (0, None, None)
            expected = {d: list(await repo.batches_after(d, *mark, limit=100)) for d, mark in marks.items()}
            found, complete = await repo.batches_after_many(marks, 100)
            assert complete == set(marks)
            assert {d: [r.id for r in rows] for d, rows in found.items()} == {
                d: [r.id for r in rows] for d, rows in expected.items() if rows
            }

            cut, complete = await repo.batches_after_many(marks, 5)  # 3 + 3 + ... rows: cut in the second
            assert sum(len(rows) for rows in cut.values()) == 5
            reached = list(cut)
            assert complete == set(reached[:-1])
            for d in complete:
                assert [r.id for r in cut[d]] == [r.id for r in expected[d]]

    async def test_one_statement_shape_for_a_few_sizes_of_slice(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        """Three documents (one with a watermark) and four (none): the same SQL, so SQLAlchemy compiles it once
        (its cache is keyed by the statement's shape, and each number of conditions would be a new one)."""
        writers = await class_writing(session, klass, ctx_for, 4)
        async with db.unit_of_work(write=False) as s:
            repo = MetricsRepository(s, klass.tenant.id)
            first = (await repo.batches_after(writers[0].document_id, 0, None, None, 1))[0]
            three = {w.document_id: (0, None, None) for w in writers[1:]}
            three[writers[0].document_id] = (first.revision, first.received_at, first.id)
            four = {w.document_id: (0, None, None) for w in writers}
            with statements() as seen:
                found_three, _ = await repo.batches_after_many(three, 100)
                found_four, _ = await repo.batches_after_many(four, 100)
        assert len(seen) == 2 and seen[0] == seen[1]
        assert sum(map(len, found_three.values())) == 3 + 4 + 5 + 6 - 1
        assert sum(map(len, found_four.values())) == 3 + 4 + 5 + 6


class TestInsert:
    async def test_a_row_someone_else_inserted_first_is_left_to_them(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        """The first-time rows go in as one executemany; if another refresh inserted one of them meanwhile (on
        PostgreSQL, between this one's row locks and its insert), the others go in one by one and that one is
        left as the other refresh wrote it."""
        tid = klass.tenant.id
        writers = await class_writing(session, klass, ctx_for, 3)
        async with db.unit_of_work(write=False) as read:
            computed = [await analytics._compute(read, tid, w.document_id, 100) for w in writers]
        async with db.unit_of_work() as s:
            assert await analytics.refresh_document(s, tid, writers[1].document_id) == 4  # the other refresh
        async with db.unit_of_work() as s:
            done = await analytics._insert(s, tid, [c for c in computed if c is not None])
        assert [c.doc.id for c in done] == [writers[0].document_id, writers[2].document_id]
        rows = [f[:-1] for f in await figures(writers)]  # the metrics rows (the day rows are _write's next step)
        assert rows == [f[:-1] for f in await one_by_one(tid, writers)]
