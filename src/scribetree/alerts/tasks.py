"""Alert jobs (STYLE N6): the periodic scans list tenant ids and enqueue one job per tenant; each tenant's
evaluation and delivery run tenant-scoped in that job's unit of work.

- ``alerts.scan_activity`` every 30 s → ``alerts.evaluate_activity`` per tenant (event rules + due deliveries,
  which include the daily digests when their hour comes);
- ``alerts.scan_schedule`` hourly → ``alerts.evaluate_schedule`` per tenant (time rules).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.service import alerts
from scribetree.core import clock, db, jobs
from scribetree.tenancy.service import tenant_service

log = logging.getLogger(__name__)

SCAN_ACTIVITY = "alerts.scan_activity"
EVALUATE_ACTIVITY = "alerts.evaluate_activity"
SCAN_SCHEDULE = "alerts.scan_schedule"
EVALUATE_SCHEDULE = "alerts.evaluate_schedule"
ACTIVITY_EVERY = timedelta(seconds=30)
SCHEDULE_EVERY = timedelta(hours=1)


async def _fan_out(session: AsyncSession, actor: str, slot: str) -> None:
    for tenant_id in await tenant_service.ids(session):
        await jobs.enqueue(session, actor, tenant_id=tenant_id, idempotency_key=f"{actor}:{tenant_id}:{slot}")


@jobs.actor(SCAN_ACTIVITY, queue="alerts", max_attempts=3, timeout_seconds=60)
async def scan_activity(session: AsyncSession) -> None:
    now = clock.utcnow()
    await _fan_out(session, EVALUATE_ACTIVITY, str(int(now.timestamp()) // int(ACTIVITY_EVERY.total_seconds())))


@jobs.actor(EVALUATE_ACTIVITY, queue="alerts", max_attempts=3, timeout_seconds=120)
async def evaluate_activity(session: AsyncSession, *, tenant_id: str) -> None:
    tid = uuid.UUID(tenant_id)
    # Read and judge on a read session, then write in the job's unit of work: on SQLite the single writer is
    # held only for the inserts, not while the histories are read and the rules run; on PostgreSQL the read
    # connection is back in the pool before the write one is taken.
    async with db.unit_of_work(write=False) as read:
        plan = await alerts.plan_activity(read, tid)
    found = await alerts.apply_activity(session, tid, plan)
    sent = await alerts.deliver_due(session, tid)
    if found.created or sent.notified:
        log.info(
            "alerts evaluated",
            extra={
                "tenant_id": tenant_id,
                "alerts_created": found.created,
                "notified": sent.notified,
                "digests": sent.digests,
            },
        )


@jobs.actor(SCAN_SCHEDULE, queue="alerts", max_attempts=3, timeout_seconds=60)
async def scan_schedule(session: AsyncSession) -> None:
    await _fan_out(session, EVALUATE_SCHEDULE, clock.utcnow().strftime("%Y-%m-%dT%H"))


@jobs.actor(EVALUATE_SCHEDULE, queue="alerts", max_attempts=3, timeout_seconds=600)
async def evaluate_schedule(session: AsyncSession, *, tenant_id: str) -> None:
    found = await alerts.evaluate_schedule(session, uuid.UUID(tenant_id))
    log.info(
        "alerts scheduled rules",
        extra={"tenant_id": tenant_id, "alerts_created": found.created, "targets": found.targets},
    )


jobs.periodic(SCAN_ACTIVITY, every=ACTIVITY_EVERY, actor=SCAN_ACTIVITY)
jobs.periodic(SCAN_SCHEDULE, every=SCHEDULE_EVERY, actor=SCAN_SCHEDULE)
