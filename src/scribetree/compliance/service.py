"""Reading and verifying the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.compliance.repository import AuditRepository
from scribetree.compliance.schemas import AuditEventRead, AuditPage, ChainVerification
from scribetree.core import audit
from scribetree.core.errors import Forbidden
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.permissions import Permission


class AuditService:
    async def search(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        *,
        action: str | None = None,
        actor: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_seq: int | None = None,
        limit: int = 50,
    ) -> AuditPage:
        """The caller's tenant trail, newest first, paged by sequence number."""
        if not ctx.can(Permission.audit_read) or ctx.tenant_id is None:
            raise Forbidden()
        rows = await AuditRepository(session, ctx.tenant_id).search(
            action=action,
            actor=actor,
            outcome=outcome,
            since=since,
            until=until,
            before_seq=before_seq,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return AuditPage(
            items=[AuditEventRead.model_validate(r) for r in rows],
            next_before_seq=rows[-1].seq if more and rows else None,
        )

    async def actions(self, session: AsyncSession, ctx: AuthContext) -> list[str]:
        if not ctx.can(Permission.audit_read) or ctx.tenant_id is None:
            raise Forbidden()
        return await AuditRepository(session, ctx.tenant_id).actions()

    async def verify_tenant(self, session: AsyncSession, ctx: AuthContext) -> ChainVerification:
        if not ctx.can(Permission.audit_read) or ctx.tenant_id is None:
            raise Forbidden()
        result = await audit.verify_chain(session, audit.chain_for(ctx.tenant_id))
        return ChainVerification(**result.__dict__)

    async def verify_all(self, session: AsyncSession) -> list[ChainVerification]:
        """Every chain (operators' CLI: ``scribetree audit verify``)."""
        return [
            ChainVerification(**(await audit.verify_chain(session, c)).__dict__)
            for c in await audit.list_chains(session)
        ]


audit_service = AuditService()
