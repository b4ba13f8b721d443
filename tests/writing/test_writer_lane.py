"""The editor's batches commit on their own (``apply_batch(commit_now=True)``, the HTTP route's way).

SQLite: through the writer lane (``core.db.run_committed``), a group commit: batches that arrive together run in
one step on the single writer, each in its own savepoint, and are committed when ``apply_batch`` returns, whatever
the request's unit of work does afterwards. PostgreSQL: the batch stays in the request's unit of work.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import db
from scribetree.courses.models import CourseRole
from scribetree.writing.exceptions import SeqGap
from scribetree.writing.schemas import BatchCreate
from scribetree.writing.service import document as document_service
from tests.factories.courses import create_course_member
from tests.factories.writing import batch_body, ins
from tests.writing.conftest import CtxFor, Klass


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every group the SQLite writer lane commits, in order."""
    sizes: list[int] = []
    run_group = db._run_group

    def counted(dbapi: Any, engine: Any, group: Any, **kw: Any) -> Any:
        sizes.append(len(group))
        return run_group(dbapi, engine, group, **kw)

    monkeypatch.setattr(db, "_run_group", counted)
    return sizes


def body(text: str, *, seq: int = 1, base_revision: int = 0) -> BatchCreate:
    raw, _ = batch_body("", [ins(0, text)], seq=seq, base_revision=base_revision, session_id=uuid.uuid4())
    return BatchCreate.model_validate(raw)


async def text_of(ctx: Any, document_id: uuid.UUID) -> tuple[str, int]:
    async with db.unit_of_work(write=False) as r:
        doc = await document_service.get(r, ctx, document_id)
        return doc.text, doc.revision


async def test_a_batch_committed_now_survives_the_requests_rollback(klass: Klass, ctx_for: CtxFor) -> None:
    ctx = await ctx_for(klass.student, klass.tenant)
    async with db.unit_of_work() as s:
        doc_id = (await document_service.open_mine(s, ctx, klass.assignment.id)).id

    read, write = db.make_session(write=False), db.make_session(write=True)
    try:
        accepted = await document_service.apply_batch(
            write, ctx, doc_id, body("kept"), read_session=read, commit_now=True
        )
        assert accepted.revision == 1
        await db.rollback(write)  # the request failed after the batch was applied
    finally:
        await read.close()
        await write.close()
    # Both databases: SQLite's writer lane commits the batch's group; PostgreSQL commits with the batch's writes
    # (``BatchStore(commit=True)``). The editor's resend is then answered as a replay.
    assert await text_of(ctx, doc_id) == ("kept", 1)


async def test_batches_arriving_together_commit_in_groups_and_a_refused_one_takes_only_itself(
    klass: Klass, ctx_for: CtxFor, session: AsyncSession, groups: list[int], database_url: str
) -> None:
    people = [klass.student, klass.classmate]
    people += [await create_course_member(session, klass.course, klass.tenant, CourseRole.student) for _ in range(6)]
    await session.commit()
    ctxs = [await ctx_for(person, klass.tenant) for person in people]
    docs = []
    async with db.unit_of_work() as s:
        for ctx in ctxs:
            docs.append((await document_service.open_mine(s, ctx, klass.assignment.id)).id)

    async def send(ctx: Any, document_id: uuid.UUID, batch: BatchCreate) -> Any:
        read, write = db.make_session(write=False), db.make_session(write=True)
        try:
            result = await document_service.apply_batch(
                write, ctx, document_id, batch, read_session=read, commit_now=True
            )
            await db.commit(write)
            return result
        finally:
            await read.close()
            await write.close()

    bodies = [body(f"text {i}", seq=5 if i == 3 else 1) for i in range(len(ctxs))]  # the 4th skips seqs 1-4
    sending = asyncio.gather(
        *[send(ctx, doc, b) for ctx, doc, b in zip(ctxs, docs, bodies, strict=True)], return_exceptions=True
    )
    if db.engines().is_sqlite:
        # "Together": while the writer is busy (here another connection holds SQLite's write lock, so the first group
        # waits for it) every other batch arrives and queues; without that, groups depend on the loop's timing.
        import sqlite3

        other = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        lane = db._lane(db.engines())
        try:
            async with asyncio.timeout(20):
                while sum(groups) + len(lane.waiting) < len(ctxs):
                    await asyncio.sleep(0.01)
        finally:
            other.execute("COMMIT")
            other.close()
    results = await sending
    assert isinstance(results[3], SeqGap)  # refused on its own, nothing of it applied
    assert await text_of(ctxs[3], docs[3]) == ("", 0)
    for i, (ctx, doc) in enumerate(zip(ctxs, docs, strict=True)):
        if i != 3:
            assert results[i].revision == 1
            assert await text_of(ctx, doc) == (f"text {i}", 1)
    if db.engines().is_sqlite:
        assert sum(groups) == len(ctxs) and len(groups) < len(ctxs)  # grouped: fewer commits than batches
    else:
        assert groups == []  # no lane on PostgreSQL


