"""The evidence report API: who sees it, what it says, responses, outcomes, the assignment table, audit."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from scribetree.integrity import simulate
from scribetree.integrity.models import IntegrityOutcome, IntegrityReport, IntegrityResponse
from tests.factories.courses import create_course_member
from tests.factories.tenancy import create_member
from tests.integrity.evidence_helpers import submit, write_and_submit, write_history
from tests.writing.conftest import ClientFor, Klass

T0 = simulate.T0


def typed(text: str, t0: int = T0, step: int = 180, start: int = 0) -> list[dict]:
    return [{"kind": "insert", "t": t0 + i * step, "pos": start + i, "text": ch} for i, ch in enumerate(text)]


def pasted_essay() -> list[dict]:
    rng = random.Random(3)
    return simulate.copy_paste(rng, 250)


async def views(session: AsyncSession, target: str) -> int:
    stmt = select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "integrity.report_viewed", AuditEvent.target_id == target
    )
    return int((await session.execute(stmt)).scalar_one())


class TestReport:
    async def test_student_and_staff_see_it_others_get_404(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        student = await client_for(klass.student, klass.tenant)
        w, sid = await write_and_submit(student, klass.assignment.id, pasted_essay())
        r = await student.get(f"/api/v1/submissions/{sid}/integrity")
        assert r.status_code == 200, r.text
        mine = r.json()
        assert mine["viewer"] == "student"
        assert mine["text"] == w.text
        assert {f["code"] for f in mine["flags"]} >= {"external_paste_share", "large_external_paste"}
        assert mine["class_comparison"] == [] and mine["self_comparison"] == [] and mine["outcomes"] == []
        ev = mine["evidence"]
        assert ev["consistent"] is True
        assert ev["composition_share"]["pasted_external"] > 0.8
        # every paste span points at the pasted text in the final text
        for p in ev["pastes"]:
            for a, b in p["spans"]:
                assert 0 <= a < b <= len(w.text)
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.get(f"/api/v1/submissions/{sid}/integrity")
        assert r.status_code == 200 and r.json()["viewer"] == "staff"
        ta = await client_for(klass.ta, klass.tenant)
        assert (await ta.get(f"/api/v1/submissions/{sid}/integrity")).status_code == 200
        classmate = await client_for(klass.classmate, klass.tenant)
        assert (await classmate.get(f"/api/v1/submissions/{sid}/integrity")).status_code == 404
        missing = "/api/v1/submissions/00000000-0000-7000-8000-000000000000/integrity"
        assert (await staff.get(missing)).status_code == 404
        assert await views(session, sid) == 3  # student, instructor, TA: every view audited

    async def test_cached_once_per_submission(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        student = await client_for(klass.student, klass.tenant)
        _, sid = await write_and_submit(student, klass.assignment.id, typed("Plain words typed here. " * 3))
        for _ in range(2):
            assert (await student.get(f"/api/v1/submissions/{sid}/integrity")).status_code == 200
        n = (await session.execute(select(func.count(IntegrityReport.id)))).scalar_one()
        assert n == 1

    async def test_computed_by_a_job_after_submission(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        from scribetree.core import jobs
        from scribetree.integrity.service import integrity
        from scribetree.integrity.tasks import REPORT_ACTOR

        student_id, tenant_id = klass.student.id, klass.tenant.id
        student = await client_for(klass.student, klass.tenant)
        _, sid = await write_and_submit(student, klass.assignment.id, pasted_essay())
        await session.rollback()
        job = (await session.scalars(select(jobs.Job).where(jobs.Job.actor == REPORT_ACTOR))).one()
        assert job.args == {"submission_id": sid} and job.tenant_id == tenant_id
        assert await jobs.run_pending() >= 1
        await session.rollback()
        done = (await session.scalars(select(jobs.Job).where(jobs.Job.actor == REPORT_ACTOR))).one()
        assert done.state == "succeeded", (done.state, done.last_error)
        row = (await session.scalars(select(IntegrityReport))).one()
        assert str(row.submission_id) == sid and "external_paste_share" in row.flag_codes
        assert row.student_user_id == student_id
        assert await integrity.precompute(session, tenant_id, row.submission_id) is False  # idempotent
        assert await views(session, sid) == 0  # nobody viewed it

    async def test_other_tenant_gets_404(self, klass: Klass, client_for: ClientFor, session, other_tenant) -> None:
        student = await client_for(klass.student, klass.tenant)
        _, sid = await write_and_submit(student, klass.assignment.id, typed("Words of mine."))
        admin, _ = await create_member(session, other_tenant, "institution_admin")
        await session.commit()
        other = await client_for(admin, other_tenant)
        assert (await other.get(f"/api/v1/submissions/{sid}/integrity")).status_code == 404
        assert (await other.get(f"/api/v1/assignments/{klass.assignment.id}/integrity")).status_code == 404

    async def test_after_reopen_the_report_is_of_the_submitted_text(self, klass: Klass, client_for: ClientFor) -> None:
        student = await client_for(klass.student, klass.tenant)
        w = await write_history(student, klass.assignment.id, typed("First version."))
        sid = await submit(student, w)
        staff = await client_for(klass.instructor, klass.tenant)
        assert (await staff.post(f"/api/v1/documents/{w.id}/reopen")).status_code == 200
        await w.reload()
        await w.send([{"kind": "paste", "t": T0 + 10**6, "pos": 0, "text": "LATER ", "seen_in_doc": False}])
        body = (await student.get(f"/api/v1/submissions/{sid}/integrity")).json()
        assert body["text"] == "First version."
        assert body["evidence"]["composition"]["pasted_external"] == 0


class TestDraftReport:
    async def test_students_only_when_allowed(self, klass: Klass, client_for: ClientFor) -> None:
        student = await client_for(klass.student, klass.tenant)
        w = await write_history(student, klass.assignment.id, typed("Drafting away."))
        url = f"/api/v1/documents/{w.id}/integrity"
        r = await student.get(url)
        assert r.status_code == 403 and r.json()["error"] == "ReportNotYetVisible"
        staff = await client_for(klass.instructor, klass.tenant)
        assert (await staff.get(url)).status_code == 200
        settings = f"/api/v1/assignments/{klass.assignment.id}/integrity/settings"
        assert (await student.put(settings, json={"students_see_before_submission": True})).status_code == 403
        r = await staff.put(settings, json={"students_see_before_submission": True})
        assert r.status_code == 200 and r.json()["students_see_before_submission"] is True
        assert (await staff.put(settings, json={"students_see_before_submission": "yes"})).status_code == 422
        assert (await student.get(settings)).json()["students_see_before_submission"] is True
        r = await student.get(url)
        assert r.status_code == 200 and r.json()["submission_id"] is None and r.json()["text"] == "Drafting away."


class TestResponsesAndOutcomes:
    async def test_student_responds_to_a_raised_flag(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        student = await client_for(klass.student, klass.tenant)
        _, sid = await write_and_submit(student, klass.assignment.id, pasted_essay())
        url = f"/api/v1/submissions/{sid}/integrity/responses"
        text = "These are quotes from <b>my</b> sources; citations are at the end."
        r = await student.post(url, json={"flag_code": "external_paste_share", "text": text})
        assert r.status_code == 201, r.text
        assert (await student.post(url, json={"flag_code": "report", "text": "Overall note."})).status_code == 201
        bad = await student.post(url, json={"flag_code": "uniform_rhythm", "text": "x"})
        assert bad.status_code == 422 and bad.json()["error"] == "UnknownFlag"
        assert (await student.post(url, json={"flag_code": "report", "text": "   "})).status_code == 422
        assert (await student.post(url, json={"flag_code": "report", "text": "x" * 4001})).status_code == 422
        assert (await student.post(url, json={"flag_code": "report", "text": "a\x00b"})).status_code == 422
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.post(url, json={"flag_code": "report", "text": "staff"})
        assert r.status_code == 403 and r.json()["error"] == "AuthorOnly"
        classmate = await client_for(klass.classmate, klass.tenant)
        assert (await classmate.post(url, json={"flag_code": "report", "text": "x"})).status_code == 404
        n = (await session.execute(select(func.count(IntegrityResponse.id)))).scalar_one()
        assert n == 2
        report = (await staff.get(f"/api/v1/submissions/{sid}/integrity")).json()
        assert [x["text"] for x in report["responses"]] == [text, "Overall note."]

    async def test_staff_record_outcomes(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        student = await client_for(klass.student, klass.tenant)
        _, sid = await write_and_submit(student, klass.assignment.id, typed("Some words."))
        url = f"/api/v1/submissions/{sid}/integrity/outcomes"
        staff = await client_for(klass.instructor, klass.tenant)
        assert (await staff.post(url, json={"outcome": "discussed", "note": "Talked on Monday."})).status_code == 201
        assert (await staff.post(url, json={"outcome": "no_concern"})).status_code == 201
        assert (await staff.post(url, json={"outcome": "guilty"})).status_code == 422
        assert (await staff.post(url, json={"outcome": "referred", "extra": 1})).status_code == 422
        r = await student.post(url, json={"outcome": "no_concern"})
        assert r.status_code == 403 and r.json()["error"] == "StaffOnly"
        n = (await session.execute(select(func.count(IntegrityOutcome.id)))).scalar_one()
        assert n == 2
        report = (await staff.get(f"/api/v1/submissions/{sid}/integrity")).json()
        assert [o["outcome"] for o in report["outcomes"]] == ["discussed", "no_concern"]
        assert (await student.get(f"/api/v1/submissions/{sid}/integrity")).json()["outcomes"] == []
        rows = (await staff.get(f"/api/v1/assignments/{klass.assignment.id}/integrity")).json()
        assert rows[0]["outcome"] == "no_concern"


class TestAssignmentTable:
    async def test_sorted_rows_for_staff_with_class_comparison(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        sids = {}
        people = [klass.student, klass.classmate]
        for i in range(6):
            people.append(
                await create_course_member(session, klass.course, klass.tenant, "student", display_name=f"S{i}")
            )
        await session.commit()
        for i, person in enumerate(people):
            c = await client_for(person, klass.tenant)
            history = pasted_essay() if i == 0 else simulate.reviser(random.Random(i), 160)
            _, sids[person.id] = await write_and_submit(c, klass.assignment.id, history)
        url = f"/api/v1/assignments/{klass.assignment.id}/integrity"
        r = await staff.get(url)
        assert r.status_code == 200, r.text
        rows = r.json()
        assert len(rows) == 8
        assert rows[0]["submission_id"] == sids[klass.student.id] and rows[0]["flags"]
        assert all(not row["flags"] for row in rows[1:])
        by_name = (await staff.get(url, params={"sort": "name", "order": "asc"})).json()
        assert [x["name"] for x in by_name] == sorted((x["name"] for x in rows), key=str.casefold)
        assert (await staff.get(url, params={"sort": "password"})).status_code == 422
        student = await client_for(klass.student, klass.tenant)
        assert (await student.get(url)).status_code == 403
        # 8 reports: the class comparison appears for staff, never for the student
        report = (await staff.get(f"/api/v1/submissions/{sids[klass.student.id]}/integrity")).json()
        comp = {c["figure"]: c for c in report["class_comparison"]}
        assert comp["external_paste_share"]["n"] == 7
        assert comp["external_paste_share"]["value"] > comp["external_paste_share"]["median"]
        mine = (await student.get(f"/api/v1/submissions/{sids[klass.student.id]}/integrity")).json()
        assert mine["class_comparison"] == []
