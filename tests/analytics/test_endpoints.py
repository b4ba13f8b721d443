"""/api/v1/analytics over HTTP: figures from a real history, 404 for anyone without access, 422 for bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.models import CourseRole
from scribetree.tenancy.models import Role, Tenant
from tests.analytics.test_service import T0, Writer, write_history
from tests.factories.courses import create_course, enroll
from tests.factories.tenancy import create_member
from tests.writing.conftest import ClientFor, CtxFor, Klass


class TestAnalyticsApi:
    async def test_staff_student_and_strangers(
        self, klass: Klass, ctx_for: CtxFor, client_for: ClientFor, other_tenant: Tenant, session: AsyncSession
    ) -> None:
        outsider, _ = await create_member(session, other_tenant, Role.institution_admin)
        stranger = await client_for(outsider, other_tenant)
        ta = await client_for(klass.ta, klass.tenant)
        me = await client_for(klass.student, klass.tenant)
        mate = await client_for(klass.classmate, klass.tenant)
        w = await Writer.open(await ctx_for(klass.student, klass.tenant), klass.assignment.id, T0)
        await write_history(w)
        await w.send(T0 + timedelta(days=1), [{"kind": "insert", "t": 1, "pos": 0, "text": "Now "}])

        urls = {
            "document": f"/api/v1/analytics/documents/{w.document_id}",
            "course": f"/api/v1/analytics/courses/{klass.course.id}",
            "assignment": f"/api/v1/analytics/assignments/{klass.assignment.id}",
            "student": f"/api/v1/analytics/courses/{klass.course.id}/students/{klass.student.id}",
            "daily": f"/api/v1/analytics/courses/{klass.course.id}/daily?days=366",
        }
        r = await me.get(urls["document"])  # the author's page view catches the document up
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["words_added"], body["words_deleted"], body["word_count"], body["sessions"]) == (8, 1, 7, 3)
        assert body["stale"] is False and body["style"]["words"] == 7
        for name, url in urls.items():
            r = await ta.get(url)
            assert r.status_code == 200, (name, r.text)
        course = (await ta.get(urls["course"])).json()
        assert [(p["day"], p["words_added"]) for p in course["progress"]] == [
            (T0.date().isoformat(), 7),
            ((T0 + timedelta(days=1)).date().isoformat(), 1),
        ]
        assert course["cumulative_words"] == [6, 7]
        student = (await me.get(urls["student"])).json()
        assert student["words_added"] == 8 and len(student["daily"]) == 2
        for name in ("course", "assignment", "daily"):
            r = await me.get(urls[name])
            assert (r.status_code, r.json()["error"]) == (404, "AnalyticsNotFound"), name
        for name, url in urls.items():
            if name == "daily":
                continue
            r = await mate.get(url)
            assert r.status_code == 404, name
            r = await stranger.get(url)
            assert r.status_code == 404, name
        r = await ta.get(f"/api/v1/analytics/courses/{klass.course.id}/daily?days=0")
        assert (r.status_code, r.json()["error"]) == (422, "InvalidRange")
        r = await ta.get(f"/api/v1/analytics/courses/{klass.course.id}/daily?days=many")
        assert r.status_code == 422
        r = await ta.get("/api/v1/analytics/documents/not-a-uuid")
        assert r.status_code in (404, 422)

    async def test_an_admin_of_the_institution_sees_any_course(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        admin, _ = await create_member(session, klass.tenant, Role.institution_admin)
        r = await (await client_for(admin, klass.tenant)).get(f"/api/v1/analytics/courses/{klass.course.id}")
        assert r.status_code == 200 and r.json()["students"] == 2

    async def test_a_student_of_another_course_gets_404(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        other = await create_course(session, klass.tenant)
        someone, _ = await create_member(session, klass.tenant, Role.student)
        await enroll(session, other, someone, CourseRole.student)
        c = await client_for(someone, klass.tenant)
        r = await c.get(f"/api/v1/analytics/courses/{klass.course.id}/students/{klass.student.id}")
        assert r.status_code == 404
        r = await c.get(f"/api/v1/analytics/courses/{klass.course.id}/students/{someone.id}")
        assert r.status_code == 404  # not a member of that course
