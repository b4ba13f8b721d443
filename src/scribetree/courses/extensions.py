"""Per-student deadline extensions: granting one (staff of the course) and reading a student's effective due dates.

Writing honours them: a submission is late only after the student's extended due date, and the due-soon
reminder follows the extended date (``writing.service``, ``writing.notifications``). An extension must be in
the future and after the date it replaces (the assignment's, or the stage's), so it never shortens a deadline.
Services never commit (STYLE T2).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock
from scribetree.core.errors import InvalidInput
from scribetree.core.repository import TenantRepository
from scribetree.courses.access import Need, access_assignment
from scribetree.courses.exceptions import CourseMemberNotFound
from scribetree.courses.extension_models import DeadlineExtension
from scribetree.courses.models import Assignment, Course, CourseMember, CourseRole
from scribetree.tenancy.context import AuthContext

ASSIGNMENT = ""  # stage_key of an extension of the assignment's own due date


class ExtensionInvalid(InvalidInput):
    default_detail = "The extended due date must be in the future and after the current due date."


class UnknownStageForExtension(InvalidInput):
    default_detail = "This assignment has no stage with that key."


class ExtensionRepository(TenantRepository[DeadlineExtension]):
    model = DeadlineExtension

    async def of_student(self, assignment_id: uuid.UUID, user_id: uuid.UUID) -> list[DeadlineExtension]:
        stmt = self.base().where(DeadlineExtension.assignment_id == assignment_id, DeadlineExtension.user_id == user_id)
        return await self.all(stmt)

    async def one(self, assignment_id: uuid.UUID, user_id: uuid.UUID, stage_key: str) -> DeadlineExtension | None:
        stmt = self.base().where(
            DeadlineExtension.assignment_id == assignment_id,
            DeadlineExtension.user_id == user_id,
            DeadlineExtension.stage_key == stage_key,
        )
        return await self.one_or_none(stmt.with_for_update())

    async def of_assignments(self, assignment_ids: list[uuid.UUID]) -> list[DeadlineExtension]:
        """The assignment-level extensions (not the stage ones) of these assignments."""
        if not assignment_ids:
            return []
        stmt = self.base().where(
            DeadlineExtension.assignment_id.in_(assignment_ids), DeadlineExtension.stage_key == ASSIGNMENT
        )
        return await self.all(stmt)

    async def due_between(self, start: datetime, end: datetime) -> list[tuple[DeadlineExtension, Assignment]]:
        """Assignment-level extensions ending in ``(start, end]``, of published assignments of open courses."""
        stmt = (
            select(DeadlineExtension, Assignment)
            .join(
                Assignment,
                and_(Assignment.id == DeadlineExtension.assignment_id, Assignment.tenant_id == self.tenant_id),
            )
            .join(Course, and_(Course.id == Assignment.course_id, Course.tenant_id == self.tenant_id))
            .where(
                DeadlineExtension.tenant_id == self.tenant_id,
                DeadlineExtension.stage_key == ASSIGNMENT,
                DeadlineExtension.due_at > start,
                DeadlineExtension.due_at <= end,
                Assignment.published_at.is_not(None),
                Course.archived_at.is_(None),
            )
            .order_by(DeadlineExtension.due_at, DeadlineExtension.id)
        )
        return [(e, a) for e, a in (await self.session.execute(stmt)).all()]

    async def is_student(self, course_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        stmt = select(CourseMember.id).where(
            CourseMember.tenant_id == self.tenant_id,
            CourseMember.course_id == course_id,
            CourseMember.user_id == user_id,
            CourseMember.role == CourseRole.student,
        )
        return (await self.session.execute(stmt)).first() is not None


@dataclass(frozen=True)
class StudentDue:
    """A student's due dates for one assignment, extensions applied."""

    due_at: datetime | None
    extended: bool
    stage_due: dict[str, datetime | None] = field(default_factory=dict)
    extended_stages: frozenset[str] = frozenset()


def _stage_due(assignment: Assignment, key: str) -> datetime | None:
    for stage in assignment.stages or []:
        if stage.get("key") == key:
            due = stage.get("due_at")
            return clock.as_utc(datetime.fromisoformat(str(due))) if due else None
    raise UnknownStageForExtension(
        f"The assignment has no stage {key!r}; its stages are: "
        + (", ".join(str(s.get("key")) for s in assignment.stages or []) or "none")
        + "."
    )


