"""``access_course`` / ``assignment_access`` / ``staff_course_ids``: the contract the writing domain relies on."""

from __future__ import annotations

import uuid

import pytest

from scribetree.core import clock
from scribetree.courses.access import Need, access_assignment, access_course
from scribetree.courses.exceptions import AssignmentNotFound, CourseNotFound, CourseRoleRequired
from scribetree.courses.models import AssignmentKind, CourseRole
from scribetree.courses.service import assignment_access, course_access, staff_course_ids
from scribetree.tenancy.models import Role
from tests.factories.courses import create_assignment, create_course, create_course_member, create_group, enroll
from tests.factories.tenancy import create_member


@pytest.fixture
async def world(session, tenant, other_tenant):
    course = await create_course(session, tenant)
    people = {
        "instructor": await create_course_member(session, course, tenant, CourseRole.instructor),
        "ta": await create_course_member(session, course, tenant, CourseRole.ta),
        "student": await create_course_member(session, course, tenant, CourseRole.student),
        "outsider": (await create_member(session, tenant, Role.student))[0],
        "educator": (await create_member(session, tenant, Role.educator))[0],
        "admin": (await create_member(session, tenant, Role.institution_admin))[0],
        "other_admin": (await create_member(session, other_tenant, Role.institution_admin))[0],
    }
    published = await create_assignment(session, course, published=True)
    draft = await create_assignment(session, course, published=False)
    await session.commit()
    return {"course": course, "people": people, "published": published, "draft": draft}


async def ctx(ctx_for, world, who, tenant, other_tenant):
    return await ctx_for(world["people"][who], other_tenant if who == "other_admin" else tenant)


class TestAssignmentAccess:
    @pytest.mark.parametrize(
        ("who", "draft_visible", "role"),
        [
            ("instructor", True, "instructor"),
            ("ta", True, "ta"),
            ("student", False, "student"),
            ("admin", True, "admin"),
        ],
    )
    async def test_who_sees_what(self, session, ctx_for, world, tenant, other_tenant, who, draft_visible, role):
        c = await ctx(ctx_for, world, who, tenant, other_tenant)
        acc = await assignment_access(session, c, world["published"].id)
        assert acc.assignment.id == world["published"].id and acc.course_role == role and acc.group_id is None
        if draft_visible:
            assert (await assignment_access(session, c, world["draft"].id)).course_role == role
        else:
            with pytest.raises(AssignmentNotFound) as err:
                await assignment_access(session, c, world["draft"].id)
            assert err.value.status_code == 404

    @pytest.mark.parametrize("who", ["outsider", "educator", "other_admin"])
    async def test_no_course_role_is_404(self, session, ctx_for, world, tenant, other_tenant, who):
        c = await ctx(ctx_for, world, who, tenant, other_tenant)
        for a in (world["published"], world["draft"]):
            with pytest.raises(AssignmentNotFound):
                await assignment_access(session, c, a.id)
        with pytest.raises(CourseNotFound):
            await course_access(session, c, world["course"].id)

    async def test_unknown_id_is_404(self, session, ctx_for, world, tenant, other_tenant):
        c = await ctx(ctx_for, world, "instructor", tenant, other_tenant)
        with pytest.raises(AssignmentNotFound):
            await assignment_access(session, c, uuid.uuid4())

    async def test_archived_course_hides_everything_from_students_only(
        self, session, ctx_for, world, tenant, other_tenant
    ):
        world["course"].archived_at = clock.utcnow()
        await session.commit()
        student = await ctx(ctx_for, world, "student", tenant, other_tenant)
        with pytest.raises(AssignmentNotFound):
            await assignment_access(session, student, world["published"].id)
        with pytest.raises(CourseNotFound):
            await course_access(session, student, world["course"].id)
        instructor = await ctx(ctx_for, world, "instructor", tenant, other_tenant)
        assert (await assignment_access(session, instructor, world["published"].id)).course_role == "instructor"

    async def test_group_id_for_a_student_of_a_group_assignment(self, session, ctx_for, world, tenant, other_tenant):
        a = await create_assignment(session, world["course"], kind=AssignmentKind.group)
        g = await create_group(session, a, [world["people"]["student"]])
        ungrouped = await create_course_member(session, world["course"], tenant, CourseRole.student)
        await session.commit()
        student = await ctx(ctx_for, world, "student", tenant, other_tenant)
        assert (await assignment_access(session, student, a.id)).group_id == g.id
        assert (await assignment_access(session, await ctx_for(ungrouped, tenant), a.id)).group_id is None
        assert (
            await assignment_access(session, await ctx(ctx_for, world, "ta", tenant, other_tenant), a.id)
        ).group_id is None

    async def test_needs(self, session, ctx_for, world, tenant, other_tenant):
        ta = await ctx(ctx_for, world, "ta", tenant, other_tenant)
        student = await ctx(ctx_for, world, "student", tenant, other_tenant)
        assert (await access_assignment(session, ta, world["draft"].id, Need.teach)).course_role == "ta"
        with pytest.raises(CourseRoleRequired) as err:
            await access_assignment(session, ta, world["draft"].id, Need.manage)
        assert err.value.status_code == 403
        with pytest.raises(CourseRoleRequired):
            await access_course(session, student, world["course"].id, Need.teach)
        admin = await ctx(ctx_for, world, "admin", tenant, other_tenant)
        assert (await access_course(session, admin, world["course"].id, Need.manage)).course_role == "admin"


