"""Writing announces activity on the assignment's channel after its unit of work commits (docs/live.md)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from scribetree.core import pubsub
from tests.factories.writing import batch_body, dele, ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, send
from tests.writing.test_history import Writer


async def drain(sub, timeout: float = 0.2) -> list[dict]:
    out = []
    while True:
        try:
            out.append(await asyncio.wait_for(anext(sub), timeout))
        except TimeoutError:
            return out


class TestActivity:
    async def test_each_accepted_batch_is_announced_once_after_commit(
        self, klass: Klass, client_for: ClientFor, embedded: None
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        channel = pubsub.activity_channel(klass.tenant.id, klass.assignment.id)
        async with pubsub.subscribe(channel) as sub:
            w = Writer(c, await open_doc(c, klass.assignment.id))
            await w.send([ins(0, "One two three.")])
            await w.send([ins(len(w.text), " Four five"), dele(0, 4)])
            got = await drain(sub)
        assert [m["type"] for m in got] == ["activity", "activity"]
        first, second = got
        assert first == {
            "type": "activity",
            "document_id": w.id,
            "assignment_id": str(klass.assignment.id),
            "user_id": str(klass.student.id),
            "revision": 1,
            "word_count": 3,
            "chars_inserted": 14,
            "chars_deleted": 0,
            "at": first["at"],
            "channel": channel,
        }
        assert datetime.fromisoformat(first["at"]).tzinfo is not None
        assert (second["revision"], second["word_count"], second["chars_inserted"], second["chars_deleted"]) == (
            2,
            4,
            10,
            4,
        )

    async def test_refused_and_replayed_batches_announce_nothing(
        self, klass: Klass, client_for: ClientFor, embedded: None
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "Hello.")])
        channel = pubsub.activity_channel(klass.tenant.id, klass.assignment.id)
        async with pubsub.subscribe(channel) as sub:
            replay, _ = batch_body("", [ins(0, "Hello.")], seq=1, base_revision=0, session_id=w.sid)
            r = await send(c, w.id, replay)
            assert r.status_code == 200 and r.json()["replayed"] is True
            stale, _ = batch_body("", [ins(0, "X")], seq=2, base_revision=0, session_id=w.sid)
            assert (await send(c, w.id, stale)).status_code == 409
            bad_hash, _ = batch_body(
                w.text, [ins(0, "X")], seq=2, base_revision=w.revision, session_id=w.sid, content_hash="0" * 64
            )
            assert (await send(c, w.id, bad_hash)).status_code == 422
            other = await client_for(klass.classmate, klass.tenant)
            body, _ = batch_body(w.text, [ins(0, "X")], seq=2, base_revision=w.revision, session_id=uuid.uuid4())
            assert (await send(other, w.id, body)).status_code == 404
            assert await drain(sub) == []

    async def test_submission_is_announced(self, klass: Klass, client_for: ClientFor, embedded: None) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "My essay, in full.")])
        channel = pubsub.activity_channel(klass.tenant.id, klass.assignment.id)
        async with pubsub.subscribe(channel) as sub:
            r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision + 5})
            assert r.status_code == 409  # refused: nothing announced
            r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
            assert r.status_code == 201, r.text
            got = await drain(sub)
        assert len(got) == 1
        m = got[0]
        assert (m["type"], m["document_id"], m["user_id"], m["attempt"], m["late"], m["word_count"]) == (
            "submitted",
            w.id,
            str(klass.student.id),
            1,
            False,
            4,
        )
        assert m["submission_id"] == r.json()["id"] and m["assignment_id"] == str(klass.assignment.id)

    async def test_other_assignments_channels_hear_nothing(
        self, klass: Klass, client_for: ClientFor, embedded: None
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        other_channel = pubsub.activity_channel(klass.tenant.id, uuid.uuid4())
        async with pubsub.subscribe(other_channel) as sub:
            w = Writer(c, await open_doc(c, klass.assignment.id))
            await w.send([ins(0, "Hello.")])
            assert await drain(sub) == []
