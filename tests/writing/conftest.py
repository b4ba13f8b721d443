"""A course with an instructor, two students and a published assignment; clients and contexts for anyone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import RequestMeta
from scribetree.courses.models import Assignment, Course, CourseRole
from scribetree.identity.models import User
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Tenant
from scribetree.tenancy.service import access
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.fixtures.auth import make_client


@dataclass
class Klass:
    tenant: Tenant
    course: Course
    instructor: User
    ta: User
    student: User
    classmate: User
    assignment: Assignment


@pytest.fixture
async def klass(session: AsyncSession, tenant: Tenant) -> Klass:
    course = await create_course(session, tenant)
    instructor = await create_course_member(session, course, tenant, CourseRole.instructor)
    ta = await create_course_member(session, course, tenant, CourseRole.ta)
    student = await create_course_member(session, course, tenant, CourseRole.student, display_name="Ada Student")
    classmate = await create_course_member(session, course, tenant, CourseRole.student, display_name="Bea Classmate")
    assignment = await create_assignment(session, course)
    await session.commit()
    return Klass(tenant, course, instructor, ta, student, classmate, assignment)


ClientFor = Callable[[User, Tenant], Awaitable[httpx.AsyncClient]]
CtxFor = Callable[[User, Tenant], Awaitable[AuthContext]]


@pytest.fixture
async def client_for(app: FastAPI, session: AsyncSession) -> AsyncIterator[ClientFor]:
    opened: list[httpx.AsyncClient] = []

    async def make(user: User, tenant: Tenant) -> httpx.AsyncClient:
        c = await make_client(app, session, user, tenant)
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.aclose()


@pytest.fixture
def ctx_for(session: AsyncSession) -> CtxFor:
    async def make(user: User, tenant: Tenant) -> AuthContext:
        token, _ = await identity.start_session(session, user=user, tenant_id=tenant.id, meta=RequestMeta())
        await session.commit()
        ctx = await access.context_from_session(session, token, RequestMeta())
        assert ctx is not None
        return ctx

    return make
