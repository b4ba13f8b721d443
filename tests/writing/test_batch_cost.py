"""The batch path's cost does not grow with the document's history: same statements, no log scan.

(Timing belongs to the benchmark in bench/; here we pin what the database is asked to do.)
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import db
from scribetree.core.config import settings
from scribetree.writing import ops
from scribetree.writing.models import DocumentVersion, EditBatch, VersionKind
from tests.factories.writing import batch_body, create_document, ins
from tests.sql_log import statements
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, send


def shape(sql: str) -> str:
    """A statement without its literal values, to compare two runs."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


class TestBatchCost:
    async def test_a_long_history_changes_nothing_the_batch_asks_for(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, engines: db.Engines
    ) -> None:
        long_text = " ".join(f"word{i % 997}" for i in range(20_000))  # a 20,000-word document
        fresh = await create_document(session, klass.assignment, owner=klass.student)
        other_assignment_doc = await create_document(
            session,
            await _assignment_like(session, klass),
            owner=klass.student,
            text=long_text,
        )
        sid = uuid.uuid4()
        # 3,000 earlier batches of this very session on the long document (revision numbers only; the rows are
        # never read by the batch path, which is the point)
        await session.execute(
            insert(EditBatch),
            [
                {
                    "id": uuid.uuid4(),
                    "tenant_id": klass.tenant.id,
                    "document_id": other_assignment_doc.id,
                    "session_id": sid,
                    "seq": n,
                    "base_revision": 0,
                    "revision": 0,
                    "content_hash": other_assignment_doc.content_hash,
                    "author_user_id": klass.student.id,
                    "ops": [{"kind": "focus", "t": n, "state": "lost"}],
                    "chars_inserted": 0,
                    "chars_deleted": 0,
                }
                for n in range(1, 3001)
            ],
        )
        await session.commit()
        c = await client_for(klass.student, klass.tenant)
        # warm up (first request of a client touches its session once)
        await c.get(f"/api/v1/documents/{fresh.id}")

        runs = {}
        for name, doc, seq, text in (
            ("fresh", fresh, 1, ""),
            ("long", other_assignment_doc, 3001, long_text),
        ):
            body, _ = batch_body(text, [ins(len(text), " and more")], seq=seq, base_revision=0, session_id=sid)
            with statements() as seen:
                r = await send(c, str(doc.id), body)
            assert r.status_code == 200, r.text
            runs[name] = seen
        assert [shape(s) for s in runs["fresh"]] == [shape(s) for s in runs["long"]]
        log_reads = [s for s in runs["long"] if s.startswith("SELECT") and "FROM edit_batches" in s]
        assert len(log_reads) == 1, log_reads
        assert "edit_batches.session_id =" in log_reads[0] and "LIMIT" in log_reads[0]
        assert not [s for s in runs["long"] if "document_versions" in s and s.startswith("SELECT")]
        assert len(runs["long"]) <= 16, runs["long"]
        doc_reads = [s for s in runs["long"] if s.startswith("SELECT documents.")]
        # one read of who owns it (the access check, before the write transaction), one of the counters (with the
        # session's last batch and the writing session); on PostgreSQL that one also locks the row
        assert not [s for s in doc_reads if "document_chunks" in s], "the batch path never loads documents.text"
        assert len([s for s in doc_reads if "documents.revision" in s]) == 1, doc_reads
        locked = [s for s in doc_reads if "FOR UPDATE" in s]
        assert len(doc_reads) == 2, doc_reads
        if engines.is_sqlite:  # SQLite's writer lock serialises two tabs
            assert not locked, doc_reads
        else:  # the row lock that serialises two tabs, taken by the read of the counters
            assert len(locked) == 1 and "documents.revision" in locked[0], doc_reads
        # never the whole text: one chunk rewritten, nothing inserted or deleted, documents.text is no column (on
        # PostgreSQL the writes are one statement: ``WITH w0 AS (INSERT ...), w1 AS (UPDATE ...) ...``)
        writes = [s for s in runs["long"] if s.startswith(("INSERT", "UPDATE", "DELETE", "WITH"))]
        chunk_writes = [w for s in writes for w in re.findall(r"(?:INSERT INTO|UPDATE|DELETE FROM) document_chunks", s)]
        assert chunk_writes == ["UPDATE document_chunks"], writes
        assert ops.word_count(long_text) == 20_000

        # The next batch finds the text in the process's cache: no chunk is read, nothing grows.
        body, _ = batch_body(long_text + " and more", [ins(0, "So ")], seq=3002, base_revision=1, session_id=sid)
        with statements() as again:
            r = await send(c, str(other_assignment_doc.id), body)
        assert r.status_code == 200 and r.json()["revision"] == 2, r.text
        assert not [s for s in again if s.startswith("SELECT") and "FROM document_chunks" in s], again
        assert len(again) < len(runs["long"])


