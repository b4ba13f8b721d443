"""Replay: manifest, states and pages of batches; the rebuilt text equals the recorded state at every step."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.integrity.replay import replay_steps
from scribetree.writing import ops
from scribetree.writing.models import EditBatch
from tests.integrity.replay_helpers import crafted
from tests.writing.conftest import ClientFor, Klass

API = "/api/v1/documents"


class TestReplayCorrectness:
    async def test_every_step_matches_the_recorded_hash_and_text(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = await crafted(c, klass.assignment.id)
        manifest = (await c.get(f"{API}/{w.id}/replay")).json()
        assert manifest["revision_to"] == w.revision
        assert manifest["restores"] and manifest["restores"][0]["revision"] in w.seen
        # play it the way replay.js does: a state, then windows of batches; a restore is a jump to its state
        state = (await c.get(f"{API}/{w.id}/replay/state", params={"revision": 0})).json()
        text, revision, steps, after = state["text"], 0, 0, 0
        while after is not None:
            page = (await c.get(f"{API}/{w.id}/replay/batches", params={"after": after, "limit": 4})).json()
            for batch in page["items"]:
                if batch["base_revision"] != revision:
                    jump = await c.get(f"{API}/{w.id}/replay/state", params={"revision": batch["base_revision"]})
                    text, revision = jump.json()["text"], batch["base_revision"]
                    assert ops.content_hash(text) == jump.json()["content_hash"]
                (step,) = replay_steps(text, [batch])
                assert step.ok, f"revision {step.revision}: replayed text differs from the recorded one"
                text, revision = step.text, step.revision
                assert text == w.seen[revision]
                steps += 1
            after = page["next_after"]
        assert text == w.text and revision == w.revision
        assert steps == manifest["batch_count"]

    async def test_state_at_every_revision_is_what_the_writer_saw(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = await crafted(c, klass.assignment.id)
        for revision, seen in w.seen.items():
            r = await c.get(f"{API}/{w.id}/replay/state", params={"revision": revision})
            assert r.status_code == 200
            assert r.json()["text"] == seen, revision
            assert r.json()["content_hash"] == ops.content_hash(seen)

    def test_a_wrong_op_is_caught_by_the_hash(self) -> None:
        good = {"ops": [{"kind": "insert", "t": 0, "pos": 0, "text": "é"}], "revision": 1}
        good["content_hash"] = ops.content_hash("é")
        assert next(replay_steps("", [good])).ok
        bad = {**good, "ops": [{"kind": "insert", "t": 0, "pos": 0, "text": "e\u0301"}]}
        assert not next(replay_steps("", [bad])).ok


class TestManifest:
    async def test_markers(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = await crafted(c, klass.assignment.id)
        # move the second half of the log an hour later: one gap
        doc_id = uuid.UUID(w.id)
        await session.rollback()
        later = (
            await session.execute(
                select(EditBatch.id, EditBatch.received_at).where(
                    EditBatch.document_id == doc_id, EditBatch.revision > 5
                )
            )
        ).all()
        for batch_id, at in later:
            moved = clock.as_utc(at) + timedelta(hours=1)
            await session.execute(update(EditBatch).where(EditBatch.id == batch_id).values(received_at=moved))
        await session.commit()
        m = (await c.get(f"{API}/{w.id}/replay", params={"gap_minutes": 30})).json()
        assert [g["after_revision"] for g in m["gaps"]] == [5]
        assert 59 <= m["gaps"][0]["minutes"] <= 61
        big = [p for p in m["pastes"] if p["size"] == len(" שלום עולם 東京タワー <b>&amp;</b>")]
        assert big and big[0]["revision"] == 3 and big[0]["seen_in_doc"] is False
        assert m["pastes_total"] >= 2 and len(m["pastes"]) == m["pastes_total"]
        assert m["event_count"] == m["batch_count"] + 1  # the focus-only batch
        assert m["sessions"] and m["ticks"][-1]["revision"] == w.revision
        assert m["started_at"] <= m["ended_at"]
        assert (await c.get(f"{API}/{w.id}/replay", params={"gap_minutes": 0})).json()["error"] == (
            "InvalidReplayQuery"
        )


class TestAccessAndInput:
    async def test_who_may_replay(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        student = await client_for(klass.student, klass.tenant)
        classmate = await client_for(klass.classmate, klass.tenant)
        staff = await client_for(klass.instructor, klass.tenant)
        w = await crafted(student, klass.assignment.id)
        paths = ("/replay", "/replay/state?revision=1", "/replay/batches?after=0")
        for path in paths:
            assert (await classmate.get(f"{API}/{w.id}{path}")).status_code == 404, path
            assert (await student.get(f"{API}/{uuid.uuid4()}{path}")).status_code == 404, path
            assert (await staff.get(f"{API}/{w.id}{path}")).status_code == 200, path
        await session.rollback()
        rows = (
            await session.execute(
                select(AuditEvent.details).where(AuditEvent.action == "document.viewed", AuditEvent.target_id == w.id)
            )
        ).scalars()
        assert sorted(d["what"] for d in rows) == ["replay", "replay_batches", "replay_state"]

    @pytest.mark.parametrize(
        ("path", "code"),
        [
            ("/replay/state?revision=999", "RevisionOutOfRange"),
            ("/replay/state?revision=-1", "ValidationError"),
            ("/replay/state?revision=x", "ValidationError"),
            ("/replay/batches?after=999", "RevisionOutOfRange"),
            ("/replay/batches?limit=0", "ValidationError"),
            ("/replay/batches?limit=1001", "ValidationError"),
            ("/replay?gap_minutes=99999", "InvalidReplayQuery"),
        ],
    )
    async def test_bad_input_is_422(self, klass: Klass, client_for: ClientFor, path: str, code: str) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = await crafted(c, klass.assignment.id)
        r = await c.get(f"{API}/{w.id}{path}")
        assert r.status_code == 422, r.text
        assert r.json()["error"] == code
        assert r.json()["detail"]
