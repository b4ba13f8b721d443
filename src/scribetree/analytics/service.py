"""Writing analytics over the edit log, kept incrementally (see ``analytics.models``).

Access: a student sees only their own figures; the staff of a course (instructor, TA) and the institution's
admins see the course's; anyone else gets the same 404 as for a missing object. A read of another person's
figures is written to the audit trail (ARCHITECTURE §6). Services never commit (STYLE T2).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics.schemas import (
    AssignmentMetrics,
    CourseMetrics,
    DailyActivity,
    DocumentMetrics,
    RefreshResult,
    StudentMetrics,
)
from scribetree.tenancy.context import AuthContext

DEFAULT_DAYS = 120


class AnalyticsService:
    async def document_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> DocumentMetrics:
        """One document's figures, caught up first if batches arrived since (only the new ones are read)."""
        raise NotImplementedError

    async def student_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> StudentMetrics:
        raise NotImplementedError

    async def assignment_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        assignment_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> AssignmentMetrics:
        """Per-student rows (every student of the course) and class aggregates; staff only."""
        raise NotImplementedError

    async def course_metrics(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> CourseMetrics:
        """Per assignment and per student summaries, the class's daily series and stage completion; staff only."""
        raise NotImplementedError

    async def daily_activity(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        user_id: uuid.UUID | None = None,
        *,
        days: int = DEFAULT_DAYS,
        audit_session: AsyncSession | None = None,
    ) -> list[DailyActivity]:
        """Per UTC day over the last ``days`` days: one student (``user_id``) or the whole class (staff only)."""
        raise NotImplementedError

    async def refresh_document(self, session: AsyncSession, tenant_id: uuid.UUID, document_id: uuid.UUID) -> int:
        """Fold the batches after the document's watermark into its aggregates; returns how many were folded."""
        raise NotImplementedError

    async def refresh_tenant(self, session: AsyncSession, tenant_id: uuid.UUID) -> RefreshResult:
        """Catch up every document of the tenant with activity after its watermark (the periodic job)."""
        raise NotImplementedError


analytics = AnalyticsService()
