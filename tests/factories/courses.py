"""Courses factories: real rows through the domain's models; flush, never commit."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.courses.models import (
    Assignment,
    AssignmentGroup,
    AssignmentGroupMember,
    AssignmentTemplate,
    Course,
    CourseMember,
    CourseRole,
)
from scribetree.courses.schemas import DEFAULT_STAGES
from scribetree.identity.models import User
from scribetree.tenancy.models import Role, Tenant
from tests.factories.tenancy import create_member

_seq = itertools.count(1)

RUBRIC: dict[str, Any] = {
    "criteria": [
        {
            "id": "thesis",
            "title": "Thesis",
            "description": "",
            "levels": [
                {"id": "thesis-1", "label": "Beginning", "points": 1.0, "description": ""},
                {"id": "thesis-4", "label": "Exemplary", "points": 4.0, "description": ""},
            ],
        }
    ],
    "total_points": 4.0,
}


async def create_course(session: AsyncSession, tenant: Tenant, **overrides: Any) -> Course:
    n = next(_seq)
    values: dict[str, Any] = {"title": f"Course {n}", "join_code": f"CODE{n:04d}"}
    values.update(overrides)
    course = Course(tenant_id=tenant.id, **values)
    session.add(course)
    await session.flush()
    return course


async def enroll(
    session: AsyncSession, course: Course, user: User, role: CourseRole = CourseRole.student
) -> CourseMember:
    m = CourseMember(tenant_id=course.tenant_id, course_id=course.id, user_id=user.id, role=role)
    session.add(m)
    await session.flush()
    return m


async def create_course_member(
    session: AsyncSession, course: Course, tenant: Tenant, role: CourseRole = CourseRole.student, **user_overrides: Any
) -> User:
    """A new member of ``tenant`` (educator for instructors, else student/TA) enrolled in ``course``."""
    tenant_role = {
        CourseRole.instructor: Role.educator,
        CourseRole.ta: Role.teaching_assistant,
        CourseRole.student: Role.student,
    }[role]
    user, _ = await create_member(session, tenant, tenant_role, **user_overrides)
    await enroll(session, course, user, role)
    return user


async def create_assignment(
    session: AsyncSession, course: Course, *, published: bool = True, due_at: datetime | None = None, **overrides: Any
) -> Assignment:
    n = next(_seq)
    values: dict[str, Any] = {
        "title": f"Assignment {n}",
        "instructions_md": "Write about *trees*.",
        "stages": [dict(s) for s in DEFAULT_STAGES],
        "due_at": due_at,
        "published_at": clock.utcnow() if published else None,
        "ai_settings": {},
        "objectives": [],
    }
    values.update(overrides)
    a = Assignment(tenant_id=course.tenant_id, course_id=course.id, **values)
    session.add(a)
    await session.flush()
    return a


async def create_template(session: AsyncSession, tenant: Tenant, **overrides: Any) -> AssignmentTemplate:
    n = next(_seq)
    values: dict[str, Any] = {
        "title": f"Template {n}",
        "stages": [dict(s) for s in DEFAULT_STAGES],
        "ai_settings": {},
        "objectives": [],
    }
    values.update(overrides)
    t = AssignmentTemplate(tenant_id=tenant.id, **values)
    session.add(t)
    await session.flush()
    return t


async def create_group(
    session: AsyncSession, assignment: Assignment, members: list[User], name: str | None = None
) -> AssignmentGroup:
    g = AssignmentGroup(tenant_id=assignment.tenant_id, assignment_id=assignment.id, name=name or f"Group {next(_seq)}")
    session.add(g)
    await session.flush()
    for u in members:
        session.add(
            AssignmentGroupMember(
                tenant_id=assignment.tenant_id, assignment_id=assignment.id, group_id=g.id, user_id=u.id
            )
        )
    await session.flush()
    return g
