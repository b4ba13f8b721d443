"""``BatchStore``: the batch path's prebuilt statements bind every value, the tenant included (STYLE N1/N3).

What they write is what the rest of the domain reads (ORM defaults and ``onupdate`` still apply), and a store of
another tenant neither sees nor changes anything, whichever statement it runs.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, db
from scribetree.tenancy.models import Tenant
from scribetree.writing import ops
from scribetree.writing.models import (
    ORD_GAP,
    Document,
    DocumentChunk,
    DocumentVersion,
    EditBatch,
    VersionKind,
    WritingSession,
)
from scribetree.writing.repository import BatchStore
from tests.factories.writing import create_document
from tests.writing.conftest import Klass

COUNTS = {"batches": 1, "chars_inserted": 5, "chars_deleted": 1, "words_added": 1, "words_removed": 0, "pastes": 0}


async def _script(script: Any) -> Any:
    async with db.unit_of_work() as s:
        return await db.run_in_transaction(s, script)


@pytest.mark.parametrize("combine", [False, True], ids=["each", "combined"])
async def test_what_the_store_writes_is_what_the_domain_reads(
    klass: Klass, session: AsyncSession, combine: bool
) -> None:
    doc = await create_document(session, klass.assignment, owner=klass.student, text="Hello")
    await session.commit()
    tenant_id, doc_id, author = klass.tenant.id, doc.id, klass.student.id
    sid, t0 = uuid.uuid4(), clock.utcnow() - timedelta(minutes=1)

    def first(conn: Connection) -> Any:
        store = BatchStore(conn, tenant_id, combine=combine)
        state = store.lock_state(doc_id, sid, author)
        assert state is not None
        assert (state.id, state.assignment_id, state.revision, state.content_hash) == (
            doc_id,
            klass.assignment.id,
            0,
            ops.content_hash("Hello"),
        )
        assert (state.last_seq, state.ws_id) == (None, None)
        assert store.chunks(doc_id) == [(ORD_GAP, "Hello")]
        store.append_batch(
            document_id=doc_id,
            session_id=sid,
            seq=1,
            base_revision=0,
            revision=1,
            content_hash=ops.content_hash("Hello!"),
            author_user_id=author,
            ops=[{"kind": "insert", "t": 1, "pos": 5, "text": "!"}],
            chars_inserted=1,
            chars_deleted=0,
            received_at=t0,
        )
        store.write_chunks(doc_id, update_=[(ORD_GAP, "Hello!")], insert_=[(2 * ORD_GAP, " More")], delete_=[])
        store.set_state(doc_id, last_activity_at=t0, revision=1, content_hash=ops.content_hash("Hello! More"))
        store.add_version(
            document_id=doc_id,
            revision=1,
            kind=VersionKind.auto,
            text="Hello! More",
            content_hash=ops.content_hash("Hello! More"),
            word_count=2,
            created_at=t0,
        )
        store.start_writing_session(
            document_id=doc_id, user_id=author, started_at=t0, ended_at=t0, active_seconds=0, **COUNTS
        )
        return store.lock_state(doc_id, sid, author)

    state = await _script(first)
    assert (state.revision, state.last_seq, state.last_revision) == (1, 1, 1)
    assert state.ws_id is not None and clock.as_utc(state.ws_ended_at) == t0

    t1 = t0 + timedelta(seconds=30)

    def second(conn: Connection) -> Any:
        store = BatchStore(conn, tenant_id, combine=combine)
        assert store.by_seq(doc_id, sid, 1) == state[8:12]  # seq, base_revision, revision, content_hash
        assert store.by_seq(doc_id, sid, 2) is None
        store.extend_writing_session(state.ws_id, t1, active_seconds=30, **COUNTS)
        store.set_state(doc_id, last_activity_at=t1)  # another set of columns: its own statement
        store.write_chunks(doc_id, update_=[(ORD_GAP, "Bye")], insert_=[], delete_=[2 * ORD_GAP])
        store.flush()
        return store.chunks(doc_id)

    assert await _script(second) == [(ORD_GAP, "Bye")]

    async with db.unit_of_work(write=False) as r:
        stored = (await r.execute(select(Document).where(Document.id == doc_id))).scalar_one()
        assert (stored.text, stored.revision, stored.last_activity_at) == ("Bye", 1, t1)
        assert stored.modified_at is not None  # the column's onupdate, as through the ORM
        batch = (await r.execute(select(EditBatch).where(EditBatch.document_id == doc_id))).scalar_one()
        assert batch.id is not None and batch.id.version == 7  # the column default (uuid7)
        assert batch.ops == [{"kind": "insert", "t": 1, "pos": 5, "text": "!"}]  # JSON round trip
        assert (batch.tenant_id, batch.received_at) == (tenant_id, t0)
        versions = select(DocumentVersion).where(DocumentVersion.document_id == doc_id, DocumentVersion.revision == 1)
        version = (await r.execute(versions)).scalar_one()
        assert (version.tenant_id, version.text, version.kind) == (tenant_id, "Hello! More", VersionKind.auto)
        ws = (await r.execute(select(WritingSession).where(WritingSession.document_id == doc_id))).scalar_one()
        assert ws.id is not None and ws.id.version == 7  # the column default, bound by the store when combining
        assert (ws.tenant_id, ws.started_at, ws.ended_at, ws.active_seconds) == (tenant_id, t0, t1, 30)
        assert (ws.batches, ws.chars_inserted, ws.chars_deleted, ws.words_added) == (2, 10, 2, 2)


@pytest.mark.parametrize("combine", [False, True], ids=["each", "combined"])
async def test_another_tenants_store_sees_and_changes_nothing(
    klass: Klass, other_tenant: Tenant, session: AsyncSession, combine: bool
) -> None:
    doc = await create_document(session, klass.assignment, owner=klass.student, text="Mine")
    t0 = clock.utcnow()
    ws = WritingSession(
        tenant_id=klass.tenant.id, document_id=doc.id, user_id=klass.student.id, started_at=t0, ended_at=t0
    )
    session.add(ws)
    await session.flush()
    sid = uuid.uuid4()
    session.add(
        EditBatch(
            tenant_id=klass.tenant.id,
            document_id=doc.id,
            session_id=sid,
            seq=1,
            base_revision=0,
            revision=0,
            content_hash=doc.content_hash,
            author_user_id=klass.student.id,
            ops=[],
        )
    )
    await session.commit()
    doc_id, ws_id, author, foreign = doc.id, ws.id, klass.student.id, other_tenant.id

    def trespass(conn: Connection) -> None:
        store = BatchStore(conn, foreign, combine=combine)
        assert store.lock_state(doc_id, sid, author) is None
        assert store.by_seq(doc_id, sid, 1) is None
        assert store.chunks(doc_id) == []
        store.write_chunks(doc_id, update_=[(ORD_GAP, "theirs")], insert_=[], delete_=[ORD_GAP])
        store.write_chunks(doc_id, update_=[], insert_=[], delete_=[], delete_all=True)
        store.set_state(doc_id, revision=99, content_hash="x", last_activity_at=t0)
        store.extend_writing_session(ws_id, t0 + timedelta(hours=1), active_seconds=99, **COUNTS)
        store.flush()

    await _script(trespass)

    async with db.unit_of_work(write=False) as r:
        stored = (await r.execute(select(Document).where(Document.id == doc_id))).scalar_one()
        assert (stored.text, stored.revision, stored.last_activity_at) == ("Mine", 0, None)
        chunks = select(DocumentChunk.ord, DocumentChunk.text).where(DocumentChunk.document_id == doc_id)
        assert [tuple(c) for c in (await r.execute(chunks)).all()] == [(ORD_GAP, "Mine")]
        kept = (await r.execute(select(WritingSession).where(WritingSession.id == ws_id))).scalar_one()
        assert (kept.ended_at, kept.active_seconds, kept.batches) == (t0, 0, 0)


@pytest.mark.parametrize("combine", [False, True], ids=["each", "combined"])
async def test_two_changes_to_one_row_are_both_applied_in_order(
    klass: Klass, session: AsyncSession, combine: bool
) -> None:
    """PostgreSQL applies only one of two changes to the same row within one statement: a combining store sends
    the second in a statement of its own. Each pair below is wrong whichever one change alone were applied."""
    doc = await create_document(session, klass.assignment, owner=klass.student, text="Hi")
    t0 = clock.utcnow()
    ws = WritingSession(
        tenant_id=klass.tenant.id, document_id=doc.id, user_id=klass.student.id, started_at=t0, ended_at=t0
    )
    session.add(ws)
    await session.commit()
    tenant_id, doc_id, ws_id = klass.tenant.id, doc.id, ws.id

    def script(conn: Connection) -> None:
        store = BatchStore(conn, tenant_id, combine=combine)
        store.set_state(doc_id, word_count=7)
        store.extend_writing_session(ws_id, t0 + timedelta(seconds=1), active_seconds=1, **COUNTS)
        store.write_chunks(doc_id, update_=[(ORD_GAP, "first")], insert_=[], delete_=[])
        store.write_chunks(doc_id, update_=[(ORD_GAP, "second")], insert_=[], delete_=[])
        store.set_state(doc_id, last_activity_at=t0)
        store.extend_writing_session(ws_id, t0 + timedelta(seconds=2), active_seconds=1, **COUNTS)
        store.flush()

    await _script(script)
    async with db.unit_of_work(write=False) as r:
        stored = (await r.execute(select(Document).where(Document.id == doc_id))).scalar_one()
        assert (stored.text, stored.word_count, stored.last_activity_at) == ("second", 7, t0)
        kept = (await r.execute(select(WritingSession).where(WritingSession.id == ws_id))).scalar_one()
        assert (kept.ended_at, kept.active_seconds, kept.batches) == (t0 + timedelta(seconds=2), 2, 2)


async def test_a_store_that_commits_keeps_its_writes_whatever_the_request_does_next(
    klass: Klass, session: AsyncSession
) -> None:
    """``commit=True`` (the HTTP batch route: ``run_committed``): the batch is committed with its writes, so a
    failure later in the request cannot take it back (on PostgreSQL COMMIT goes with the writes; SQLite's
    writer lane commits its group). Without it, the unit of work's rollback takes the writes back."""
    doc = await create_document(session, klass.assignment, owner=klass.student, text="Kept")
    await session.commit()
    tenant_id, doc_id, author = klass.tenant.id, doc.id, klass.student.id

    def write(commit: bool, seq: int) -> Any:
        def script(conn: Connection) -> None:
            store = BatchStore(conn, tenant_id, combine=True, commit=commit)
            assert store.lock_state(doc_id, sid, author) is not None
            store.append_batch(
                document_id=doc_id,
                session_id=sid,
                seq=seq,
                base_revision=0,
                revision=0,
                content_hash=ops.content_hash("Kept"),
                author_user_id=author,
                ops=[{"kind": "focus", "t": seq, "state": "lost"}],
                chars_inserted=0,
                chars_deleted=0,
                received_at=clock.utcnow(),
            )
            store.set_state(doc_id, last_activity_at=clock.utcnow())
            store.finish()

        return script

    sid = uuid.uuid4()
    for commit, seq in ((True, 1), (False, 2)):
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as s:
                await (db.run_committed if commit else db.run_in_transaction)(s, write(commit, seq))
                raise RuntimeError("the request fails after the batch")
    async with db.unit_of_work(write=False) as r:
        seqs = (await r.execute(select(EditBatch.seq).where(EditBatch.document_id == doc_id))).scalars().all()
    assert seqs == [1]
