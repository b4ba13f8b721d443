"""The batch's write transaction (run in one step on SQLite's writer, core.db.run_in_transaction) belongs to the
unit of work: rolled back with it, committed with it, and the text cache learns a new text only after the commit."""

from __future__ import annotations

import uuid

from scribetree.core import db
from scribetree.writing import ops
from scribetree.writing.schemas import BatchCreate
from scribetree.writing.service import _texts
from scribetree.writing.service import document as document_service
from tests.factories.writing import batch_body, ins
from tests.writing.conftest import CtxFor, Klass


async def test_rollback_leaves_nothing_and_commit_keeps_it(klass: Klass, ctx_for: CtxFor) -> None:
    ctx = await ctx_for(klass.student, klass.tenant)
    async with db.unit_of_work() as s:
        doc_id = (await document_service.open_mine(s, ctx, klass.assignment.id)).id
    sid = uuid.uuid4()
    body = BatchCreate.model_validate(batch_body("", [ins(0, "kept?")], seq=1, base_revision=0, session_id=sid)[0])

    s = db.make_session(write=True)
    try:
        accepted = await document_service.apply_batch(s, ctx, doc_id, body)
        assert accepted.revision == 1
        await db.rollback(s)  # the request failed after the batch was applied
    finally:
        await s.close()
    assert _texts.get(doc_id, 1, ops.content_hash("kept?")) is None  # nothing learnt from a rolled-back batch
    async with db.unit_of_work(write=False) as r:
        doc = await document_service.get(r, ctx, doc_id)
        assert (doc.text, doc.revision) == ("", 0)

    async with db.unit_of_work() as s:  # the same batch again, now committed
        assert (await document_service.apply_batch(s, ctx, doc_id, body)).replayed is False
    layout = _texts.get(doc_id, 1, ops.content_hash("kept?"))
    assert layout is not None and layout.text == "kept?"
    async with db.unit_of_work(write=False) as r:
        doc = await document_service.get(r, ctx, doc_id)
        assert (doc.text, doc.revision, doc.content_hash) == ("kept?", 1, ops.content_hash("kept?"))