async def _assignment_like(session: AsyncSession, klass: Klass):
    from tests.factories.courses import create_assignment

    return await create_assignment(session, klass.course)


class TestListsDoNotGrowQueries:
    async def test_staff_list_and_version_list_query_counts_are_pinned(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        engines: db.Engines,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from tests.factories.courses import create_course_member
        from tests.factories.writing import create_submission, write

        # The list's computation is what is pinned here; its reuse is tested in test_submission_list_reuse.py.
        monkeypatch.setattr(settings, "SUBMISSION_LIST_REUSE_SECONDS", 0.0)
        staff = await client_for(klass.instructor, klass.tenant)
        path = f"/api/v1/assignments/{klass.assignment.id}/submissions"
        await staff.get(path)  # warm up the client's session
        with statements() as few:
            assert (await staff.get(path)).status_code == 200
        for n in range(6):
            student = await create_course_member(session, klass.course, klass.tenant)
            doc = await create_document(session, klass.assignment, owner=student)
            await write(session, doc, student, [ins(0, f"text {n}")])
            if n % 2:
                await create_submission(session, doc, student)
        await session.commit()
        with statements() as many:
            r = await staff.get(path)
        assert r.status_code == 200 and len(r.json()) == 8
        assert len(many) == len(few), many

        versions_path = f"/api/v1/documents/{doc.id}/versions"
        with statements() as one:
            assert len((await staff.get(versions_path)).json()) == 2
        for n in range(5):
            session.add(
                DocumentVersion(
                    tenant_id=doc.tenant_id,
                    document_id=doc.id,
                    revision=doc.revision,
                    kind=VersionKind.checkpoint,
                    name=f"c{n}",
                    text=doc.text,
                    content_hash=doc.content_hash,
                    word_count=doc.word_count,
                )
            )
        await session.commit()
        with statements() as more:
            assert len((await staff.get(versions_path)).json()) == 7
        assert len(more) == len(one)


class TestReloadCost:
    async def test_a_warm_reload_reads_the_document_and_its_assignment_only(
        self, klass: Klass, client_for: ClientFor
    ) -> None:
        """Opening a document again (the editor's reload) once the sign-in and access caches are warm: two SELECTs
        (the document with its text's chunks, its assignment), however many batches it has had (quoted in
        bench/RESULTS.md, where reloads wait under saturation)."""
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        text, revision, sid = doc["text"], doc["revision"], uuid.uuid4()
        counts = []
        for seq in range(1, 4):
            body, text = batch_body(
                text, [ins(len(text), f"word{seq} ")], seq=seq, base_revision=revision, session_id=sid
            )
            r = await send(c, doc["id"], body)
            assert r.status_code == 200, r.text
            revision = r.json()["revision"]
            await c.get(f"/api/v1/documents/{doc['id']}")  # warms what the reload reads
            with statements() as seen:
                r = await c.get(f"/api/v1/documents/{doc['id']}")
            assert r.status_code == 200 and r.json()["text"] == text
            reads = [q for q in seen if q.startswith("SELECT")]
            assert [q.split(".")[0] for q in reads] == ["SELECT documents", "SELECT assignments"], seen
            counts.append(len(seen))
        assert counts[0] == counts[-1], counts
