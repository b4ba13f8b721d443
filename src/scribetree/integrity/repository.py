"""Every SQL statement of the integrity core (STYLE N3: tenant-scoped through ``TenantRepository``)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from scribetree.core.repository import TenantRepository
from scribetree.integrity.models import IntegrityOutcome, IntegrityReport, IntegrityResponse, IntegritySettings
from scribetree.writing.models import Document, Submission


class IntegrityReportRepository(TenantRepository[IntegrityReport]):
    model = IntegrityReport

    async def for_submission(self, submission_id: uuid.UUID) -> IntegrityReport | None:
        return await self.one_or_none(self.base().where(IntegrityReport.submission_id == submission_id))

    async def of_assignment(self, assignment_id: uuid.UUID) -> list[IntegrityReport]:
        return await self.all(self.base().where(IntegrityReport.assignment_id == assignment_id))

    async def of_student(self, user_id: uuid.UUID, *, exclude: uuid.UUID, limit: int = 50) -> list[IntegrityReport]:
        """The student's other cached reports (their own history), newest first."""
        stmt = (
            self.base()
            .where(IntegrityReport.student_user_id == user_id, IntegrityReport.submission_id != exclude)
            .order_by(IntegrityReport.computed_at.desc())
            .limit(limit)
        )
        return await self.all(stmt)

    async def submission(self, submission_id: uuid.UUID) -> Submission | None:
        stmt = select(Submission).where(Submission.tenant_id == self.tenant_id, Submission.id == submission_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def document(self, document_id: uuid.UUID) -> Document | None:
        stmt = select(Document).where(Document.tenant_id == self.tenant_id, Document.id == document_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def latest_submissions(self, assignment_id: uuid.UUID) -> list[Submission]:
        """The latest attempt of every document of an assignment (one query)."""
        latest = (
            select(Submission.document_id, func.max(Submission.attempt).label("attempt"))
            .where(Submission.tenant_id == self.tenant_id, Submission.assignment_id == assignment_id)
            .group_by(Submission.document_id)
            .subquery()
        )
        stmt = (
            select(Submission)
            .join(latest, (latest.c.document_id == Submission.document_id) & (latest.c.attempt == Submission.attempt))
            .where(Submission.tenant_id == self.tenant_id)
        )
        return list((await self.session.execute(stmt)).scalars().all())


class IntegrityResponseRepository(TenantRepository[IntegrityResponse]):
    model = IntegrityResponse

    async def of_submission(self, submission_id: uuid.UUID) -> list[IntegrityResponse]:
        stmt = self.base().where(IntegrityResponse.submission_id == submission_id)
        return await self.all(stmt.order_by(IntegrityResponse.created_at, IntegrityResponse.id))

    async def counts(self, submission_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not submission_ids:
            return {}
        stmt = (
            select(IntegrityResponse.submission_id, func.count(IntegrityResponse.id))
            .where(IntegrityResponse.tenant_id == self.tenant_id, IntegrityResponse.submission_id.in_(submission_ids))
            .group_by(IntegrityResponse.submission_id)
        )
        return {sid: int(n) for sid, n in (await self.session.execute(stmt)).all()}


class IntegrityOutcomeRepository(TenantRepository[IntegrityOutcome]):
    model = IntegrityOutcome

    async def of_submission(self, submission_id: uuid.UUID) -> list[IntegrityOutcome]:
        stmt = self.base().where(IntegrityOutcome.submission_id == submission_id)
        return await self.all(stmt.order_by(IntegrityOutcome.created_at, IntegrityOutcome.id))

    async def latest_of(self, submission_ids: list[uuid.UUID]) -> dict[uuid.UUID, IntegrityOutcome]:
        if not submission_ids:
            return {}
        stmt = self.base().where(IntegrityOutcome.submission_id.in_(submission_ids))
        out: dict[uuid.UUID, IntegrityOutcome] = {}
        for o in await self.all(stmt.order_by(IntegrityOutcome.created_at, IntegrityOutcome.id)):
            out[o.submission_id] = o
        return out


class IntegritySettingsRepository(TenantRepository[IntegritySettings]):
    model = IntegritySettings

    async def for_assignment(self, assignment_id: uuid.UUID) -> IntegritySettings | None:
        return await self.one_or_none(self.base().where(IntegritySettings.assignment_id == assignment_id))
