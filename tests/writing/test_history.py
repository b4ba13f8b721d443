"""Versions: automatic snapshots, checkpoints, word diff, restore; rebuild of every past revision."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.config import settings
from scribetree.writing import ops
from scribetree.writing.models import Document, DocumentVersion
from scribetree.writing.service import document as document_service
from tests.factories.writing import batch_body, dele, ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, send

PIECES = ["word ", "Ünï ", "😀", "👩\u200d💻", "e\u0301", "שלום ", "東京", "한국어 ", "\r\n", "<b>", "\u200f", " "]


class Writer:
    """A client-side editor: keeps its text and revision, sends batches, remembers what it showed at each revision."""

    def __init__(self, c: httpx.AsyncClient, doc: dict[str, Any]) -> None:
        self.c, self.id = c, doc["id"]
        self.text, self.revision, self.seq, self.sid = doc["text"], doc["revision"], 0, uuid.uuid4()
        self.seen: dict[int, str] = {self.revision: self.text}

    async def send(self, raw: list[dict[str, Any]]) -> dict[str, Any]:
        self.seq += 1
        body, after = batch_body(self.text, raw, seq=self.seq, base_revision=self.revision, session_id=self.sid)
        r = await send(self.c, self.id, body)
        assert r.status_code == 200, r.text
        self.text, self.revision = after, r.json()["revision"]
        self.seen[self.revision] = self.text
        return r.json()

    async def reload(self) -> None:
        doc = (await self.c.get(f"/api/v1/documents/{self.id}")).json()
        self.text, self.revision = doc["text"], doc["revision"]
        self.seen[self.revision] = self.text


def random_ops(rng: random.Random, text: str) -> list[dict[str, Any]]:
    out, size = [], len(text)
    for _ in range(rng.randint(1, 4)):
        t = 1_764_000_000_000 + rng.randint(0, 10**6)
        roll = rng.random()
        if size and roll < 0.3:
            pos = rng.randrange(size)
            n = rng.randint(1, min(5, size - pos))
            out.append({"kind": rng.choice(["delete", "cut"]), "t": t, "pos": pos, "len": n})
            size -= n
        elif roll < 0.4:
            out.append({"kind": "focus", "t": t, "state": rng.choice(["lost", "gained"])})
        else:
            piece = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
            pos = rng.randint(0, size)
            if roll < 0.55:
                out.append({"kind": "paste", "t": t, "pos": pos, "text": piece, "seen_in_doc": rng.random() < 0.5})
            elif roll < 0.65 and size:
                n = rng.randint(0, min(3, size - pos))
                op = {"kind": rng.choice(["undo", "redo"]), "t": t, "pos": pos, "text": piece}
                if n:
                    op["len"] = n
                out.append(op)
                size -= n
            else:
                out.append({"kind": "insert", "t": t, "pos": pos, "text": piece})
            size += len(piece)
    return out


async def versions(session: AsyncSession, doc_id: str) -> list[tuple[int, str]]:
    await session.rollback()
    rows = (
        await session.execute(
            select(DocumentVersion.revision, DocumentVersion.kind)
            .where(DocumentVersion.document_id == uuid.UUID(doc_id))
            .order_by(DocumentVersion.revision, DocumentVersion.id)
        )
    ).all()
    await session.rollback()
    return [(r.revision, r.kind) for r in rows]


class TestSnapshots:
    async def test_by_amount_of_change(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "WRITING_SNAPSHOT_CHARS", 10)
        w = Writer(
            await client_for(klass.student, klass.tenant),
            await open_doc(await client_for(klass.student, klass.tenant), klass.assignment.id),
        )
        await w.send([ins(0, "12345")])  # 5 changed: no snapshot yet
        assert await versions(session, w.id) == [(0, "auto")]
        await w.send([ins(5, "678"), dele(0, 2)])  # 10 changed
        assert await versions(session, w.id) == [(0, "auto"), (2, "auto")]
        await w.send([{"kind": "focus", "t": 1, "state": "lost"}])  # no change, no snapshot
        assert len(await versions(session, w.id)) == 2

    async def test_by_time(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "a")])
        assert await versions(session, w.id) == [(0, "auto")]
        with clock.travel(timedelta(seconds=settings.WRITING_SNAPSHOT_SECONDS + 1)):
            await w.send([ins(1, "b")])
        assert await versions(session, w.id) == [(0, "auto"), (2, "auto")]


class TestCheckpointsDiffRestore:
    async def test_checkpoint_diff_restore_keeps_everything(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "The cat sat on the mat.")])
        r = await c.post(f"/api/v1/documents/{w.id}/versions", json={"name": "  First draft  "})
        assert r.status_code == 201, r.text
        first = r.json()
        assert (first["kind"], first["name"], first["revision"]) == ("checkpoint", "First draft", 1)
        await w.send([dele(4, 3), ins(4, "dog"), ins(len("The dog sat on the mat."), " It slept.")])

        r = await c.get(f"/api/v1/documents/{w.id}/versions/{first['id']}/diff")
        assert r.status_code == 200
        diff = r.json()
        assert (diff["from_revision"], diff["to_revision"], diff["to_version_id"]) == (1, 2, None)
        assert {"op": "delete", "text": "cat"} in diff["segments"] and {"op": "insert", "text": "dog"} in diff[
            "segments"
        ]
        assert "".join(s["text"] for s in diff["segments"] if s["op"] != "delete") == w.text

        r = await c.post(f"/api/v1/documents/{w.id}/versions/{first['id']}/restore")
        assert r.status_code == 200, r.text
        restored = r.json()
        assert (restored["text"], restored["revision"]) == ("The cat sat on the mat.", 3)
        assert restored["content_hash"] == ops.content_hash(restored["text"])
        listing = (await c.get(f"/api/v1/documents/{w.id}/versions")).json()
        assert [v["kind"] for v in listing] == ["restore", "checkpoint", "auto"]
        assert listing[0]["restored_from_id"] == first["id"] and "text" not in listing[0]
        # the tab that still shows revision 2 is told to rebase, nothing is overwritten
        body, _ = batch_body(w.text, [ins(0, "!")], seq=w.seq + 1, base_revision=w.revision, session_id=w.sid)
        r = await send(c, w.id, body)
        assert r.status_code == 409 and r.json()["current"]["revision"] == 3
        # between two versions
        r = await c.get(f"/api/v1/documents/{w.id}/versions/{first['id']}/diff", params={"against": listing[0]["id"]})
        assert r.json()["segments"] == [{"op": "equal", "text": "The cat sat on the mat."}]
        # any revision can be rebuilt, including the ones the restore replaced
        for rev, expected in {
            1: "The cat sat on the mat.",
            2: "The dog sat on the mat. It slept.",
            3: "The cat sat on the mat.",
        }.items():
            r = await c.get(f"/api/v1/documents/{w.id}/revisions/{rev}")
            assert r.status_code == 200 and r.json()["text"] == expected, (rev, r.text)
        assert (await c.get(f"/api/v1/documents/{w.id}/revisions/4")).status_code == 404

    async def test_bad_names_and_unknown_versions(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        for name, code in (
            ("   ", "InvalidText"),
            ("a\x00b", "InvalidText"),
            ("", "ValidationError"),
            ("x" * 201, "ValidationError"),
        ):
            r = await c.post(f"/api/v1/documents/{w.id}/versions", json={"name": name})
            assert r.status_code == 422 and r.json()["error"] == code, (name, r.text)
        missing = uuid.uuid4()
        for r in (
            await c.get(f"/api/v1/documents/{w.id}/versions/{missing}"),
            await c.get(f"/api/v1/documents/{w.id}/versions/{missing}/diff"),
            await c.post(f"/api/v1/documents/{w.id}/versions/{missing}/restore"),
        ):
            assert r.status_code == 404 and r.json()["error"] == "VersionNotFound"
        assert len(await versions(session, w.id)) == 1

    async def test_a_version_of_another_document_is_not_found(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        ada, bea = await client_for(klass.student, klass.tenant), await client_for(klass.classmate, klass.tenant)
        mine, theirs = await open_doc(ada, klass.assignment.id), await open_doc(bea, klass.assignment.id)
        their_version = (await bea.get(f"/api/v1/documents/{theirs['id']}/versions")).json()[0]["id"]
        r = await ada.get(f"/api/v1/documents/{mine['id']}/versions/{their_version}")
        assert r.status_code == 404


class TestRebuild:
    @pytest.mark.parametrize("seed", [1, 2, 3])
    async def test_rebuild_equals_what_the_client_had_at_every_revision(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
        seed: int,
    ) -> None:
        """Random batches (all op kinds, every kind of Unicode) from two tabs, snapshots every few characters, a
        checkpoint and a restore on the way: the text rebuilt for each revision is byte for byte what a client
        showed at that revision."""
        rng = random.Random(seed)
        monkeypatch.setattr(settings, "WRITING_SNAPSHOT_CHARS", rng.choice([7, 25, 10_000]))
        tabs = [await client_for(klass.student, klass.tenant) for _ in range(2)]
        doc = await open_doc(tabs[0], klass.assignment.id)
        writers = [Writer(tabs[0], doc), Writer(tabs[1], doc)]
        seen: dict[int, str] = {0: ""}
        for step in range(40):
            w = writers[rng.randrange(2)]
            await w.reload()  # the other tab may have moved on
            if step == 25:
                listing = (await w.c.get(f"/api/v1/documents/{w.id}/versions")).json()
                target = rng.choice(listing)["id"]
                r = await w.c.post(f"/api/v1/documents/{w.id}/versions/{target}/restore")
                assert r.status_code == 200
                await w.reload()
            elif step % 9 == 0:
                assert (
                    await w.c.post(f"/api/v1/documents/{w.id}/versions", json={"name": f"step {step}"})
                ).status_code == 201
            else:
                await w.send(random_ops(rng, w.text))
            for wr in writers:
                for rev, text in wr.seen.items():
                    assert seen.setdefault(rev, text) == text, "two clients saw different texts at one revision"
        await session.rollback()
        stored = (await session.execute(select(Document).where(Document.id == uuid.UUID(doc["id"])))).scalar_one()
        assert stored.revision == max(seen)
        assert stored.word_count == ops.word_count(stored.text)  # the incremental count never drifted
        for rev in range(stored.revision + 1):
            rebuilt = await document_service.rebuild(session, stored, rev)
            if rev in seen:
                assert rebuilt.encode("utf-8") == seen[rev].encode("utf-8"), rev
        assert set(seen) == set(range(stored.revision + 1))  # every revision was seen by some client
        n = (
            await session.execute(
                select(func.count()).select_from(DocumentVersion).where(DocumentVersion.document_id == stored.id)
            )
        ).scalar_one()
        assert n >= 3
        await session.rollback()


class TestEventLog:
    async def test_the_log_pages_in_acceptance_order_and_replays_to_the_text(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "one ")])
        await w.send([{"kind": "paste", "t": 2, "pos": 4, "text": "two ", "seen_in_doc": False}])
        await w.send([{"kind": "focus", "t": 3, "state": "lost"}])
        await w.send([dele(0, 4), {"kind": "undo", "t": 4, "pos": 0, "text": "ONE "}])
        items, after = [], None
        while True:
            r = await c.get(
                f"/api/v1/documents/{w.id}/batches", params={"limit": 3, **({"after": after} if after else {})}
            )
            assert r.status_code == 200, r.text
            page = r.json()
            items += page["items"]
            after = page["next_after"]
            if after is None:
                break
        assert [b["seq"] for b in items] == [1, 2, 3, 4] and [b["revision"] for b in items] == [1, 2, 2, 3]
        assert items[1]["ops"] == [{"kind": "paste", "t": 2, "pos": 4, "text": "two ", "seen_in_doc": False}]
        text = ""
        for b in items:
            text = ops.apply(text, ops.parse_ops(b["ops"]))
            assert ops.content_hash(text) == b["content_hash"]
        assert text == w.text == "ONE two "
        staff = await client_for(klass.instructor, klass.tenant)
        assert len((await staff.get(f"/api/v1/documents/{w.id}/batches")).json()["items"]) == 4
        stranger = await client_for(klass.classmate, klass.tenant)
        assert (await stranger.get(f"/api/v1/documents/{w.id}/batches")).status_code == 404
        assert (await c.get(f"/api/v1/documents/{w.id}/batches", params={"limit": 0})).status_code == 422
