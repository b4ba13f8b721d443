"""A batch's write transaction on PostgreSQL: three round trips (BEGIN, lock and read, the writes with COMMIT:
psycopg's pipeline mode), and the state read with the lock is never stale, even when the batch waited for that
lock.

Through the async driver every statement is a round trip and a few trips through the event loop; the batch is
the product's hottest request. ``BatchStore`` with ``combine`` reads the state in the statement that locks the
row and sends the writes as one statement (``writing.repository``). SQLite keeps its separate statements (no
network there, and no data-modifying ``WITH``), so the same tests check its count too.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq
from sqlalchemy import Engine, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import cache_epochs, db
from scribetree.writing import ops
from scribetree.writing.models import Document
from tests.factories.writing import batch_body, ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, send, state

BATCH_TABLES = ("documents", "document_chunks", "edit_batches", "writing_sessions")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement any engine sends while the test runs (SQLite's writer lane has an engine of its own)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


async def test_a_batch_writes_in_one_statement_on_postgresql(
    klass: Klass, client_for: ClientFor, session: AsyncSession, statements: list[str]
) -> None:
    c = await client_for(klass.student, klass.tenant)
    doc = await open_doc(c, klass.assignment.id)
    sid = uuid.uuid4()
    first, text1 = batch_body("", [ins(0, "Hello")], seq=1, base_revision=0, session_id=sid)
    assert (await send(c, doc["id"], first)).status_code == 200  # starts the writing session, warms the caches
    statements.clear()
    second, text2 = batch_body(text1, [ins(5, " world")], seq=2, base_revision=1, session_id=sid)
    r = await send(c, doc["id"], second)
    assert r.status_code == 200, r.text
    batch = [s for s in statements if any(t in s for t in BATCH_TABLES)]
    if db.engines().is_sqlite:
        assert len(batch) == 5, batch  # state, then batch, chunk, document, writing session
    else:
        assert len(batch) == 2, batch  # lock and read, then every write in one statement
        assert "FOR UPDATE" in batch[0]
        assert batch[1].lstrip().startswith("WITH") and all(t in batch[1] for t in BATCH_TABLES[1:])
    assert await state(session, doc["id"]) == (text2, 2, ops.content_hash(text2), 2)


async def test_a_resend_that_waited_for_the_lock_is_answered_as_a_replay(
    klass: Klass, client_for: ClientFor, session: AsyncSession
) -> None:
    """The editor resends a batch whose answer it did not get while the first copy is still in flight. All copies
    wait for the document (another transaction holds it); the first applies, and each later copy, whose
    statement began before that commit, must see the applied batch and answer ``replayed``, not 409 or 500."""
    c = await client_for(klass.student, klass.tenant)
    doc = await open_doc(c, klass.assignment.id)
    doc_id = uuid.UUID(doc["id"])
    body, text_ = batch_body("", [ins(0, "once")], seq=1, base_revision=0, session_id=uuid.uuid4())
    copies = 3
    async with db.unit_of_work() as holder:
        if db.engines().is_sqlite:
            touch = update(Document).where(Document.id == doc_id).values(word_count=Document.word_count)
            await holder.execute(touch)  # takes SQLite's single writer
        else:
            await holder.execute(select(Document.id).where(Document.id == doc_id).with_for_update())
        sending = asyncio.gather(*(send(c, doc["id"], body) for _ in range(copies)))
        await _until_waiting(copies)
    results = await sending
    assert [r.status_code for r in results] == [200] * copies, [r.text for r in results]
    assert sorted(r.json()["replayed"] for r in results) == [False] + [True] * (copies - 1)
    assert await state(session, doc["id"]) == (text_, 1, ops.content_hash(text_), 1)


async def _until_waiting(n: int) -> None:
    """PostgreSQL: until ``n`` backends wait for a lock. SQLite: a moment (the copies queue for the writer)."""
    if db.engines().is_sqlite:
        await asyncio.sleep(0.3)
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(20):
        while True:
            async with db.unit_of_work(write=False) as r:
                if (await r.execute(query)).scalar_one() >= n:
                    return
            await asyncio.sleep(0.02)


@contextlib.contextmanager
def protocol_trace(tmp_path: Path) -> Iterator[list[str]]:
    """PostgreSQL: libpq's own trace of every message the client sends on connections checked out meanwhile."""
    messages: list[str] = []
    engine = db.engines().write.sync_engine
    traced: list[Any] = []
    out = (tmp_path / "libpq.trace").open("w")

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        pgconn = dbapi_connection.driver_connection.pgconn
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        traced.append(pgconn)

    event.listen(engine, "checkout", checkout)
    try:
        yield messages
    finally:
        event.remove(engine, "checkout", checkout)
        for pgconn in traced:
            pgconn.untrace()
        out.close()
        # "F <length> <message> ..." for what the client (frontend) sent
        messages.extend(
            line.split("\t")[2]
            for line in (tmp_path / "libpq.trace").read_text().splitlines()
            if line.startswith("F\t")
        )


async def test_a_batch_is_three_round_trips_on_postgresql(
    klass: Klass, client_for: ClientFor, session: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each Sync (end of an extended-protocol exchange, or of a pipeline) and each simple Query waits for the
    server's answer: a round trip. psycopg sends BEGIN and waits for it; then the lock and read; then the writes
    and COMMIT together (before: COMMIT on its own, 4)."""
    if db.engines().is_sqlite:
        pytest.skip("SQLite has no network round trips")
    monkeypatch.setattr(cache_epochs, "CACHE_EPOCH_CHECK_SECONDS", 3600.0)  # no check of other processes' changes
    c = await client_for(klass.student, klass.tenant)
    doc = await open_doc(c, klass.assignment.id)
    sid = uuid.uuid4()
    first, text1 = batch_body("", [ins(0, "Hello")], seq=1, base_revision=0, session_id=sid)
    assert (await send(c, doc["id"], first)).status_code == 200  # warms the sign-in and access caches
    second, text2 = batch_body(text1, [ins(5, " world")], seq=2, base_revision=1, session_id=sid)
    with protocol_trace(tmp_path) as sent:
        r = await send(c, doc["id"], second)
    assert r.status_code == 200, r.text
    waits = [m for m in sent if m in ("Sync", "Query")]
    assert waits == ["Query", "Sync", "Sync"], sent  # BEGIN; lock and read; the writes and COMMIT
    last = sent[sent.index("Sync") + 1 :]  # the third exchange: the writes, then COMMIT
    assert last.count("Execute") == 2 and "Sync" in last, sent
    assert await state(session, doc["id"]) == (text2, 2, ops.content_hash(text2), 2)
