"""Analytics jobs: every 30 s the scan lists tenants and enqueues one catch-up job per tenant (STYLE N6); each
folds the new batches of that tenant's documents into their aggregates (``analytics.refresh_tenant``).

A catch-up job reads and folds in its own read unit of work and writes the results at the end in the job's
write session: on SQLite students' edit batches wait for the single writer only during that short write."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics.service import analytics
from scribetree.core import clock, db, jobs
from scribetree.tenancy.service import tenant_service

log = logging.getLogger(__name__)

SCAN_ACTOR = "analytics.refresh_scan"
TENANT_ACTOR = "analytics.refresh_tenant"
EVERY = timedelta(seconds=30)


@jobs.actor(SCAN_ACTOR, queue="maintenance", max_attempts=3)
async def refresh_scan(session: AsyncSession) -> None:
    slot = int(clock.utcnow().timestamp() // EVERY.total_seconds())
    for tenant in await tenant_service.list_active(session):
        await jobs.enqueue(
            session, TENANT_ACTOR, tenant_id=tenant.id, idempotency_key=f"{TENANT_ACTOR}:{tenant.id}:{slot}"
        )


@jobs.actor(TENANT_ACTOR, queue="maintenance", max_attempts=5)
async def refresh_tenant(session: AsyncSession, *, tenant_id: str, turn: int = 0) -> None:
    async with db.unit_of_work(write=False) as read:  # released before the write phase begins
        result = await analytics.refresh_tenant(session, uuid.UUID(tenant_id), read_session=read)
    if result.documents:
        log.info("analytics caught up", extra={"tenant_id": tenant_id, **result.model_dump()})
    if result.more:  # a backlog (e.g. after an outage): go on in a new job, so each transaction stays short
        slot = int(clock.utcnow().timestamp() // EVERY.total_seconds())
        await jobs.enqueue(
            session,
            TENANT_ACTOR,
            tenant_id=uuid.UUID(tenant_id),
            idempotency_key=f"{TENANT_ACTOR}:{tenant_id}:{slot}:more:{turn + 1}",
            turn=turn + 1,
        )


jobs.periodic(SCAN_ACTOR, every=EVERY, actor=SCAN_ACTOR)
