"""Courses, join codes and rosters through the JSON API (real app, real database)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Course, CourseMember, CourseRole
from scribetree.tenancy.models import Role
from tests.factories.courses import create_assignment, create_course, create_course_member, enroll
from tests.factories.tenancy import create_member


async def actions(session) -> list[str]:
    await session.commit()
    found = [e.action for e in (await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars()]
    await session.commit()  # end the read: a stale SQLite snapshot cannot write later
    return found


async def course_row(session, course_id) -> Course:
    await session.commit()
    return (
        await session.execute(select(Course).where(Course.id == course_id).execution_options(populate_existing=True))
    ).scalar_one()


class TestCreateAndList:
    @pytest.mark.auth(role="educator")
    async def test_educator_creates_a_course_and_becomes_its_instructor(self, client, session, actor):
        r = await client.post(
            "/api/v1/courses",
            json={
                "title": "  Composition 101 ",
                "section": "A",
                "term": "Fall 2026",
                "starts_on": "2026-09-01",
                "ends_on": "2026-12-15",
            },
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["title"] == "Composition 101" and body["my_role"] == "instructor"
        assert body["section"] == "A" and body["term"] == "Fall 2026" and body["ends_on"] == "2026-12-15"
        assert len(body["join_code"]) == 8 and body["join_code"].isalnum()
        member = (
            await session.execute(select(CourseMember).where(CourseMember.course_id == uuid.UUID(body["id"])))
        ).scalar_one()
        assert (member.user_id, member.role) == (actor.user.id, "instructor")
        assert "course.created" in await actions(session)
        listed = (await client.get("/api/v1/courses")).json()
        assert [c["id"] for c in listed] == [body["id"]]

    @pytest.mark.auth(role="educator")
    async def test_no_join_code_when_asked(self, client):
        r = await client.post("/api/v1/courses", json={"title": "Quiet", "join_code_enabled": False})
        assert r.status_code == 201 and r.json()["join_code"] is None

    @pytest.mark.parametrize("role", ["student", "teaching_assistant"])
    async def test_students_and_tas_cannot_create(self, role, client_for, session, tenant):
        user, _ = await create_member(session, tenant, Role(role))
        c = await client_for(user, tenant)
        r = await c.post("/api/v1/courses", json={"title": "Mine"})
        assert r.status_code == 403 and r.json()["error"] == "CourseCreatorRequired"
        assert (await session.execute(select(Course))).first() is None

    @pytest.mark.auth(role="educator")
    @pytest.mark.parametrize(
        "body",
        [
            {"title": ""},
            {"title": "   "},
            {"title": "x" * 201},
            {"title": "Dates", "starts_on": "2026-09-02", "ends_on": "2026-09-01"},
            {"title": "Dates", "starts_on": "not a date"},
            {"title": "Section", "section": "s" * 101},
        ],
    )
    async def test_bad_input_is_422_and_stores_nothing(self, client, session, body):
        r = await client.post("/api/v1/courses", json=body)
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", r.text
        assert (await session.execute(select(Course))).first() is None

    async def test_listing_depends_on_the_role(self, client_for, session, tenant, other_tenant):
        mine = await create_course(session, tenant, title="A mine")
        theirs = await create_course(session, tenant, title="B theirs")
        archived = await create_course(session, tenant, title="C archived")
        await create_course(session, other_tenant, title="Elsewhere")
        educator = await create_course_member(session, mine, tenant, CourseRole.instructor)
        student = await create_course_member(session, mine, tenant, CourseRole.student)
        await enroll(session, archived, student)
        await enroll(session, archived, educator, CourseRole.instructor)
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        await session.commit()
        archive = await (await client_for(educator, tenant)).post(f"/api/v1/courses/{archived.id}/archive")
        assert archive.status_code == 200 and archive.json()["archived_at"]

        def titles(r):
            assert r.status_code == 200, r.text
            return [c["title"] for c in r.json()]

        e = await client_for(educator, tenant)
        assert titles(await e.get("/api/v1/courses")) == ["A mine"]
        assert titles(await e.get("/api/v1/courses?archived=true")) == ["C archived"]
        s = await client_for(student, tenant)
        listed = (await s.get("/api/v1/courses")).json()
        assert [c["title"] for c in listed] == ["A mine"] and listed[0]["join_code"] is None
        assert titles(await s.get("/api/v1/courses?archived=true")) == []
        a = await client_for(admin, tenant)
        got = (await a.get("/api/v1/courses")).json()
        assert [(c["title"], c["my_role"]) for c in got] == [("A mine", "admin"), ("B theirs", "admin")]
        assert got[0]["join_code"] == mine.join_code
        assert theirs.id


class TestUpdateAndArchive:
    async def test_instructor_updates_partially_and_clears_with_null(self, client_for, session, tenant):
        course = await create_course(session, tenant, section="A", term="Fall")
        instructor = await create_course_member(session, course, tenant, CourseRole.instructor)
        await session.commit()
        c = await client_for(instructor, tenant)
        r = await c.patch(f"/api/v1/courses/{course.id}", json={"title": "Renamed", "section": None})
        assert r.status_code == 200, r.text
        assert (r.json()["title"], r.json()["section"], r.json()["term"]) == ("Renamed", None, "Fall")
        r = await c.patch(f"/api/v1/courses/{course.id}", json={"title": None})
        assert r.status_code == 422 and r.json()["error"] == "CourseInvalid"
        r = await c.patch(f"/api/v1/courses/{course.id}", json={"starts_on": "2026-10-01"})
        assert r.status_code == 200
        r = await c.patch(f"/api/v1/courses/{course.id}", json={"ends_on": "2026-09-01"})
        assert r.status_code == 422 and "end date" in r.json()["detail"]
        assert (await course_row(session, course.id)).ends_on is None
        assert (await actions(session)).count("course.updated") == 2

    @pytest.mark.parametrize(("role", "status"), [("ta", 403), ("student", 403)])
    async def test_tas_and_students_cannot_change_the_course(self, client_for, session, tenant, role, status):
        course = await create_course(session, tenant, title="Stays")
        user = await create_course_member(session, course, tenant, CourseRole(role))
        await session.commit()
        c = await client_for(user, tenant)
        for method, url, body in (
            ("PATCH", f"/api/v1/courses/{course.id}", {"title": "Changed"}),
            ("POST", f"/api/v1/courses/{course.id}/archive", None),
            ("POST", f"/api/v1/courses/{course.id}/join-code", None),
            ("DELETE", f"/api/v1/courses/{course.id}/join-code", None),
        ):
            r = await c.request(method, url, json=body)
            assert r.status_code == status and r.json()["error"] == "CourseRoleRequired", (method, url, r.text)
        row = await course_row(session, course.id)
        assert (row.title, row.archived_at, row.join_code) == ("Stays", None, course.join_code)

    async def test_archived_course_is_read_only_and_hidden_from_students(self, client_for, session, tenant):
        course = await create_course(session, tenant)
        instructor = await create_course_member(session, course, tenant, CourseRole.instructor)
        student = await create_course_member(session, course, tenant, CourseRole.student)
        a = await create_assignment(session, course)
        await session.commit()
        c, s = await client_for(instructor, tenant), await client_for(student, tenant)
        assert (await c.post(f"/api/v1/courses/{course.id}/archive")).status_code == 200
        assert (await s.get(f"/api/v1/courses/{course.id}")).status_code == 404
        assert (await s.get(f"/api/v1/assignments/{a.id}")).status_code == 404
        r = await c.patch(f"/api/v1/courses/{course.id}", json={"title": "No"})
        assert r.status_code == 409 and r.json()["error"] == "CourseArchived"
        r = await c.post(f"/api/v1/courses/{course.id}/assignments", json={"title": "No"})
        assert r.status_code == 409
        assert (await c.get(f"/api/v1/assignments/{a.id}")).status_code == 200
        other, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        r = await (await client_for(other, tenant)).post("/api/v1/courses/join", json={"code": course.join_code})
        assert r.status_code == 404 and r.json()["error"] == "JoinCodeInvalid"
        r = await c.post(f"/api/v1/courses/{course.id}/restore")
        assert r.status_code == 200 and r.json()["archived_at"] is None
        assert (await s.get(f"/api/v1/assignments/{a.id}")).status_code == 200
        assert {"course.archived", "course.restored"} <= set(await actions(session))


class TestJoinCodes:
    async def test_student_joins_by_code_in_any_case_and_spacing(self, client_for, session, tenant):
        course = await create_course(session, tenant, join_code="ABCD2345")
        student, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        s = await client_for(student, tenant)
        r = await s.post("/api/v1/courses/join", json={"code": " abcd-2345 "})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == str(course.id) and r.json()["my_role"] == "student" and r.json()["join_code"] is None
        again = await s.post("/api/v1/courses/join", json={"code": "ABCD2345"})
        assert again.status_code == 200
        rows = (await session.execute(select(CourseMember).where(CourseMember.user_id == student.id))).scalars().all()
        assert [m.role for m in rows] == ["student"]
        assert (await actions(session)).count("course.joined") == 1

    async def test_rotate_and_disable(self, client_for, session, tenant):
        course = await create_course(session, tenant, join_code="OLDC0DE9")
        instructor = await create_course_member(session, course, tenant, CourseRole.instructor)
        s1, _ = await create_member(session, tenant, Role.student)
        s2, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        c = await client_for(instructor, tenant)
        new = (await c.post(f"/api/v1/courses/{course.id}/join-code")).json()["join_code"]
        assert new and new != "OLDC0DE9"
        j1 = await client_for(s1, tenant)
        assert (await j1.post("/api/v1/courses/join", json={"code": "OLDC0DE9"})).status_code == 404
        assert (await j1.post("/api/v1/courses/join", json={"code": new})).status_code == 200
        r = await c.delete(f"/api/v1/courses/{course.id}/join-code")
        assert r.status_code == 200 and r.json()["join_code"] is None
        r = await (await client_for(s2, tenant)).post("/api/v1/courses/join", json={"code": new})
        assert r.status_code == 404 and "instructor" in r.json()["detail"]
        assert {"course.join_code_rotated", "course.join_code_disabled"} <= set(await actions(session))

    async def test_codes_are_per_institution(self, client_for, session, tenant, other_tenant):
        course = await create_course(session, tenant, join_code="SHARED22")
        outsider, _ = await create_member(session, other_tenant, Role.student)
        await session.commit()
        r = await (await client_for(outsider, other_tenant)).post("/api/v1/courses/join", json={"code": "SHARED22"})
        assert r.status_code == 404
        assert (await session.execute(select(CourseMember).where(CourseMember.course_id == course.id))).first() is None

    async def test_educators_are_added_not_joined(self, client_for, session, tenant):
        await create_course(session, tenant, join_code="TEACH234")
        educator, _ = await create_member(session, tenant, Role.educator)
        await session.commit()
        r = await (await client_for(educator, tenant)).post("/api/v1/courses/join", json={"code": "TEACH234"})
        assert r.status_code == 403 and r.json()["error"] == "JoinNotForStaff"

    @pytest.mark.auth(role="student")
    @pytest.mark.parametrize("code", ["", "abc", "x" * 17])
    async def test_malformed_codes_are_422(self, client, code):
        assert (await client.post("/api/v1/courses/join", json={"code": code})).status_code == 422


class TestRoster:
    @pytest.fixture
    async def course(self, session, tenant):
        course = await create_course(session, tenant)
        self.instructor = await create_course_member(session, course, tenant, CourseRole.instructor)
        self.ta = await create_course_member(session, course, tenant, CourseRole.ta)
        self.student = await create_course_member(session, course, tenant, CourseRole.student, display_name="Ann")
        await session.commit()
        return course

    async def test_who_may_read_the_roster(self, client_for, session, tenant, course):
        url = f"/api/v1/courses/{course.id}/members"
        got = (await (await client_for(self.instructor, tenant)).get(url)).json()
        assert sorted(m["role"] for m in got) == ["instructor", "student", "ta"]
        assert (await (await client_for(self.ta, tenant)).get(url)).status_code == 200
        r = await (await client_for(self.student, tenant)).get(url)
        assert r.status_code == 403

    async def test_add_by_email_and_by_id_then_change_role_and_remove(self, client_for, session, tenant, course):
        newcomer, _ = await create_member(session, tenant, Role.student, email="new.one@example.edu")
        another, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        c = await client_for(self.instructor, tenant)
        url = f"/api/v1/courses/{course.id}/members"
        r = await c.post(url, json={"email": "New.One@example.edu"})
        assert r.status_code == 201 and r.json()["role"] == "student" and r.json()["user_id"] == str(newcomer.id)
        r = await c.post(url, json={"user_id": str(another.id), "role": "ta"})
        assert r.status_code == 201 and r.json()["role"] == "ta"
        r = await c.post(url, json={"user_id": str(another.id)})
        assert r.status_code == 409 and r.json()["error"] == "AlreadyInCourse"
        r = await c.patch(f"{url}/{newcomer.id}", json={"role": "ta"})
        assert r.status_code == 200 and r.json()["role"] == "ta"
        n = await client_for(newcomer, tenant)
        assert (await n.get(url)).status_code == 200  # a TA now
        assert (await c.delete(f"{url}/{newcomer.id}")).status_code == 204
        assert (await n.get(f"/api/v1/courses/{course.id}")).status_code == 404
        assert (await c.delete(f"{url}/{newcomer.id}")).status_code == 404
        got = await actions(session)
        assert got.count("course.member_added") == 2
        assert {"course.member_role_changed", "course.member_removed"} <= set(got)

    async def test_only_institution_members_and_educator_instructors(
        self, client_for, session, tenant, other_tenant, course
    ):
        stranger, _ = await create_member(session, other_tenant, Role.educator)
        await session.commit()
        c = await client_for(self.instructor, tenant)
        url = f"/api/v1/courses/{course.id}/members"
        for body in ({"user_id": str(stranger.id)}, {"email": stranger.email}, {"email": "nobody@example.edu"}):
            r = await c.post(url, json=body)
            assert r.status_code == 422 and r.json()["error"] == "NotInstitutionMember", r.text
        for body in ({}, {"email": stranger.email, "user_id": str(stranger.id)}):
            r = await c.post(url, json=body)
            assert r.status_code == 422 and r.json()["error"] == "CourseInvalid"
        r = await c.patch(f"{url}/{self.student.id}", json={"role": "instructor"})
        assert r.status_code == 422 and r.json()["error"] == "InstructorNeedsEducator"
        r = await c.patch(f"{url}/{self.student.id}", json={"role": "owner"})
        assert r.status_code == 422

    async def test_the_last_instructor_stays(self, client_for, session, tenant, course):
        c = await client_for(self.instructor, tenant)
        url = f"/api/v1/courses/{course.id}/members/{self.instructor.id}"
        r = await c.delete(url)
        assert r.status_code == 409 and r.json()["error"] == "LastInstructor"
        r = await c.patch(url, json={"role": "ta"})
        assert r.status_code == 409
        second, _ = await create_member(session, tenant, Role.educator)
        await session.commit()
        r = await c.post(f"/api/v1/courses/{course.id}/members", json={"user_id": str(second.id), "role": "instructor"})
        assert r.status_code == 201
        assert (await c.patch(url, json={"role": "ta"})).status_code == 200

    async def test_tas_cannot_manage_the_roster(self, client_for, session, tenant, course):
        t = await client_for(self.ta, tenant)
        url = f"/api/v1/courses/{course.id}/members"
        r = await t.delete(f"{url}/{self.student.id}")
        assert r.status_code == 403
        assert (await t.patch(f"{url}/{self.student.id}", json={"role": "ta"})).status_code == 403
        r = await (await client_for(self.student, tenant)).post(url, json={"user_id": str(self.student.id)})
        assert r.status_code == 403

    async def test_admins_manage_any_course(self, client_for, session, tenant, course):
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        await session.commit()
        a = await client_for(admin, tenant)
        r = await a.patch(f"/api/v1/courses/{course.id}/members/{self.student.id}", json={"role": "ta"})
        assert r.status_code == 200

    async def test_other_tenant_gets_404_everywhere(self, client_for, session, tenant, other_tenant, course):
        intruder, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        x = await client_for(intruder, other_tenant)
        base = f"/api/v1/courses/{course.id}"
        for method, url, body in (
            ("GET", base, None),
            ("PATCH", base, {"title": "Hacked"}),
            ("POST", f"{base}/archive", None),
            ("POST", f"{base}/join-code", None),
            ("GET", f"{base}/members", None),
            ("POST", f"{base}/members", {"user_id": str(intruder.id)}),
            ("DELETE", f"{base}/members/{self.student.id}", None),
            ("GET", f"{base}/assignments", None),
        ):
            r = await x.request(method, url, json=body)
            assert r.status_code == 404, (method, url, r.text)
        row = await course_row(session, course.id)
        assert row.title == course.title and row.archived_at is None


class TestJoinLimitsAndRaces:
    async def test_guessing_codes_is_rate_limited(self, client_for, session, tenant):
        """20 tries a minute (fixed windows: a run that crosses a window edge gets up to 20 more before the 429)."""
        student, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        s = await client_for(student, tenant)
        statuses = []
        for n in range(41):
            r = await s.post("/api/v1/courses/join", json={"code": f"GUESS{n:03d}"})
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        assert set(statuses[:-1]) == {404} and len(statuses) > 20
        assert int(r.headers["retry-after"]) > 0 and "Too many join attempts" in r.json()["detail"]

    async def test_two_joins_at_once_make_one_membership(self, client_for, session, tenant):
        import asyncio

        course = await create_course(session, tenant, join_code="TWICE234")
        student, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        a, b = await client_for(student, tenant), await client_for(student, tenant)
        ra, rb = await asyncio.gather(
            a.post("/api/v1/courses/join", json={"code": "TWICE234"}),
            b.post("/api/v1/courses/join", json={"code": "TWICE234"}),
        )
        assert (ra.status_code, rb.status_code) == (200, 200), (ra.text, rb.text)
        assert ra.json()["my_role"] == rb.json()["my_role"] == "student"
        rows = (await session.execute(select(CourseMember).where(CourseMember.course_id == course.id))).all()
        assert len(rows) == 1
        assert (await actions(session)).count("course.joined") == 1

    async def test_a_second_insert_of_the_same_member_is_refused_quietly(self, session, tenant):
        from scribetree.courses.repository import CourseMemberRepository

        course = await create_course(session, tenant)
        student, _ = await create_member(session, tenant, Role.student)
        repo = CourseMemberRepository(session, tenant.id)
        first = await repo.add_once(CourseMember(course_id=course.id, user_id=student.id, role=CourseRole.student))
        again = await repo.add_once(CourseMember(course_id=course.id, user_id=student.id, role=CourseRole.ta))
        assert first is not None and again is None
        assert await repo.role_of(course.id, student.id) == "student"  # the outer transaction is intact
        await session.rollback()
