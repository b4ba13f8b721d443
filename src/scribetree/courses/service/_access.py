from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.access import (
    STAFF_ROLES,
    AssignmentAccess,
    CourseAccess,
    Need,
    access_assignment,
    access_course,
)
from scribetree.courses.repository import CourseMemberRepository
from scribetree.tenancy.context import AuthContext


async def assignment_access(session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> AssignmentAccess:
    """Raises the courses NotFound error (404) when the assignment is not in ctx's tenant, or the user has no role
    in its course, or the user is a student and the assignment is unpublished or the course archived."""
    return await access_assignment(session, ctx, assignment_id, Need.view)


async def course_access(session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> CourseAccess:
    """The course and the caller's role in it; 404 on the same terms as ``assignment_access``."""
    return await access_course(session, ctx, course_id, Need.view)


async def staff_course_ids(session: AsyncSession, ctx: AuthContext) -> list[uuid.UUID]:
    """Courses where the caller is instructor or TA (archived ones included)."""
    if ctx.tenant_id is None:
        return []
    return await CourseMemberRepository(session, ctx.tenant_id).course_ids(ctx.user_id, STAFF_ROLES)
