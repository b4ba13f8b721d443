from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select

from scribetree.core.audit import AuditEvent
from scribetree.core.repository import RepositoryBase


class AuditRepository(RepositoryBase[AuditEvent]):
    """Reads one tenant's chain. ``AuditEvent`` is a global table (nullable tenant for the platform
    chain), so the tenant filter is applied here explicitly on every statement."""

    model = AuditEvent

    def __init__(self, session, tenant_id: uuid.UUID | None) -> None:
        super().__init__(session)
        self.tenant_id = tenant_id

    def base(self):
        if self.tenant_id is None:
            return select(AuditEvent).where(AuditEvent.tenant_id.is_(None))
        return select(AuditEvent).where(AuditEvent.tenant_id == self.tenant_id)

    async def search(
        self,
        *,
        action: str | None,
        actor: str | None,
        outcome: str | None,
        since: datetime | None,
        until: datetime | None,
        before_seq: int | None,
        limit: int,
    ) -> list[AuditEvent]:
        stmt = self.base()
        if action:
            stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))  # % and _ are literal
        if actor:
            stmt = stmt.where(func.lower(AuditEvent.actor_label).contains(actor.lower(), autoescape=True))
        if outcome:
            stmt = stmt.where(AuditEvent.outcome == outcome)
        if since:
            stmt = stmt.where(AuditEvent.occurred_at >= since)
        if until:
            stmt = stmt.where(AuditEvent.occurred_at < until)
        if before_seq:
            stmt = stmt.where(AuditEvent.seq < before_seq)
        return await self.all(stmt.order_by(AuditEvent.seq.desc()).limit(limit))

    async def actions(self) -> list[str]:
        stmt = select(AuditEvent.action).distinct().order_by(AuditEvent.action)
        stmt = stmt.where(
            AuditEvent.tenant_id.is_(None) if self.tenant_id is None else AuditEvent.tenant_id == self.tenant_id
        )
        return list((await self.session.execute(stmt)).scalars())