async def test_commit_now_writes_through_the_lane_on_sqlite(
    klass: Klass, session: AsyncSession, groups: list[int]
) -> None:
    """Bookkeeping writes (a credential's last use) go through the lane too: one hop on SQLite's writer."""
    from sqlalchemy import select, update

    from scribetree.courses.models import Course

    course_id = klass.course.id
    await db.commit_now(
        lambda conn: conn.execute(update(Course.__table__).where(Course.id == course_id).values(title="Renamed"))
    )
    async with db.unit_of_work(write=False) as r:
        assert (await r.execute(select(Course.title).where(Course.id == course_id))).scalar_one() == "Renamed"
    assert groups == ([1] if db.engines().is_sqlite else [])


async def test_while_another_connection_holds_the_write_lock_the_loop_goes_on(
    klass: Klass, database_url: str, groups: list[int]
) -> None:
    """A group runs on the event loop's thread only when the write lock is free: waiting for another writer (another
    process, a CLI command) happens on the connection's thread, and the loop keeps serving meanwhile."""
    import sqlite3
    import threading
    import time

    from sqlalchemy import select, update

    from scribetree.courses.models import Course

    course_id = klass.course.id
    rename = update(Course.__table__).where(Course.id == course_id).values(title="After the other writer")
    ran_on: list[int] = []

    def script(conn: Any) -> None:
        ran_on.append(threading.get_ident())
        conn.execute(rename)

    if not db.engines().is_sqlite:
        await db.commit_now(lambda conn: conn.execute(rename))
        assert groups == []  # no lane on PostgreSQL
        return
    other = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction
        pending = asyncio.create_task(db.commit_now(script))
        started = time.monotonic()
        ticks = 0
        while time.monotonic() - started < 0.3:
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks >= 3, ticks  # the loop was not stopped by the wait for the lock (blocked, it would tick once)
        assert not pending.done()
        other.execute("COMMIT")
        await asyncio.wait_for(pending, 10)
    finally:
        other.close()
    async with db.unit_of_work(write=False) as r:
        assert (await r.execute(select(Course.title).where(Course.id == course_id))).scalar_one() == (
            "After the other writer"
        )
    assert groups == [1]
    assert ran_on[0] != threading.get_ident()  # waited for and ran on the connection's thread

    await db.commit_now(lambda conn: ran_on.append(threading.get_ident()))
    assert ran_on[1] == threading.get_ident()  # the lock free: on the loop's own thread


async def test_a_group_is_at_most_group_max_scripts(klass: Klass, groups: list[int]) -> None:
    """A group runs on the loop's thread, which waits meanwhile: a crowd of scripts is split into groups of at most
    ``GROUP_MAX``, with the loop handed back between them; every script still commits."""
    from sqlalchemy import func, select

    from scribetree.courses.models import Course

    marker = Course.__table__
    n = db._WriterLane.GROUP_MAX + 6
    course_id = klass.course.id

    def touch(i: int) -> Any:
        return lambda conn: conn.execute(marker.update().where(marker.c.id == course_id).values(title=f"t{i}"))

    await asyncio.gather(*(db.commit_now(touch(i)) for i in range(n)))
    async with db.unit_of_work(write=False) as r:
        title = (await r.execute(select(func.max(Course.title)).where(Course.id == course_id))).scalar_one()
    if db.engines().is_sqlite:
        assert title == f"t{n - 1}"  # in order: the last one's write is the one that stays
        assert groups == [db._WriterLane.GROUP_MAX, 6]
    else:  # no lane: concurrent units of work, in whatever order their row locks are granted
        assert title.startswith("t") and groups == []
