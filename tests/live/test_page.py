"""The live class view page and its JSON refresh: real data, staff only, 404 for everyone else, audited."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.models import AlertStatus
from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment, CourseRole
from scribetree.tenancy.models import Role, Tenant
from scribetree.web.live.state import pick_assignment, stage_cells
from scribetree.writing.models import Document, DocumentVersion, VersionKind
from tests.factories.alerts import create_alert
from tests.factories.courses import create_assignment, create_course, create_course_member, create_group
from tests.factories.tenancy import create_member
from tests.factories.writing import ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer


async def staged(session: AsyncSession, klass: Klass, **values: object) -> Assignment:
    """Give the class assignment two stages (one past, one ahead) and a word target."""
    await session.rollback()
    a = await session.get(Assignment, klass.assignment.id)
    assert a is not None
    now = clock.utcnow()
    a.stages = [
        {"key": "outline", "label": "Outline", "due_at": (now - timedelta(days=1)).isoformat()},
        {"key": "draft", "label": "Draft", "due_at": (now + timedelta(days=3)).isoformat()},
    ]
    a.word_min, a.word_max = 10, 50
    a.due_at = now + timedelta(days=3)
    for k, v in values.items():
        setattr(a, k, v)
    await session.commit()
    return a


class TestLivePage:
    async def test_staff_see_each_student_from_real_data(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await staged(session, klass)
        student = await client_for(klass.student, klass.tenant)
        w = Writer(student, await open_doc(student, klass.assignment.id))
        await w.send([ins(0, "One two three four five six.")])  # 6 words: outline target 5 met, draft 10 open

        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.get(f"/courses/{klass.course.id}/live")
        assert r.status_code == 200, r.text
        html = r.text
        assert 'id="live-mode"' in html and "js/live.js" in html and 'aria-live="polite"' in html
        assert f'data-ws-path="/ws/courses/{klass.course.id}/live"' in html
        assert "Current stage: <strong>Draft</strong>" in html
        row = html.split(f'data-user-id="{klass.student.id}"')[1].split("</tr>")[0]
        assert 'data-word-count="6"' in row and "Writing now" in row and "live-dot" in row
        assert '<td data-label="Words today" class="num js-today">6</td>' in row
        assert "live-stage--met" in row and "live-stage--open" in row
        other = html.split(f'data-user-id="{klass.classmate.id}"')[1].split("</tr>")[0]
        assert 'data-word-count="0"' in other and "Never" in other and "Not started" in other

        data = (await staff.get(f"/courses/{klass.course.id}/live.json")).json()
        assert data["assignment"]["id"] == str(klass.assignment.id)
        assert data["assignment"]["current_stage"] == "Draft"
        rows = {r["user_id"]: r for r in data["rows"]}
        mine = rows[str(klass.student.id)]
        assert (mine["word_count"], mine["words_today"], mine["writing_now"], mine["status"]) == (
            6,
            6,
            True,
            "in_progress",
        )
        assert [(s["key"], s["target_words"], s["status"]) for s in mine["stages"]] == [
            ("outline", 5, "met"),
            ("draft", 10, "open"),
        ]
        assert rows[str(klass.classmate.id)]["stages"][0]["status"] == "missed"  # 0 words, outline was due
        assert set(rows) == {str(klass.student.id), str(klass.classmate.id)}  # students only

    async def test_writing_now_ends_after_two_minutes_and_words_today_after_midnight(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        student = await client_for(klass.student, klass.tenant)
        w = Writer(student, await open_doc(student, klass.assignment.id))
        await w.send([ins(0, "Some words here.")])
        staff = await client_for(klass.instructor, klass.tenant)
        with clock.travel(timedelta(minutes=3)):
            row = (await staff.get(f"/courses/{klass.course.id}/live.json")).json()["rows"]
        mine = next(r for r in row if r["user_id"] == str(klass.student.id))
        assert mine["writing_now"] is False and mine["word_count"] == 3
        with clock.travel(timedelta(days=1)):  # a new sign-in: yesterday's session has expired by then
            tomorrow = await client_for(klass.instructor, klass.tenant)
            row = (await tomorrow.get(f"/courses/{klass.course.id}/live.json")).json()["rows"]
        mine = next(r for r in row if r["user_id"] == str(klass.student.id))
        assert mine["words_today"] == 0 and mine["word_count"] == 3

    async def test_words_today_count_from_the_last_snapshot_before_midnight(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        student = await client_for(klass.student, klass.tenant)
        w = Writer(student, await open_doc(student, klass.assignment.id))
        await w.send([ins(0, "One two three.")])
        # what was written so far was snapshotted yesterday (the batch path snapshots every 5 min / 500 chars)
        await session.rollback()
        yesterday = clock.utcnow() - timedelta(days=1)
        doc = await session.get(Document, uuid.UUID(w.id))
        assert doc is not None
        await session.execute(
            update(DocumentVersion).where(DocumentVersion.document_id == doc.id).values(created_at=yesterday)
        )
        session.add(
            DocumentVersion(
                tenant_id=doc.tenant_id,
                document_id=doc.id,
                revision=1,
                kind=VersionKind.auto,
                text=w.text,
                content_hash=doc.content_hash,
                word_count=3,
                created_at=yesterday,
            )
        )
        await session.commit()
        await w.send([ins(len(w.text), " Four five.")])
        staff = await client_for(klass.instructor, klass.tenant)
        rows = (await staff.get(f"/courses/{klass.course.id}/live.json")).json()["rows"]
        mine = next(r for r in rows if r["user_id"] == str(klass.student.id))
        assert (mine["word_count"], mine["words_today"]) == (5, 2)

    async def test_ta_and_admin_may_watch_and_the_view_is_audited(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        ta = await client_for(klass.ta, klass.tenant)
        assert (await ta.get(f"/courses/{klass.course.id}/live")).status_code == 200
        admin_user, _ = await create_member(session, klass.tenant, Role.institution_admin)
        await session.commit()
        admin = await client_for(admin_user, klass.tenant)
        assert (await admin.get(f"/courses/{klass.course.id}/live.json")).status_code == 200
        await session.rollback()
        events = (
            (await session.execute(select(AuditEvent).where(AuditEvent.action == "course.live_viewed"))).scalars().all()
        )
        assert [(e.actor_user_id, e.target_id, e.details["via"]) for e in events] == [
            (klass.ta.id, str(klass.course.id), "page")
        ]
        await session.rollback()

    async def test_group_assignment_rows_follow_the_group_document(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await session.rollback()
        course = klass.course
        ga = await create_assignment(session, course, kind="group", title="Group essay")
        await create_group(session, ga, [klass.student, klass.classmate])
        await session.commit()
        student = await client_for(klass.student, klass.tenant)
        w = Writer(student, await open_doc(student, ga.id))
        await w.send([ins(0, "Our shared words.")])
        staff = await client_for(klass.instructor, klass.tenant)
        data = (await staff.get(f"/courses/{course.id}/live.json?assignment={ga.id}")).json()
        rows = {r["user_id"]: r for r in data["rows"]}
        assert rows[str(klass.student.id)]["word_count"] == 3 and rows[str(klass.classmate.id)]["word_count"] == 3
        # words today are the document's: both members show the group document's change today
        assert rows[str(klass.student.id)]["words_today"] == 3 and rows[str(klass.classmate.id)]["words_today"] == 3

    async def test_open_alerts_come_from_the_alerts_service(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await session.rollback()
        shown = await create_alert(session, klass.course, klass.student, title="Stuck <for> a while")
        seen = await create_alert(session, klass.course, klass.student, status=AlertStatus.acknowledged, title="Seen")
        await create_alert(session, klass.course, klass.student, status=AlertStatus.resolved, title="Done already")
        await create_alert(session, await create_course(session, klass.tenant), klass.student, title="Elsewhere")
        await session.commit()
        staff = await client_for(klass.instructor, klass.tenant)
        data = (await staff.get(f"/courses/{klass.course.id}/live.json")).json()
        assert {a["alert_id"] for a in data["alerts"]} == {str(shown.id), str(seen.id)}
        mine = next(r for r in data["rows"] if r["user_id"] == str(klass.student.id))
        assert {a["title"] for a in mine["alerts"]} == {"Stuck <for> a while", "Seen"}
        assert mine["alerts"][0]["student_name"] == "Ada Student" and mine["alerts"][0]["url"].startswith("/courses/")
        html = (await staff.get(f"/courses/{klass.course.id}/live")).text
        assert "Stuck &lt;for&gt; a while" in html and "Done already" not in html and "Elsewhere" not in html

    async def test_course_page_links_to_it_for_staff_only(self, klass: Klass, client_for: ClientFor) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        assert f'href="/courses/{klass.course.id}/live"' in (await staff.get(f"/courses/{klass.course.id}")).text
        student = await client_for(klass.student, klass.tenant)
        assert "/live" not in (await student.get(f"/courses/{klass.course.id}")).text


class TestLiveAccess:
    @pytest.mark.parametrize("path", ["/courses/{id}/live", "/courses/{id}/live.json"])
    async def test_everyone_else_gets_404(
        self, path: str, klass: Klass, client_for: ClientFor, session: AsyncSession, other_tenant: Tenant
    ) -> None:
        await session.rollback()
        other_course = await create_course(session, klass.tenant)
        other_educator = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        outsider, _ = await create_member(session, other_tenant, Role.institution_admin)
        plain_educator, _ = await create_member(session, klass.tenant, Role.educator)
        await session.commit()
        url = path.format(id=klass.course.id)
        for user, tenant in [
            (klass.student, klass.tenant),
            (other_educator, klass.tenant),
            (plain_educator, klass.tenant),
            (outsider, other_tenant),
        ]:
            c = await client_for(user, tenant)
            r = await c.get(url)
            assert r.status_code == 404, (user.display_name, r.status_code)
            assert klass.classmate.display_name not in r.text and 'data-user-id="' not in r.text
            if user is not klass.student:
                assert klass.course.title not in r.text
        staff = await client_for(klass.instructor, klass.tenant)
        assert (await staff.get(path.format(id="not-an-id"))).status_code == 404
        assert (await staff.get(path.format(id=uuid.uuid4()))).status_code == 404
        assert (await staff.get(url + f"?assignment={uuid.uuid4()}")).status_code == 404
        other_assignment = await create_assignment(session, other_course)
        await session.commit()
        assert (await staff.get(url + f"?assignment={other_assignment.id}")).status_code == 404


class TestRules:
    def test_stage_targets_share_the_minimum_and_round_up(self) -> None:
        from scribetree.courses.schemas import AssignmentRead

        now = clock.utcnow()
        base = {
            "id": uuid.uuid4(),
            "course_id": uuid.uuid4(),
            "title": "A",
            "instructions_md": "",
            "kind": "individual",
            "word_max": None,
            "late_policy": "accept",
            "late_penalty_percent": 0,
            "resubmission": "until_due",
            "ai_statement_required": False,
            "rubric": None,
            "ai_settings": {},
            "objectives": [],
            "due_at": None,
            "published_at": now,
            "template_id": None,
            "created_at": now,
        }
        stages = [
            {"key": "a", "label": "A", "due_at": now - timedelta(hours=1)},
            {"key": "b", "label": "B", "due_at": now + timedelta(hours=1)},
            {"key": "c", "label": "C", "due_at": None},
        ]
        a = AssignmentRead.model_validate({**base, "stages": stages, "word_min": 100})
        assert [(c.target_words, c.status) for c in stage_cells(a, 33, now)] == [
            (34, "missed"),
            (67, "open"),
            (100, "open"),
        ]
        assert [c.status for c in stage_cells(a, 67, now)] == ["met", "met", "open"]
        b = AssignmentRead.model_validate({**base, "stages": stages, "word_min": None})
        assert {c.status for c in stage_cells(b, 500, now)} == {"no_target"}

        later = AssignmentRead.model_validate({**base, "stages": [], "word_min": None, "due_at": now + timedelta(2)})
        sooner = AssignmentRead.model_validate({**base, "stages": [], "word_min": None, "due_at": now + timedelta(1)})
        past = AssignmentRead.model_validate({**base, "stages": [], "word_min": None, "due_at": now - timedelta(1)})
        draft = AssignmentRead.model_validate({**base, "stages": [], "word_min": None, "published_at": None})
        assert pick_assignment([later, past, sooner, draft], now) is sooner
        assert pick_assignment([past, draft], now) is past
        assert pick_assignment([draft], now) is draft
        assert pick_assignment([], now) is None
