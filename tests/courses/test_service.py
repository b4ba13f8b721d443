"""Service-level checks: query counts of the lists do not grow with their length; audit entries say who did
what to which object in which institution."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from scribetree.core.audit import AuditEvent
from scribetree.courses.models import CourseRole
from scribetree.courses.schemas import AssignmentCreate, CourseCreate
from scribetree.courses.service import assignment, course
from scribetree.tenancy.models import Role
from tests.factories.courses import create_assignment, create_course, create_course_member, enroll
from tests.factories.tenancy import create_member


@contextmanager
def selects(session):
    found: list[str] = []

    def note(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            found.append(statement)

    engine = session.bind.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", note)


class TestQueryCounts:
    async def test_lists_cost_the_same_for_2_and_8_rows(self, session, tenant, ctx_for):
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        first = await create_course(session, tenant)
        teacher = await create_course_member(session, first, tenant, CourseRole.instructor)
        await session.commit()
        ctx = await ctx_for(teacher, tenant)
        admin_ctx = await ctx_for(admin, tenant)
        counts = []
        for total in (2, 8):
            while len(await course.list_courses(session, ctx)) < total:
                c = await create_course(session, tenant)
                await enroll(session, c, teacher, CourseRole.instructor)
                await create_assignment(session, first)
                await create_course_member(session, first, tenant, CourseRole.student)
                await session.commit()
            with selects(session) as q1:
                mine = await course.list_courses(session, ctx)
            with selects(session) as q2:
                every = await course.list_courses(session, admin_ctx)
            with selects(session) as q3:
                listed = await assignment.list_for_course(session, ctx, first.id)
            with selects(session) as q4:
                roster = await course.list_members(session, ctx, first.id)
            assert len(mine) == len(every) == total and len(listed) == total - 1 and len(roster) == total
            counts.append((len(q1), len(q2), len(q3), len(q4)))
            await session.commit()
        assert counts[0] == counts[1] == (1, 1, 3, 3), counts


class TestAudit:
    async def test_entries_name_actor_target_and_institution(self, session, tenant, ctx_for):
        teacher, _ = await create_member(session, tenant, Role.educator)
        await session.commit()
        ctx = await ctx_for(teacher, tenant)
        c = await course.create(session, ctx, CourseCreate(title="Audited"))
        a = await assignment.create(session, ctx, c.id, AssignmentCreate(title="Essay"))
        await assignment.set_published(session, ctx, a.id, True)
        await session.commit()
        rows = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.action.like("course.%") | AuditEvent.action.like("assignment.%"))
                    .order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .all()
        )
        assert [(r.action, r.target_type, r.target_id) for r in rows] == [
            ("course.created", "course", str(c.id)),
            ("assignment.created", "assignment", str(a.id)),
            ("assignment.published", "assignment", str(a.id)),
        ]
        assert {r.tenant_id for r in rows} == {tenant.id} and {r.actor_user_id for r in rows} == {teacher.id}
        assert rows[1].details == {"course_id": str(c.id), "title": "Essay"}
        await session.commit()
