"""Per-student AI budget overrides: an educator raises or lowers one student's request budget on one assignment.

The override replaces ``budget_per_hour`` / ``budget_per_day`` of the assignment's ``ai_settings`` for that
student wherever the partner reads its settings (asking, reflecting, the student's level panel); the level's
multiplier still applies (``levels.budget``). A budget of 0 per hour turns the partner off for that student.
Bounds are the assignment settings' own (``AiSettings``: 0-100 an hour, 0-500 a day, daily ≥ hourly).
Services never commit (STYLE T2).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.budget_models import AiBudgetOverride
from scribetree.ai_partner.schemas import AiSettings
from scribetree.core import audit
from scribetree.core.errors import InvalidInput
from scribetree.core.repository import TenantRepository
from scribetree.courses.extensions import extensions
from scribetree.courses.models import Assignment
from scribetree.courses.service import assignment as assignment_service
from scribetree.tenancy.context import AuthContext

HOUR_MAX = 100
DAY_MAX = 500


class BudgetInvalid(InvalidInput):
    default_detail = "The AI budget must be 0-100 requests an hour and 0-500 a day, the daily one at least the hourly."


class StudentNotInCourse(InvalidInput):
    default_detail = "This person is not a student of the assignment's course."


class BudgetOverrideRepository(TenantRepository[AiBudgetOverride]):
    model = AiBudgetOverride

    async def of_student(
        self, assignment_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False
    ) -> AiBudgetOverride | None:
        stmt = self.base().where(AiBudgetOverride.assignment_id == assignment_id, AiBudgetOverride.user_id == user_id)
        return await self.one_or_none(stmt.with_for_update() if for_update else stmt)


def check_budget(per_hour: int, per_day: int) -> None:
    """422 ``BudgetInvalid`` unless 0 ≤ hourly ≤ 100, 0 ≤ daily ≤ 500 and daily ≥ hourly."""
    if not (0 <= per_hour <= HOUR_MAX):
        raise BudgetInvalid(f"The hourly budget must be between 0 and {HOUR_MAX} requests.", field="budget_per_hour")
    if not (0 <= per_day <= DAY_MAX):
        raise BudgetInvalid(f"The daily budget must be between 0 and {DAY_MAX} requests.", field="budget_per_day")
    if per_day < per_hour:
        raise BudgetInvalid(
            f"The daily budget ({per_day}) cannot be smaller than the hourly one ({per_hour}).", field="budget_per_day"
        )


class BudgetOverrideService:
    async def apply(
        self, session: AsyncSession, assignment: Assignment, user_id: uuid.UUID, settings: AiSettings
    ) -> AiSettings:
        """``settings`` with the student's override (if any) in place of the assignment's budget."""
        row = await BudgetOverrideRepository(session, assignment.tenant_id).of_student(assignment.id, user_id)
        if row is None:
            return settings
        budget = {"budget_per_hour": row.budget_per_hour, "budget_per_day": row.budget_per_day}
        return settings.model_copy(update=budget)

    async def get(self, session: AsyncSession, assignment: Assignment, user_id: uuid.UUID) -> AiBudgetOverride | None:
        return await BudgetOverrideRepository(session, assignment.tenant_id).of_student(assignment.id, user_id)

    async def set(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        assignment_id: uuid.UUID,
        user_id: uuid.UUID,
        per_hour: int,
        per_day: int,
    ) -> AiBudgetOverride:
        """Set one student's budget on an assignment (staff of the course only; replaces an earlier override)."""
        assignment = await assignment_service.get_for_teaching(session, ctx, assignment_id)
        check_budget(per_hour, per_day)
        repo = BudgetOverrideRepository(session, assignment.tenant_id)
        if not await extensions.is_student(session, assignment.tenant_id, assignment.course_id, user_id):
            raise StudentNotInCourse()
        row = await repo.of_student(assignment.id, user_id, for_update=True)
        before = (row.budget_per_hour, row.budget_per_day) if row else None
        if row is None:
            row = await repo.add(
                AiBudgetOverride(
                    assignment_id=assignment.id,
                    user_id=user_id,
                    budget_per_hour=per_hour,
                    budget_per_day=per_day,
                    granted_by=ctx.user_id,
                )
            )
        else:
            row.budget_per_hour, row.budget_per_day, row.granted_by = per_hour, per_day, ctx.user_id
            await session.flush()
        await audit.record(
            session,
            audit.Entry(
                action="ai_partner.budget_overridden",
                tenant_id=assignment.tenant_id,
                actor_user_id=ctx.user_id,
                actor_label=ctx.actor_label,
                meta=ctx.meta,
                target_type="assignment",
                target_id=str(assignment.id),
                details={
                    "student_user_id": str(user_id),
                    "before": list(before) if before else None,
                    "budget_per_hour": per_hour,
                    "budget_per_day": per_day,
                },
            ),
        )
        return row


budget_overrides = BudgetOverrideService()