class TestStaffCourseIds:
    async def test_instructor_and_ta_courses_only(self, session, ctx_for, world, tenant, other_tenant):
        ta_user = world["people"]["ta"]
        second = await create_course(session, tenant)
        await enroll(session, second, ta_user, CourseRole.instructor)
        as_student = await create_course(session, tenant)
        await enroll(session, as_student, ta_user, CourseRole.student)
        await create_course(session, tenant)  # not theirs
        await session.commit()
        got = await staff_course_ids(session, await ctx(ctx_for, world, "ta", tenant, other_tenant))
        assert sorted(got) == sorted([world["course"].id, second.id])
        assert await staff_course_ids(session, await ctx(ctx_for, world, "student", tenant, other_tenant)) == []
        assert await staff_course_ids(session, await ctx(ctx_for, world, "admin", tenant, other_tenant)) == []


class TestPlatformStaff:
    """An operator's session belongs to no institution: nothing of any course is theirs."""

    async def test_no_tenant_no_courses(self, session, world):
        from scribetree.core.audit import RequestMeta
        from scribetree.identity.models import PlatformRole
        from scribetree.identity.service import identity
        from scribetree.tenancy.service import access
        from tests.factories.tenancy import create_platform_user

        operator = await create_platform_user(session, PlatformRole.operator)
        token, _ = await identity.start_session(session, user=operator, tenant_id=None, meta=RequestMeta())
        await session.commit()
        c = await access.context_from_session(session, token, RequestMeta())
        assert c is not None and c.tenant_id is None
        with pytest.raises(AssignmentNotFound):
            await assignment_access(session, c, world["published"].id)
        with pytest.raises(CourseNotFound):
            await course_access(session, c, world["course"].id)
        assert await staff_course_ids(session, c) == []
        from scribetree.courses.service import course

        with pytest.raises(CourseNotFound):
            await course.list_courses(session, c)


class TestCost:
    async def test_assignment_access_is_one_statement(self, session, ctx_for, world, tenant, other_tenant):
        from sqlalchemy import event

        a = await create_assignment(session, world["course"], kind=AssignmentKind.group)
        g = await create_group(session, a, [world["people"]["student"]])
        await session.commit()
        student = await ctx(ctx_for, world, "student", tenant, other_tenant)
        found: list[str] = []

        def note(conn, cursor, statement, *args):
            found.append(statement)

        engine = session.bind.sync_engine
        event.listen(engine, "before_cursor_execute", note)
        try:
            acc = await assignment_access(session, student, a.id)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert acc.group_id == g.id and acc.course_role == "student"
        assert len([s for s in found if s.lstrip().upper().startswith("SELECT")]) == 1, found
        await session.commit()
