"""Interventions factories: an intervention as the service records it, and matrix ids."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.interventions_models import Intervention, InterventionKind
from scribetree.core import clock


async def create_intervention(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    course_id: uuid.UUID,
    student_user_id: uuid.UUID,
    created_by: uuid.UUID | None = None,
    **overrides: Any,
) -> Intervention:
    values: dict[str, Any] = {
        "kind": InterventionKind.message,
        "params": {"subject": "Checking in", "body": "How is it going?"},
        "note": "",
        "created_at": clock.utcnow(),
    }
    values.update(overrides)
    iv = Intervention(
        tenant_id=tenant_id, course_id=course_id, student_user_id=student_user_id, created_by=created_by, **values
    )
    session.add(iv)
    await session.flush()
    return iv


async def matrix_ids(
    session: AsyncSession, tenant_id: uuid.UUID, ids: dict[str, uuid.UUID], educator_id: uuid.UUID
) -> dict[str, uuid.UUID]:
    """A real intervention of ``tenant_id`` for the authorization matrix: for ``ids["user_id"]`` (a student of
    ``ids["course_id"]``), from ``ids["alert_id"]`` when there is one."""
    iv = await create_intervention(
        session,
        tenant_id=tenant_id,
        course_id=ids["course_id"],
        student_user_id=ids["user_id"],
        created_by=educator_id,
        alert_id=ids.get("alert_id"),
        note="Their intervention.",
    )
    return {"intervention_id": iv.id}
