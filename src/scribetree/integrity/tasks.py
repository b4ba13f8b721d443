"""Integrity jobs: the process report of a submission is computed in the background right after it is
submitted (enqueued in the submission's transaction through ``writing.submission_hooks``), so comparisons with
the student's history and the class have their data before anyone opens a report. Opening a report computes it
anyway when the job has not run yet.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import jobs
from scribetree.integrity.service import integrity as integrity_service
from scribetree.writing import submission_hooks
from scribetree.writing.models import Submission

REPORT_ACTOR = "integrity.compute_report"


@submission_hooks.on_submitted("integrity.evidence")
async def _on_submitted(session: AsyncSession, submission: Submission) -> None:
    await jobs.enqueue(
        session,
        REPORT_ACTOR,
        tenant_id=submission.tenant_id,
        idempotency_key=f"{REPORT_ACTOR}:{submission.id}",
        submission_id=submission.id,
    )


@jobs.actor(REPORT_ACTOR, max_attempts=5, timeout_seconds=120)
async def compute_report(session: AsyncSession, *, tenant_id: str, submission_id: str) -> None:
    await integrity_service.precompute(session, uuid.UUID(tenant_id), uuid.UUID(submission_id))
