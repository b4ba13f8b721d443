"""Periodic housekeeping of credentials."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import jobs
from scribetree.identity.service import identity

log = logging.getLogger(__name__)


@jobs.actor("identity.prune_ended_credentials", queue="maintenance", max_attempts=3)
async def prune_ended_credentials(session: AsyncSession) -> None:
    counts = await identity.prune_ended(session)
    log.info("pruned ended credentials", extra=counts)


jobs.periodic("identity.prune_ended_credentials", every=timedelta(hours=6), actor="identity.prune_ended_credentials")
