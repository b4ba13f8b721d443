"""The writing API end to end: open, batches (every refusal leaves the document unchanged), races, Unicode."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.config import settings
from scribetree.courses.models import AssignmentKind, CourseRole
from scribetree.writing import ops
from scribetree.writing.models import Document, EditBatch, WritingSession
from tests.factories.courses import create_assignment, create_course_member, create_group
from tests.factories.tenancy import create_member
from tests.factories.writing import batch_body, dele, ins
from tests.writing.conftest import ClientFor, Klass

UNICODE = "Ünïcödé: 😀👍🏽👩\u200d💻 e\u0301 שלום مرحبا 東京は大きい 한국어 <script>alert(1)</script>\r\n"


async def open_doc(c: httpx.AsyncClient, assignment_id: uuid.UUID) -> dict[str, Any]:
    r = await c.post(f"/api/v1/assignments/{assignment_id}/document")
    assert r.status_code == 200, r.text
    return r.json()


async def send(c: httpx.AsyncClient, doc_id: str, body: dict[str, Any]) -> httpx.Response:
    return await c.post(f"/api/v1/documents/{doc_id}/batches", json=body)


async def state(session: AsyncSession, doc_id: str) -> tuple[str, int, str, int]:
    """(text, revision, hash, number of batches) straight from the database."""
    await session.rollback()
    doc_id_ = uuid.UUID(doc_id)
    row = (
        await session.execute(
            select(Document.text, Document.revision, Document.content_hash).where(Document.id == doc_id_)
        )
    ).one()
    n = (
        await session.execute(select(func.count()).select_from(EditBatch).where(EditBatch.document_id == doc_id_))
    ).scalar_one()
    await session.rollback()
    return row.text, row.revision, row.content_hash, n


class TestOpen:
    async def test_student_opens_the_same_document_twice(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.student, klass.tenant)
        first = await open_doc(c, klass.assignment.id)
        assert (first["text"], first["revision"], first["status"]) == ("", 0, "draft")
        assert first["content_hash"] == ops.content_hash("")
        assert first["limits"]["max_batch_ops"] == settings.WRITING_MAX_BATCH_OPS
        again = await open_doc(c, klass.assignment.id)
        assert again["id"] == first["id"]
        r = await c.get(f"/api/v1/documents/{first['id']}")
        assert r.status_code == 200 and r.json()["id"] == first["id"]

    async def test_staff_cannot_open_a_document_of_their_own(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        r = await c.post(f"/api/v1/assignments/{klass.assignment.id}/document")
        assert r.status_code == 403 and r.json()["error"] == "StudentsOnly"

    async def test_unpublished_assignment_and_strangers_get_404(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, other_tenant
    ) -> None:
        draft = await create_assignment(session, klass.course, published=False)
        outsider, _ = await create_member(session, klass.tenant)  # same institution, not in the course
        foreign, _ = await create_member(session, other_tenant)
        await session.commit()
        c = await client_for(klass.student, klass.tenant)
        assert (await c.post(f"/api/v1/assignments/{draft.id}/document")).status_code == 404
        for who, tenant in ((outsider, klass.tenant), (foreign, other_tenant)):
            c = await client_for(who, tenant)
            r = await c.post(f"/api/v1/assignments/{klass.assignment.id}/document")
            assert r.status_code == 404, r.text

    async def test_others_cannot_see_or_edit_my_document(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, other_tenant
    ) -> None:
        mine = await open_doc(await client_for(klass.student, klass.tenant), klass.assignment.id)
        foreign, _ = await create_member(session, other_tenant)
        await session.commit()
        body, _ = batch_body("", [ins(0, "x")], seq=1, base_revision=0, session_id=uuid.uuid4())
        for who, tenant in ((klass.classmate, klass.tenant), (foreign, other_tenant)):
            c = await client_for(who, tenant)
            assert (await c.get(f"/api/v1/documents/{mine['id']}")).status_code == 404
            assert (await send(c, mine["id"], body)).status_code == 404
        # staff read it, but do not write in it
        staff = await client_for(klass.ta, klass.tenant)
        assert (await staff.get(f"/api/v1/documents/{mine['id']}")).status_code == 200
        r = await send(staff, mine["id"], body)
        assert r.status_code == 403 and r.json()["error"] == "StudentsOnly"
        text, rev, _, n = await state(session, mine["id"])
        assert (text, rev, n) == ("", 0, 0)


class TestBatches:
    async def test_apply_then_replay_returns_the_same_answer(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        sid = uuid.uuid4()
        body, text = batch_body(
            "", [ins(0, "Hello world"), dele(5, 6), ins(5, " there")], seq=1, base_revision=0, session_id=sid
        )
        r = await send(c, doc["id"], body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["revision"] == 1 and answer["content_hash"] == ops.content_hash("Hello there")
        assert answer["replayed"] is False
        again = await send(c, doc["id"], body)
        assert again.status_code == 200
        assert {**again.json(), "replayed": False} == answer and again.json()["replayed"] is True
        assert await state(session, doc["id"]) == ("Hello there", 1, ops.content_hash("Hello there"), 1)
        got = (await c.get(f"/api/v1/documents/{doc['id']}")).json()
        assert got["word_count"] == 2 and got["text"] == text

    async def test_an_older_seq_is_replayed_too(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        sid = uuid.uuid4()
        b1, t1 = batch_body("", [ins(0, "a")], seq=1, base_revision=0, session_id=sid)
        b2, _t2 = batch_body(t1, [ins(1, "b")], seq=2, base_revision=1, session_id=sid)
        assert (await send(c, doc["id"], b1)).status_code == 200
        assert (await send(c, doc["id"], b2)).status_code == 200
        r = await send(c, doc["id"], b1)  # a lost acknowledgement of seq 1, resent after seq 2
        assert r.status_code == 200 and r.json()["revision"] == 1 and r.json()["replayed"] is True
        assert await state(session, doc["id"]) == ("ab", 2, ops.content_hash("ab"), 2)
        reused = dict(b1, content_hash=ops.content_hash("zz"))
        r = await send(c, doc["id"], reused)
        assert r.status_code == 409 and r.json()["error"] == "SeqReused" and r.json()["expected_seq"] == 3

    async def test_seq_gap(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        sid = uuid.uuid4()
        body, _ = batch_body("", [ins(0, "x")], seq=3, base_revision=0, session_id=sid)
        r = await send(c, doc["id"], body)
        assert r.status_code == 409
        assert r.json()["error"] == "SeqGap" and r.json()["expected_seq"] == 1
        assert "seq 1" in r.json()["detail"]
        assert await state(session, doc["id"]) == ("", 0, ops.content_hash(""), 0)

    async def test_stale_revision_carries_what_the_client_needs_to_rebase(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        tab_a = await client_for(klass.student, klass.tenant)
        tab_b = await client_for(klass.student, klass.tenant)
        doc = await open_doc(tab_a, klass.assignment.id)
        a, b = uuid.uuid4(), uuid.uuid4()
        body_a, text_a = batch_body("", [ins(0, "From A. ")], seq=1, base_revision=0, session_id=a)
        assert (await send(tab_a, doc["id"], body_a)).status_code == 200
        body_b, _ = batch_body("", [ins(0, "From B.")], seq=1, base_revision=0, session_id=b)
        r = await send(tab_b, doc["id"], body_b)
        assert r.status_code == 409, r.text
        err = r.json()
        assert err["error"] == "StaleRevision"
        assert err["current"] == {"revision": 1, "content_hash": ops.content_hash(text_a), "text": text_a}
        assert await state(session, doc["id"]) == (text_a, 1, ops.content_hash(text_a), 1)
        # B rebases its edit onto the current text and sends the same seq again
        rebased, text = batch_body(text_a, [ins(len(text_a), "From B.")], seq=1, base_revision=1, session_id=b)
        r = await send(tab_b, doc["id"], rebased)
        assert r.status_code == 200 and r.json()["revision"] == 2
        assert (await state(session, doc["id"]))[0] == "From A. From B." == text

    async def test_hash_mismatch_applies_nothing(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        body, _ = batch_body("", [ins(0, "abc")], seq=1, base_revision=0, session_id=uuid.uuid4())
        body["content_hash"] = ops.content_hash("abd")
        r = await send(c, doc["id"], body)
        assert r.status_code == 422 and r.json()["error"] == "HashMismatch" and r.json()["revision"] == 0
        body["content_hash"] = "X" * 64  # not even hex
        assert (await send(c, doc["id"], body)).json()["error"] == "HashMismatch"
        assert await state(session, doc["id"]) == ("", 0, ops.content_hash(""), 0)

    @pytest.mark.parametrize(
        ("bad_op", "code"),
        [
            ({"kind": "rewrite", "t": 1, "pos": 0, "text": "x"}, "UnknownOpKind"),
            ({"kind": "delete", "t": 1, "pos": 0, "len": -1}, "InvalidOpLength"),
            ({"kind": "insert", "t": 1, "pos": 99, "text": "x"}, "OpOutOfRange"),
            ({"kind": "delete", "t": 1, "pos": 1, "len": 5}, "OpOutOfRange"),
            ({"kind": "insert", "t": 1, "pos": -1, "text": "x"}, "OpOutOfRange"),
            ({"kind": "insert", "t": 1, "pos": 0}, "MalformedOp"),
            ({"kind": "insert", "t": 1, "pos": 0, "text": "nul\x00"}, "MalformedOp"),
            ({"kind": "paste", "t": 1, "pos": 0, "text": "x"}, "MalformedOp"),
            ("insert", "MalformedOp"),
        ],
    )
    async def test_malformed_ops_apply_nothing(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, bad_op: Any, code: str
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        body = {
            "session_id": str(uuid.uuid4()),
            "seq": 1,
            "base_revision": 0,
            "ops": [ins(0, "ok"), bad_op],
            "content_hash": ops.content_hash("ok"),
        }
        r = await send(c, doc["id"], body)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == code and r.json()["op_index"] == 1
        assert await state(session, doc["id"]) == ("", 0, ops.content_hash(""), 0)

    async def test_oversized_batches_and_documents_get_413_with_the_limit(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        sid = uuid.uuid4()
        monkeypatch.setattr(settings, "WRITING_MAX_BATCH_OPS", 3)
        body, _ = batch_body("", [ins(0, "a")] * 4, seq=1, base_revision=0, session_id=sid)
        r = await send(c, doc["id"], body)
        assert r.status_code == 413 and r.json()["error"] == "BatchTooLarge" and r.json()["limit"] == 3
        assert "limit is 3" in r.json()["detail"]
        monkeypatch.setattr(settings, "WRITING_MAX_BATCH_BYTES", 10)
        body, _ = batch_body("", [ins(0, "😀😀😀")], seq=1, base_revision=0, session_id=sid)  # 12 bytes
        r = await send(c, doc["id"], body)
        assert r.status_code == 413 and r.json()["error"] == "BatchTooLarge" and "10 bytes" in r.json()["detail"]
        monkeypatch.setattr(settings, "WRITING_MAX_BATCH_BYTES", 1000)
        monkeypatch.setattr(settings, "WRITING_MAX_DOCUMENT_CHARS", 5)
        body, text = batch_body("", [ins(0, "abcde")], seq=1, base_revision=0, session_id=sid)
        assert (await send(c, doc["id"], body)).status_code == 200  # exactly at the limit
        body, _ = batch_body(text, [ins(5, "f")], seq=2, base_revision=1, session_id=sid)
        r = await send(c, doc["id"], body)
        assert r.status_code == 413 and r.json()["error"] == "DocumentTooLarge" and "limit is 5" in r.json()["detail"]
        assert await state(session, doc["id"]) == ("abcde", 1, ops.content_hash("abcde"), 1)

    async def test_the_request_body_limit_still_holds(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        body, _ = batch_body(
            "", [ins(0, "x" * (settings.MAX_BODY_BYTES + 10))], seq=1, base_revision=0, session_id=uuid.uuid4()
        )
        r = await send(c, doc["id"], body)
        assert r.status_code == 413

    async def test_focus_events_are_kept_without_a_new_revision(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        sid = uuid.uuid4()
        body, _ = batch_body("", [{"kind": "focus", "t": 5, "state": "lost"}], seq=1, base_revision=0, session_id=sid)
        r = await send(c, doc["id"], body)
        assert r.status_code == 200 and r.json()["revision"] == 0
        assert await state(session, doc["id"]) == ("", 0, ops.content_hash(""), 1)

    async def test_unicode_survives_byte_for_byte(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        sid = uuid.uuid4()
        text = ""
        raw = [
            ins(0, UNICODE),
            {"kind": "paste", "t": 2, "pos": 3, "text": "🇫🇷\u05b8\u064b", "seen_in_doc": False},
            {"kind": "cut", "t": 3, "pos": 10, "len": 2},
            {"kind": "undo", "t": 4, "pos": 10, "text": "\u200f\u202e"},
        ]
        body, text = batch_body(text, raw, seq=1, base_revision=0, session_id=sid)
        assert (await send(c, doc["id"], body)).status_code == 200
        got = (await c.get(f"/api/v1/documents/{doc['id']}")).json()
        assert got["text"].encode("utf-8") == text.encode("utf-8")
        assert got["content_hash"] == ops.content_hash(text)
        assert got["word_count"] == ops.word_count(text)

    async def test_an_api_token_writes_too_but_not_a_read_only_one(
        self, klass: Klass, anon: httpx.AsyncClient, session: AsyncSession, client_for: ClientFor
    ) -> None:
        from scribetree.identity.service import identity

        doc = await open_doc(await client_for(klass.student, klass.tenant), klass.assignment.id)
        secrets = {}
        for scopes in (["read"], ["read", "write"]):
            secrets[len(scopes)], _ = await identity.create_token(
                session, tenant_id=klass.tenant.id, user_id=klass.student.id, name="t", scopes=scopes, expires_in_days=1
            )
        await session.commit()
        body, _ = batch_body("", [ins(0, "tok")], seq=1, base_revision=0, session_id=uuid.uuid4())
        r = await anon.post(
            f"/api/v1/documents/{doc['id']}/batches", json=body, headers={"Authorization": f"Bearer {secrets[1]}"}
        )
        assert r.status_code == 403
        r = await anon.post(
            f"/api/v1/documents/{doc['id']}/batches", json=body, headers={"Authorization": f"Bearer {secrets[2]}"}
        )
        assert r.status_code == 200, r.text


class TestRaces:
    async def test_two_sessions_racing_one_wins_no_acknowledged_edit_lost(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        tabs = [await client_for(klass.student, klass.tenant) for _ in range(2)]
        doc = await open_doc(tabs[0], klass.assignment.id)
        sids = [uuid.uuid4(), uuid.uuid4()]
        local = ["", ""]
        revs = [0, 0]
        seqs = [1, 1]
        acknowledged: list[str] = []
        for round_ in range(4):
            words = [f"A{round_} ", f"B{round_} "]
            bodies = []
            for i in range(2):
                body, _after = batch_body(
                    local[i], [ins(len(local[i]), words[i])], seq=seqs[i], base_revision=revs[i], session_id=sids[i]
                )
                bodies.append(body)
            results = await asyncio.gather(*(send(tabs[i], doc["id"], bodies[i]) for i in range(2)))
            codes = sorted(r.status_code for r in results)
            assert codes == [200, 409], [r.text for r in results]
            for i, r in enumerate(results):
                if r.status_code == 200:
                    acknowledged.append(words[i])
                    seqs[i] += 1
                    revs[i] = r.json()["revision"]
                    local[i] = ops.apply(local[i], ops.parse_ops(bodies[i]["ops"]))
                else:
                    assert r.json()["error"] == "StaleRevision"
                    current = r.json()["current"]
                    # rebase: take the server's text, redo the unsent edit at its end, send the same seq again
                    rebased, after = batch_body(
                        current["text"],
                        [ins(len(current["text"]), words[i])],
                        seq=seqs[i],
                        base_revision=current["revision"],
                        session_id=sids[i],
                    )
                    r2 = await send(tabs[i], doc["id"], rebased)
                    assert r2.status_code == 200, r2.text
                    acknowledged.append(words[i])
                    seqs[i] += 1
                    revs[i] = r2.json()["revision"]
                    local[i] = after
            # both tabs catch up before the next round (as the editor does after a 409 or on a timer)
            final = (await tabs[0].get(f"/api/v1/documents/{doc['id']}")).json()
            local = [final["text"], final["text"]]
            revs = [final["revision"], final["revision"]]
        text, revision, digest, n = await state(session, doc["id"])
        assert all(w in text for w in acknowledged) and len(acknowledged) == 8
        assert revision == 8 == n and digest == ops.content_hash(text)

    async def test_the_same_batch_sent_twice_at_once_applies_once(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        body, _text = batch_body("", [ins(0, "once")], seq=1, base_revision=0, session_id=uuid.uuid4())
        results = await asyncio.gather(*(send(c, doc["id"], body) for _ in range(3)))
        assert all(r.status_code == 200 for r in results), [r.text for r in results]
        assert sorted(r.json()["replayed"] for r in results) == [False, True, True]
        assert await state(session, doc["id"]) == ("once", 1, ops.content_hash("once"), 1)


class TestGroups:
    async def test_one_document_per_group_with_attributed_batches(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        group_assignment = await create_assignment(session, klass.course, kind=AssignmentKind.group)
        loner = await create_course_member(session, klass.course, klass.tenant, CourseRole.student)
        await create_group(session, group_assignment, [klass.student, klass.classmate], name="Oaks")
        await session.commit()
        ada, bea = await client_for(klass.student, klass.tenant), await client_for(klass.classmate, klass.tenant)
        doc = await open_doc(ada, group_assignment.id)
        assert (await open_doc(bea, group_assignment.id))["id"] == doc["id"]
        assert doc["group_id"] is not None and doc["owner_user_id"] is None
        r = await (await client_for(loner, klass.tenant)).post(f"/api/v1/assignments/{group_assignment.id}/document")
        assert r.status_code == 409 and r.json()["error"] == "NoGroup"

        b1, t1 = batch_body("", [ins(0, "Ada wrote this. ")], seq=1, base_revision=0, session_id=uuid.uuid4())
        assert (await send(ada, doc["id"], b1)).status_code == 200
        b2, _ = batch_body(t1, [ins(len(t1), "Bea too."), dele(0, 4)], seq=1, base_revision=1, session_id=uuid.uuid4())
        assert (await send(bea, doc["id"], b2)).status_code == 200

        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.get(f"/api/v1/documents/{doc['id']}/contributions")
        assert r.status_code == 200, r.text
        rows = {row["display_name"]: row for row in r.json()}
        assert rows["Ada Student"]["chars_inserted"] == len("Ada wrote this. ") and rows["Ada Student"]["batches"] == 1
        assert (
            rows["Bea Classmate"]["chars_inserted"] == len("Bea too.") and rows["Bea Classmate"]["chars_deleted"] == 4
        )
        r = await ada.get(f"/api/v1/documents/{doc['id']}/contributions")
        assert r.status_code == 403 and r.json()["error"] == "StaffOnly"

        sessions = (await staff.get(f"/api/v1/documents/{doc['id']}/sessions")).json()
        assert {s["user_id"] for s in sessions} == {str(klass.student.id), str(klass.classmate.id)}
        batches = (
            (
                await session.execute(
                    select(EditBatch.author_user_id).where(EditBatch.document_id == uuid.UUID(doc["id"]))
                )
            )
            .scalars()
            .all()
        )
        assert sorted(map(str, batches)) == sorted([str(klass.student.id), str(klass.classmate.id)])


class TestWritingSessions:
    async def test_sessions_are_derived_incrementally(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        from datetime import timedelta

        from scribetree.core import clock

        c = await client_for(klass.student, klass.tenant)
        doc = await open_doc(c, klass.assignment.id)
        sid, text, rev = uuid.uuid4(), "", 0
        steps = [(0, "one two "), (10, "three "), (10 + settings.WRITING_SESSION_IDLE_SECONDS + 5, "four ")]
        for seq, (offset, words) in enumerate(steps, start=1):
            with clock.travel(timedelta(seconds=offset)):
                body, text = batch_body(text, [ins(len(text), words)], seq=seq, base_revision=rev, session_id=sid)
                r = await send(c, doc["id"], body)
                assert r.status_code == 200, r.text
                rev = r.json()["revision"]
        await session.rollback()
        rows = (await session.execute(select(WritingSession).order_by(WritingSession.started_at))).scalars().all()
        assert [(w.batches, w.words_added, w.active_seconds) for w in rows] == [(2, 3, 10), (1, 1, 0)]
        await session.rollback()


class TestAudit:
    async def test_staff_reading_a_students_writing_is_audited(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        from scribetree.core.audit import AuditEvent

        student = await client_for(klass.student, klass.tenant)
        staff = await client_for(klass.ta, klass.tenant)  # before any rollback below expires the ORM rows
        ta_id = str(klass.ta.id)
        doc = await open_doc(student, klass.assignment.id)
        body, _ = batch_body("", [ins(0, "private draft")], seq=1, base_revision=0, session_id=uuid.uuid4())
        assert (await send(student, doc["id"], body)).status_code == 200
        version = (await student.get(f"/api/v1/documents/{doc['id']}/versions")).json()[0]["id"]
        for path in ("", "/revisions/1", f"/versions/{version}", f"/versions/{version}/diff", "/batches"):
            assert (await student.get(f"/api/v1/documents/{doc['id']}{path}")).status_code == 200, path

        async def viewed() -> list[tuple[str | None, dict]]:
            await session.rollback()
            rows = (
                await session.execute(
                    select(AuditEvent.actor_user_id, AuditEvent.details)
                    .where(AuditEvent.action == "document.viewed", AuditEvent.target_id == doc["id"])
                    .order_by(AuditEvent.seq)
                )
            ).all()
            await session.rollback()
            return [(str(r.actor_user_id), r.details) for r in rows]

        assert await viewed() == []  # the student's own reads are not
        for path in ("", "/revisions/1", f"/versions/{version}", f"/versions/{version}/diff", "/batches"):
            assert (await staff.get(f"/api/v1/documents/{doc['id']}{path}")).status_code == 200, path
        assert (await staff.get(f"/api/v1/documents/{doc['id']}/versions/{uuid.uuid4()}")).status_code == 404
        seen = await viewed()
        assert [d["what"] for _, d in seen] == ["text", "revision", "version", "diff", "events"]
        assert {who for who, _ in seen} == {ta_id}