class ExtensionService:
    async def is_student(
        self, session: AsyncSession, tenant_id: uuid.UUID, course_id: uuid.UUID, user_id: uuid.UUID
    ) -> bool:
        """Whether ``user_id`` is a student of the course (interventions target students only)."""
        return await ExtensionRepository(session, tenant_id).is_student(course_id, user_id)

    async def due_for(self, session: AsyncSession, assignment: Assignment, user_id: uuid.UUID) -> StudentDue:
        """The student's due date (and stage due dates) for ``assignment``: an extension replaces the original."""
        return await self.student_due(
            session, assignment.tenant_id, assignment.id, assignment.due_at, assignment.stages, user_id
        )

    async def student_due(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        assignment_id: uuid.UUID,
        due_at: datetime | None,
        stages: list[dict[str, Any]] | None,
        user_id: uuid.UUID,
    ) -> StudentDue:
        """:meth:`due_for` from an assignment's fields (pages hold a schema, not the row)."""
        rows = await ExtensionRepository(session, tenant_id).of_student(assignment_id, user_id)
        by_key = {r.stage_key: r.due_at for r in rows}
        stage_due: dict[str, datetime | None] = {}
        for stage in stages or []:
            key = str(stage.get("key"))
            due = stage.get("due_at")
            stage_due[key] = by_key.get(key) or (clock.as_utc(datetime.fromisoformat(str(due))) if due else None)
        extended = ASSIGNMENT in by_key
        return StudentDue(
            due_at=by_key[ASSIGNMENT] if extended else due_at,
            extended=extended,
            stage_due=stage_due,
            extended_stages=frozenset(k for k in by_key if k != ASSIGNMENT and k in stage_due),
        )

    async def late_for(self, session: AsyncSession, assignment: Assignment, user_id: uuid.UUID, now: datetime) -> bool:
        """Whether a submission by ``user_id`` at ``now`` is late (after their extended due date, if any)."""
        due = (await self.due_for(session, assignment, user_id)).due_at
        return due is not None and now > due

    async def extended_dues(
        self, session: AsyncSession, tenant_id: uuid.UUID, assignment_ids: list[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], datetime]:
        """(assignment_id, user_id) → extended due date, for assignment-level extensions of these assignments."""
        rows = await ExtensionRepository(session, tenant_id).of_assignments(assignment_ids)
        return {(r.assignment_id, r.user_id): r.due_at for r in rows}

    async def due_between(
        self, session: AsyncSession, tenant_id: uuid.UUID, start: datetime, end: datetime
    ) -> list[tuple[DeadlineExtension, Assignment]]:
        return await ExtensionRepository(session, tenant_id).due_between(start, end)

    async def grant(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        assignment_id: uuid.UUID,
        user_id: uuid.UUID,
        due_at: datetime,
        stage_key: str | None = None,
    ) -> DeadlineExtension:
        """Give one student a later due date for the assignment (or one of its stages). Staff of the course only.

        The date must be in the future and after the date it replaces (the original, or an earlier extension);
        granting again for the same student and stage replaces the extension.
        """
        acc = await access_assignment(session, ctx, assignment_id, Need.teach)
        assignment = acc.assignment
        repo = ExtensionRepository(session, assignment.tenant_id)
        if not await repo.is_student(assignment.course_id, user_id):
            raise CourseMemberNotFound("This person is not a student of the course.")
        key = (stage_key or "").strip()
        due_at = clock.as_utc(due_at)
        now = clock.utcnow()
        dues = await self.due_for(session, assignment, user_id)
        if key:
            _stage_due(assignment, key)  # an unknown stage is a 422 with the stages listed
            current = dues.stage_due.get(key)
        else:
            current = dues.due_at
        if due_at <= now:
            raise ExtensionInvalid(
                f"The extended due date ({due_at:%d %b %Y %H:%M} UTC) is not in the future; pick a later time.",
                field="due_at",
            )
        if current is not None and due_at <= current:
            raise ExtensionInvalid(
                f"The extended due date must be after the current one ({current:%d %b %Y %H:%M} UTC).",
                field="due_at",
                current_due_at=current.isoformat(),
            )
        row = await repo.one(assignment.id, user_id, key)
        if row is None:
            row = await repo.add(
                DeadlineExtension(
                    assignment_id=assignment.id, user_id=user_id, stage_key=key, due_at=due_at, granted_by=ctx.user_id
                )
            )
        else:
            row.due_at = due_at
            row.granted_by = ctx.user_id
            await session.flush()
        await audit.record(
            session,
            audit.Entry(
                action="deadline.extended",
                tenant_id=assignment.tenant_id,
                actor_user_id=ctx.user_id,
                actor_label=ctx.actor_label,
                meta=ctx.meta,
                target_type="assignment",
                target_id=str(assignment.id),
                details={"student_user_id": str(user_id), "stage": key or None, "due_at": due_at.isoformat()},
            ),
        )
        return row


extensions = ExtensionService()
