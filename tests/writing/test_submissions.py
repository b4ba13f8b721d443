"""Submitting: late flag, late policy, AI-use statement, read-only after submission, reopen, receipt, staff list."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment, AssignmentKind, CourseRole
from scribetree.writing import ops
from scribetree.writing.models import Submission
from tests.factories.courses import create_assignment, create_course_member, create_group
from tests.factories.writing import batch_body, ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, send, state
from tests.writing.test_history import Writer


async def set_assignment(session: AsyncSession, assignment: Assignment, **values: object) -> None:
    await session.rollback()
    a = await session.get(Assignment, assignment.id)
    assert a is not None
    for k, v in values.items():
        setattr(a, k, v)
    await session.commit()


class TestSubmit:
    async def test_submit_makes_the_document_read_only_until_staff_reopen(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "My essay, in full.")])
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
        assert r.status_code == 201, r.text
        sub = r.json()
        assert (sub["attempt"], sub["late"], sub["revision"], sub["word_count"]) == (1, False, 1, 4)
        assert sub["content_hash"] == hashlib.sha256(w.text.encode()).hexdigest()
        version = (await c.get(f"/api/v1/documents/{w.id}/versions/{sub['version_id']}")).json()
        assert (version["kind"], version["text"]) == ("submission", w.text)
        assert (await c.get(f"/api/v1/documents/{w.id}")).json()["status"] == "submitted"

        body, _ = batch_body(w.text, [ins(0, "More ")], seq=w.seq + 1, base_revision=w.revision, session_id=w.sid)
        r = await send(c, w.id, body)
        assert r.status_code == 409 and r.json()["error"] == "DocumentSubmitted"
        first_version = (await c.get(f"/api/v1/documents/{w.id}/versions")).json()[-1]["id"]
        r = await c.post(f"/api/v1/documents/{w.id}/versions/{first_version}/restore")
        assert r.status_code == 409 and r.json()["error"] == "DocumentSubmitted"
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
        assert r.status_code == 409 and r.json()["error"] == "DocumentSubmitted"
        # a batch acknowledged before the submission is still answered the same when resent
        replay, _ = batch_body("", [ins(0, "My essay, in full.")], seq=1, base_revision=0, session_id=w.sid)
        assert (await send(c, w.id, replay)).json()["replayed"] is True

        # resubmission "until_due" (the default) with no due date: the student may reopen; here staff do
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.post(f"/api/v1/documents/{w.id}/reopen")
        assert r.status_code == 200 and r.json()["status"] == "reopened"
        assert (await staff.post(f"/api/v1/documents/{w.id}/reopen")).json()["error"] == "NotSubmitted"
        await w.send([ins(len(w.text), " Revised.")])
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
        assert r.status_code == 201 and r.json()["attempt"] == 2
        subs = (await c.get(f"/api/v1/documents/{w.id}/submissions")).json()
        assert [s["attempt"] for s in subs] == [1, 2]
        await session.rollback()
        actions = (await session.execute(select(AuditEvent.action).where(AuditEvent.target_id == w.id))).scalars().all()
        assert sorted(actions) == ["document.reopened", "submission.created", "submission.created"]
        await session.rollback()

    async def test_submit_needs_the_revision_the_student_confirmed(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "Draft")])
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0})
        assert r.status_code == 409 and r.json()["error"] == "StaleRevision"
        assert r.json()["current"]["text"] == "Draft"
        assert (await c.get(f"/api/v1/documents/{w.id}")).json()["status"] == "draft"

    async def test_late_flag_and_late_policy(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        await set_assignment(session, klass.assignment, due_at=clock.utcnow() - timedelta(hours=1))
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await set_assignment(session, klass.assignment, late_policy="reject")
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0})
        assert r.status_code == 409 and r.json()["error"] == "SubmissionClosed"
        await set_assignment(session, klass.assignment, late_policy="accept")
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0})
        assert r.status_code == 201 and r.json()["late"] is True

    async def test_on_time_is_not_late(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        await set_assignment(session, klass.assignment, due_at=clock.utcnow() + timedelta(hours=1))
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0})
        assert r.status_code == 201 and r.json()["late"] is False

    async def test_required_ai_statement(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        await set_assignment(session, klass.assignment, ai_statement_required=True)
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        for statement in (None, "   "):
            r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0, "ai_statement": statement})
            assert r.status_code == 422 and r.json()["error"] == "AiStatementRequired"
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0, "ai_statement": "bad\x00"})
        assert r.status_code == 422 and r.json()["error"] == "InvalidText"
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0, "ai_statement": "x" * 5001})
        assert r.status_code == 422
        assert (await c.get(f"/api/v1/documents/{w.id}")).json()["status"] == "draft"
        statement = "I asked the AI partner two questions about my thesis; I wrote every sentence myself. <b>ok</b>"
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0, "ai_statement": statement})
        assert r.status_code == 201 and r.json()["ai_statement"] == statement

    @pytest.mark.parametrize(
        ("policy", "due_in_hours", "allowed"),
        [("none", None, False), ("until_due", 1, True), ("until_due", -1, False), ("unlimited", -1, True)],
    )
    async def test_student_reopens_per_resubmission_policy(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        policy: str,
        due_in_hours: int | None,
        allowed: bool,
    ) -> None:
        due = clock.utcnow() + timedelta(hours=due_in_hours) if due_in_hours is not None else None
        await set_assignment(session, klass.assignment, resubmission=policy, due_at=due)
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        assert (await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": 0})).status_code == 201
        r = await c.post(f"/api/v1/documents/{w.id}/reopen")
        if allowed:
            assert r.status_code == 200 and r.json()["status"] == "reopened"
        else:
            assert r.status_code == 409 and r.json()["error"] == "ResubmissionClosed"
            assert (await c.get(f"/api/v1/documents/{w.id}")).json()["status"] == "submitted"

    async def test_receipt_is_a_downloadable_file(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([ins(0, "Ünïcödé 😀 text")])
        sub = (await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})).json()
        r = await c.get(f"/api/v1/submissions/{sub['id']}/receipt")
        assert r.status_code == 200
        assert r.headers["content-disposition"] == f'attachment; filename="submission-receipt-{sub["id"]}.json"'
        receipt = r.json()
        assert receipt["submission_id"] == sub["id"] and receipt["content_hash"] == ops.content_hash(w.text)
        assert receipt["assignment_title"] == klass.assignment.title and receipt["submitted_at"] == sub["submitted_at"]
        # staff may fetch it; a classmate may not (and learns nothing)
        assert (
            await (await client_for(klass.ta, klass.tenant)).get(f"/api/v1/submissions/{sub['id']}/receipt")
        ).status_code == 200
        r = await (await client_for(klass.classmate, klass.tenant)).get(f"/api/v1/submissions/{sub['id']}/receipt")
        assert r.status_code == 404 and r.json()["error"] == "SubmissionNotFound"
        r = await c.get(f"/api/v1/submissions/{uuid.uuid4()}/receipt")
        assert r.status_code == 404

    async def test_staff_cannot_submit_for_a_student(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        doc = await open_doc(await client_for(klass.student, klass.tenant), klass.assignment.id)
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.post(f"/api/v1/documents/{doc['id']}/submit", json={"revision": 0})
        assert r.status_code == 403 and r.json()["error"] == "StudentsOnly"
        await session.rollback()
        assert (await session.execute(select(Submission))).first() is None
        await session.rollback()
        assert (await state(session, doc["id"]))[1] == 0


class TestStaffList:
    async def test_statuses_words_and_last_activity(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        late_one = await create_course_member(
            session, klass.course, klass.tenant, CourseRole.student, display_name="Cy Late"
        )
        idle = await create_course_member(
            session, klass.course, klass.tenant, CourseRole.student, display_name="Di Idle"
        )
        await session.commit()
        writer = Writer(
            await client_for(klass.student, klass.tenant),
            await open_doc(await client_for(klass.student, klass.tenant), klass.assignment.id),
        )
        await writer.send([ins(0, "Three words here")])
        sub = await client_for(klass.classmate, klass.tenant)
        doc = await open_doc(sub, klass.assignment.id)
        assert (await sub.post(f"/api/v1/documents/{doc['id']}/submit", json={"revision": 0})).status_code == 201
        opened_only = await client_for(idle, klass.tenant)
        await open_doc(opened_only, klass.assignment.id)
        await set_assignment(session, klass.assignment, due_at=clock.utcnow() - timedelta(minutes=1))
        lc = await client_for(late_one, klass.tenant)
        late_doc = await open_doc(lc, klass.assignment.id)
        assert (await lc.post(f"/api/v1/documents/{late_doc['id']}/submit", json={"revision": 0})).json()[
            "late"
        ] is True

        staff = await client_for(klass.ta, klass.tenant)
        r = await staff.get(f"/api/v1/assignments/{klass.assignment.id}/submissions")
        assert r.status_code == 200, r.text
        rows = {row["name"]: row for row in r.json()}
        assert set(rows) == {"Ada Student", "Bea Classmate", "Cy Late", "Di Idle"}
        assert (rows["Ada Student"]["status"], rows["Ada Student"]["word_count"]) == ("in_progress", 3)
        assert rows["Ada Student"]["last_activity_at"] is not None
        assert (rows["Bea Classmate"]["status"], rows["Bea Classmate"]["attempts"]) == ("submitted", 1)
        assert (rows["Cy Late"]["status"], rows["Cy Late"]["late"]) == ("late", True)
        assert rows["Di Idle"]["status"] == "not_started" and rows["Di Idle"]["document_id"] is not None
        # students do not see the list
        r = await (await client_for(klass.student, klass.tenant)).get(
            f"/api/v1/assignments/{klass.assignment.id}/submissions"
        )
        assert r.status_code == 403 and r.json()["error"] == "StaffOnly"

    async def test_group_rows(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        group_assignment = await create_assignment(session, klass.course, kind=AssignmentKind.group)
        await create_group(session, group_assignment, [klass.student], name="Oaks")
        await create_group(session, group_assignment, [klass.classmate], name="Elms")
        await session.commit()
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, group_assignment.id))
        await w.send([ins(0, "Group text")])
        staff = await client_for(klass.instructor, klass.tenant)
        rows = (await staff.get(f"/api/v1/assignments/{group_assignment.id}/submissions")).json()
        assert [(r["name"], r["status"], r["group_id"] is not None, r["user_id"]) for r in rows] == [
            ("Elms", "not_started", True, None),
            ("Oaks", "in_progress", True, None),
        ]
