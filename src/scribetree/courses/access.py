"""Object-level access to courses and assignments (STYLE N4): one function per object type.

Missing and forbidden look the same (404) for anything the caller may not see. A caller who can see the
object but whose course role does not allow the action gets 403 (``CourseRoleRequired``).

Course roles: ``instructor`` (everything), ``ta`` (sees the roster, creates and edits assignments and groups;
does not publish, delete, manage the roster or join codes, archive), ``student`` (sees the course while it is
not archived, and its published assignments). An institution admin with no higher course role acts as
``admin``: everything an instructor may do, in every course of the institution. Support sessions have no
course role and see no course.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.exceptions import AssignmentNotFound, CourseNotFound, CourseRoleRequired
from scribetree.courses.models import Assignment, AssignmentKind, Course, CourseRole
from scribetree.courses.repository import AssignmentRepository, CourseMemberRepository, CourseRepository
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Role

ADMIN = "admin"
STAFF_ROLES = (CourseRole.instructor, CourseRole.ta)


class Need(IntEnum):
    view = 1  # any course role (students: not archived, published assignments only)
    teach = 2  # instructor, ta, admin
    manage = 3  # instructor, admin


_LEVEL = {
    CourseRole.student: Need.view,
    CourseRole.ta: Need.teach,
    CourseRole.instructor: Need.manage,
    ADMIN: Need.manage,
}


@dataclass(frozen=True)
class CourseAccess:
    course: Course
    course_role: str  # "instructor" | "ta" | "student" | "admin"


@dataclass(frozen=True)
class AssignmentAccess:
    assignment: Assignment  # the ORM row
    course_role: str  # "instructor" | "ta" | "student" | "admin" (institution admin, no course role)
    group_id: uuid.UUID | None  # the student's group for a group assignment, else None


def is_institution_admin(ctx: AuthContext) -> bool:
    return ctx.role == Role.institution_admin and not ctx.is_support_session


def effective_role(ctx: AuthContext, member_role: CourseRole | str | None) -> str | None:
    """The caller's role in a course, given their membership row's role (None: not a member)."""
    if member_role == CourseRole.instructor:
        return CourseRole.instructor
    if is_institution_admin(ctx):
        return ADMIN
    return CourseRole(member_role) if member_role else None


def _role_or_404(ctx: AuthContext, course: Course, member_role: CourseRole | str | None) -> str:
    role = effective_role(ctx, member_role)
    if role is None or (role == CourseRole.student and course.archived_at is not None):
        raise CourseNotFound()
    return role


async def access_course(
    session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, need: Need = Need.view
) -> CourseAccess:
    """The course and the caller's role in it, or ``CourseNotFound`` (not in the tenant, not a member, or a
    student of an archived course); ``CourseRoleRequired`` (403) when the role is below ``need``."""
    if ctx.tenant_id is None:
        raise CourseNotFound()
    course = await CourseRepository(session, ctx.tenant_id).get(course_id)
    if course is None:
        raise CourseNotFound()
    role = _role_or_404(
        ctx, course, await CourseMemberRepository(session, ctx.tenant_id).role_of(course.id, ctx.user_id)
    )
    if _LEVEL[role] < need:
        raise CourseRoleRequired()
    return CourseAccess(course=course, course_role=role)


async def access_assignment(
    session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, need: Need = Need.view
) -> AssignmentAccess:
    """The assignment with the caller's course role (and group), or ``AssignmentNotFound`` when it is not in
    the caller's tenant, the caller has no role in its course, or the caller is a student and the assignment
    is unpublished or the course archived; ``CourseRoleRequired`` (403) when the role is below ``need``.
    One statement (it runs on every edit batch of the writing domain)."""
    if ctx.tenant_id is None:
        raise AssignmentNotFound()
    found = await AssignmentRepository(session, ctx.tenant_id).with_course_and_role(assignment_id, ctx.user_id)
    if found is None:
        raise AssignmentNotFound()
    assignment, course, member_role, group_id = found
    try:
        role = _role_or_404(ctx, course, member_role)
    except CourseNotFound:
        raise AssignmentNotFound() from None
    if role == CourseRole.student and assignment.published_at is None:
        raise AssignmentNotFound()
    if _LEVEL[role] < need:
        raise CourseRoleRequired()
    is_group_student = role == CourseRole.student and assignment.kind == AssignmentKind.group
    return AssignmentAccess(assignment=assignment, course_role=role, group_id=group_id if is_group_student else None)
