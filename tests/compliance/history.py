"""An audit history made of real actions through the API, and raw-SQL tampering with it (shared by
tests/core/test_audit.py and tests/compliance/test_audit_api.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, db
from scribetree.identity.models import User
from scribetree.tenancy.models import Membership, Role, Tenant
from tests.factories.tenancy import PASSWORD, create_member

ACTIONS = ["auth.signin", "auth.signin", "token.created", "token.revoked", "member.role_changed"]


@dataclass
class History:
    tenant: Tenant
    admin: User
    educator: Membership
    rows: list[audit.AuditEvent]  # the tenant's chain, by seq

    @property
    def chain(self) -> str:
        return audit.chain_for(self.tenant.id)


async def make_history(app_client: httpx.AsyncClient, session: AsyncSession, tenant: Tenant) -> History:
    """Failed and successful sign-in, token created and revoked, a role changed: five entries in ``tenant``."""
    admin, _ = await create_member(session, tenant, Role.institution_admin)
    _, educator = await create_member(session, tenant, Role.educator)
    await session.commit()
    signin = f"/api/v1/tenants/{tenant.slug}/session"
    r = await app_client.post(signin, json={"email": admin.email, "password": "not the password"})
    assert r.status_code == 401, r.text
    r = await app_client.post(signin, json={"email": admin.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"X-CSRF-Token": r.json()["csrf_token"]}
    r = await app_client.post("/api/v1/me/tokens", json={"name": "laptop", "scopes": ["read"]}, headers=headers)
    assert r.status_code == 201, r.text
    r = await app_client.delete(f"/api/v1/me/tokens/{r.json()['id']}", headers=headers)
    assert r.status_code == 200, r.text
    r = await app_client.patch(f"/api/v1/members/{educator.id}", json={"role": "teaching_assistant"}, headers=headers)
    assert r.status_code == 200, r.text
    app_client.cookies.clear()
    rows = await chain_rows(audit.chain_for(tenant.id))
    assert [row.action for row in rows] == ACTIONS
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    return History(tenant, admin, educator, rows)


@contextlib.asynccontextmanager
async def reading() -> AsyncIterator[AsyncSession]:
    """A read session whose objects stay readable afterwards (closed, not rolled back: nothing expires)."""
    session = db.make_session(write=False)
    try:
        yield session
    finally:
        await session.close()


async def chain_rows(chain: str) -> list[audit.AuditEvent]:
    async with reading() as s:
        return list(
            (
                await s.scalars(
                    select(audit.AuditEvent).where(audit.AuditEvent.chain == chain).order_by(audit.AuditEvent.seq)
                )
            ).all()
        )


async def verify(chain: str) -> audit.VerifyResult:
    async with reading() as s:
        return await audit.verify_chain(s, chain)


async def tamper(session: AsyncSession, sql: str, **params: Any) -> None:
    """Change the trail behind the application's back, as someone with database access could."""
    result = await session.execute(text(sql), params)
    assert result.rowcount == 1, f"tampering touched {result.rowcount} rows"
    await session.commit()


async def alter_details(session: AsyncSession, chain: str, seq: int, details: str) -> None:
    json_value = "CAST(:d AS JSON)" if session.get_bind().dialect.name == "postgresql" else ":d"
    await tamper(
        session,
        f"UPDATE audit_events SET details = {json_value} WHERE chain = :c AND seq = :s",
        d=details,
        c=chain,
        s=seq,
    )
