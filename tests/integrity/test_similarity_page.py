"""The similarity page: passages side by side for staff, the author's own side only for the student, student text
escaped, 404 for anyone else, a progress note while the comparison is pending, and the staff view audited."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from scribetree.courses.models import CourseRole
from scribetree.tenancy.models import Role
from tests.factories.courses import create_course, create_course_member
from tests.factories.tenancy import create_member
from tests.integrity.test_similarity import PARAPHRASE, SHARED_1, SOURCE, indexed, submit
from tests.writing.conftest import ClientFor, Klass

HOSTILE = '<script>alert("x")</script> & <b>bold</b> '


async def test_staff_see_both_sides_and_student_text_is_escaped(
    session: AsyncSession, klass: Klass, client_for: ClientFor
) -> None:
    first = await submit(session, klass.assignment, klass.student, HOSTILE + SOURCE)
    await indexed(session, first)
    second = await submit(session, klass.assignment, klass.classmate, PARAPHRASE.replace(SHARED_1, HOSTILE + SHARED_1))
    await indexed(session, second)
    c = await client_for(klass.instructor, klass.tenant)
    r = await c.get(f"/submissions/{second.id}/similarity")
    assert r.status_code == 200
    html = r.text
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html and "&lt;b&gt;bold" in html
    assert html.count(f"<mark>{SHARED_1.rstrip('.')}</mark>") == 2  # this submission and the other, side by side
    assert "Ada Student" in html and "same assignment" in html
    assert f'href="/submissions/{first.id}/similarity"' in html
    await session.rollback()
    views = await session.scalar(
        select(func.count()).where(AuditEvent.action == "similarity.viewed", AuditEvent.target_id == str(second.id))
    )
    assert views == 1


async def test_the_student_sees_only_their_own_side(session: AsyncSession, klass: Klass, client_for: ClientFor) -> None:
    first = await submit(session, klass.assignment, klass.student, SOURCE)
    await indexed(session, first)
    second = await submit(session, klass.assignment, klass.classmate, PARAPHRASE)
    await indexed(session, second)
    c = await client_for(klass.classmate, klass.tenant)
    html = (await c.get(f"/submissions/{second.id}/similarity")).text
    assert f"<mark>{SHARED_1.rstrip('.')}</mark>" in html
    assert "Another student&#39;s text is not shown." in html or "Another student's text is not shown." in html
    assert "Ada Student" not in html and "printing press did more" not in html and str(first.id) not in html
    assert (await c.get(f"/submissions/{first.id}/similarity")).status_code == 404


async def test_pending_shows_progress_and_others_get_404(
    session: AsyncSession, klass: Klass, client_for: ClientFor
) -> None:
    sub = await submit(session, klass.assignment, klass.student, SOURCE)
    await session.commit()
    c = await client_for(klass.student, klass.tenant)
    html = (await c.get(f"/submissions/{sub.id}/similarity")).text
    assert 'id="similarity-pending"' in html and "<progress" in html and "js/similarity.js" in html
    other_course = await create_course(session, klass.tenant)
    stranger = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
    await session.commit()
    s = await client_for(stranger, klass.tenant)
    assert (await s.get(f"/submissions/{sub.id}/similarity")).status_code == 404
    assert (await s.get(f"/submissions/{uuid.uuid4()}/similarity")).status_code == 404
    assert (await s.get("/submissions/nope/similarity")).status_code == 404


async def test_admin_page_turns_cross_course_comparison_on_and_off(
    session: AsyncSession, klass: Klass, client_for: ClientFor
) -> None:
    admin, _ = await create_member(session, klass.tenant, Role.institution_admin)
    await session.commit()
    a = await client_for(admin, klass.tenant)
    page = await a.get("/admin/similarity")
    assert page.status_code == 200 and "within their course only" in page.text
    assert 'for="s-cross_course"' in page.text and 'name="csrf_token"' in page.text
    r = await a.post("/admin/similarity", data={"cross_course": "yes"})
    assert r.status_code == 422
    assert (await a.get("/api/v1/similarity-settings")).json()["cross_course"] is False
    r = await a.post("/admin/similarity", data={"cross_course": "on"})
    assert r.status_code == 303
    assert (await a.get("/api/v1/similarity-settings")).json()["cross_course"] is True
    assert "across the institution" in (await a.get("/admin/similarity")).text
    r = await a.post("/admin/similarity", data={})
    assert r.status_code == 303 and (await a.get("/api/v1/similarity-settings")).json()["cross_course"] is False
    teacher = await client_for(klass.instructor, klass.tenant)
    assert (await teacher.get("/admin/similarity")).status_code in (403, 404)
    assert (await teacher.post("/admin/similarity", data={"cross_course": "on"})).status_code in (403, 404)
    assert (await a.get("/api/v1/similarity-settings")).json()["cross_course"] is False
    await session.rollback()
    changes = await session.scalar(select(func.count()).where(AuditEvent.action == "similarity.settings_changed"))
    assert changes == 2
