"""Helpers for the courses tests: AuthContexts for any person, built through the real session path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import RequestMeta
from scribetree.identity.models import User
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Tenant
from scribetree.tenancy.service import access
from tests.fixtures.auth import make_client

CtxFor = Callable[[User, Tenant], Awaitable[AuthContext]]
ClientFor = Callable[[User, Tenant], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def ctx_for(session: AsyncSession) -> CtxFor:
    async def make(user: User, tenant: Tenant) -> AuthContext:
        token, _ = await identity.start_session(session, user=user, tenant_id=tenant.id, meta=RequestMeta())
        await session.commit()
        ctx = await access.context_from_session(session, token, RequestMeta())
        assert ctx is not None
        return ctx

    return make


@pytest.fixture
async def client_for(app: FastAPI, session: AsyncSession):
    opened: list[httpx.AsyncClient] = []

    async def make(user: User, tenant: Tenant) -> httpx.AsyncClient:
        c = await make_client(app, session, user, tenant)
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.aclose()
