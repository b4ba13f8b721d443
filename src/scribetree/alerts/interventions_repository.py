"""Every SQL statement of interventions (tenant-scoped, STYLE N3)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, select

from scribetree.alerts.interventions_models import Intervention
from scribetree.alerts.models import Alert
from scribetree.core.repository import TenantRepository
from scribetree.courses.models import Assignment
from scribetree.writing.models import Document, WritingSession

LIST_LIMIT = 200


class InterventionRepository(TenantRepository[Intervention]):
    model = Intervention

    async def of_course(self, course_id: uuid.UUID, limit: int = LIST_LIMIT) -> list[Intervention]:
        stmt = (
            self.base()
            .where(Intervention.course_id == course_id)
            .order_by(Intervention.created_at.desc(), Intervention.id.desc())
            .limit(limit)
        )
        return await self.all(stmt)

    async def alert(self, alert_id: uuid.UUID, *, for_update: bool = False) -> Alert | None:
        stmt = select(Alert).where(Alert.tenant_id == self.tenant_id, Alert.id == alert_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def assignment_course(self, assignment_id: uuid.UUID) -> uuid.UUID | None:
        stmt = select(Assignment.course_id).where(
            Assignment.tenant_id == self.tenant_id, Assignment.id == assignment_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def activity(
        self, course_id: uuid.UUID, user_ids: list[uuid.UUID], since: datetime, until: datetime
    ) -> list[tuple[uuid.UUID, datetime, int, int]]:
        """(user_id, started_at, active_seconds, words_added) of these students' writing sessions in the course's
        documents that started in ``[since, until)``."""
        if not user_ids:
            return []
        stmt = (
            select(
                WritingSession.user_id,
                WritingSession.started_at,
                WritingSession.active_seconds,
                WritingSession.words_added,
            )
            .join(Document, and_(Document.id == WritingSession.document_id, Document.tenant_id == self.tenant_id))
            .join(Assignment, and_(Assignment.id == Document.assignment_id, Assignment.tenant_id == self.tenant_id))
            .where(
                WritingSession.tenant_id == self.tenant_id,
                Assignment.course_id == course_id,
                WritingSession.user_id.in_(user_ids),
                WritingSession.started_at >= since,
                WritingSession.started_at < until,
            )
        )
        rows = (await self.session.execute(stmt)).all()
        return [(u, s, a, w) for u, s, a, w in rows if u is not None]
