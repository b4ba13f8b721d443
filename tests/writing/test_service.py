"""DocumentService called directly (the API tests cover the same rules through HTTP)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import db
from scribetree.core.config import settings
from scribetree.writing import ops
from scribetree.writing.exceptions import (
    DocumentNotFound,
    DocumentTooLarge,
    SeqGap,
    StaleRevision,
    StudentsOnly,
    VersionNotFound,
)
from scribetree.writing.models import Document, DocumentVersion, VersionKind
from scribetree.writing.schemas import BatchCreate
from scribetree.writing.service import document as document_service
from tests.factories.writing import batch_body, dele, ins
from tests.writing.conftest import ClientFor, CtxFor, Klass


def batch(text: str, raw: list[dict], *, seq: int, base: int, sid: uuid.UUID) -> tuple[BatchCreate, str]:
    body, after = batch_body(text, raw, seq=seq, base_revision=base, session_id=sid)
    return BatchCreate.model_validate(body), after


class TestService:
    async def test_open_apply_replay_and_errors(self, klass: Klass, ctx_for: CtxFor) -> None:
        ctx = await ctx_for(klass.student, klass.tenant)
        sid = uuid.uuid4()
        async with db.unit_of_work() as s:
            doc = await document_service.open_mine(s, ctx, klass.assignment.id)
            doc_id = doc.id
        async with db.unit_of_work() as s:
            body, text = batch(doc.text, [ins(0, "Hello, world")], seq=1, base=0, sid=sid)
            first = await document_service.apply_batch(s, ctx, doc_id, body)
        async with db.unit_of_work() as s:
            again = await document_service.apply_batch(s, ctx, doc_id, body)
        assert (first.revision, first.replayed, again.revision, again.replayed) == (1, False, 1, True)
        async with db.unit_of_work() as s:
            with pytest.raises(SeqGap) as gap:
                await document_service.apply_batch(
                    s, ctx, doc_id, batch(text, [ins(0, "x")], seq=5, base=1, sid=sid)[0]
                )
            assert gap.value.extra == {"expected_seq": 2}
            with pytest.raises(StaleRevision) as stale:
                await document_service.apply_batch(s, ctx, doc_id, batch("", [ins(0, "x")], seq=2, base=0, sid=sid)[0])
            assert stale.value.extra["current"]["text"] == "Hello, world"
        async with db.unit_of_work(write=False) as s:
            stored = await document_service.get(s, ctx, doc_id)
            assert (stored.text, stored.revision, stored.word_count) == ("Hello, world", 1, 2)

    async def test_staff_and_strangers(self, klass: Klass, ctx_for: CtxFor) -> None:
        student_ctx = await ctx_for(klass.student, klass.tenant)
        staff_ctx = await ctx_for(klass.ta, klass.tenant)
        classmate_ctx = await ctx_for(klass.classmate, klass.tenant)
        async with db.unit_of_work() as s:
            doc_id = (await document_service.open_mine(s, student_ctx, klass.assignment.id)).id
        async with db.unit_of_work() as s:
            with pytest.raises(StudentsOnly):
                await document_service.open_mine(s, staff_ctx, klass.assignment.id)
            body, _ = batch("", [ins(0, "x")], seq=1, base=0, sid=uuid.uuid4())
            with pytest.raises(StudentsOnly):
                await document_service.apply_batch(s, staff_ctx, doc_id, body)
            with pytest.raises(DocumentNotFound):
                await document_service.apply_batch(s, classmate_ctx, doc_id, body)
            with pytest.raises(DocumentNotFound):
                await document_service.get(s, classmate_ctx, uuid.uuid4())
            assert (await document_service.get(s, staff_ctx, doc_id)).id == doc_id

    async def test_a_document_over_a_lowered_limit_can_still_shrink(
        self, klass: Klass, ctx_for: CtxFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ctx = await ctx_for(klass.student, klass.tenant)
        sid = uuid.uuid4()
        async with db.unit_of_work() as s:
            doc_id = (await document_service.open_mine(s, ctx, klass.assignment.id)).id
            body, text = batch("", [ins(0, "0123456789")], seq=1, base=0, sid=sid)
            await document_service.apply_batch(s, ctx, doc_id, body)
        monkeypatch.setattr(settings, "WRITING_MAX_DOCUMENT_CHARS", 5)
        async with db.unit_of_work() as s:
            with pytest.raises(DocumentTooLarge):
                await document_service.apply_batch(
                    s, ctx, doc_id, batch(text, [ins(0, "a")], seq=2, base=1, sid=sid)[0]
                )
        async with db.unit_of_work() as s:
            body, text = batch(text, [dele(0, 2)], seq=2, base=1, sid=sid)
            assert (await document_service.apply_batch(s, ctx, doc_id, body)).revision == 2

    async def test_rebuild_bounds(self, klass: Klass, ctx_for: CtxFor) -> None:
        ctx = await ctx_for(klass.student, klass.tenant)
        async with db.unit_of_work() as s:
            doc = await document_service.open_mine(s, ctx, klass.assignment.id)
            assert await document_service.rebuild(s, doc, 0) == ""
            for rev in (-1, 1):
                with pytest.raises(VersionNotFound):
                    await document_service.rebuild(s, doc, rev)

    async def test_opening_at_once_creates_one_document(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        tabs = [await client_for(klass.student, klass.tenant) for _ in range(3)]
        results = await asyncio.gather(*(t.post(f"/api/v1/assignments/{klass.assignment.id}/document") for t in tabs))
        assert all(r.status_code == 200 for r in results), [r.text for r in results]
        assert len({r.json()["id"] for r in results}) == 1
        await session.rollback()
        docs = (await session.execute(select(func.count()).select_from(Document))).scalar_one()
        first = (
            await session.execute(select(DocumentVersion.kind, DocumentVersion.revision, DocumentVersion.content_hash))
        ).all()
        assert docs == 1 and [tuple(r) for r in first] == [(VersionKind.auto, 0, ops.content_hash(""))]
        await session.rollback()
