"""SQL of feedback and grading (STYLE N3: tenant-scoped through ``TenantRepository``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from scribetree.core.repository import TenantRepository
from scribetree.writing.feedback_models import Comment, Grade, GradeStatus


class CommentRepository(TenantRepository[Comment]):
    model = Comment

    async def for_document(self, document_id: uuid.UUID) -> list[Comment]:
        """Every comment of a document, threads and replies, oldest first (one indexed query)."""
        stmt = self.base().where(Comment.document_id == document_id).order_by(Comment.created_at, Comment.id)
        return await self.all(stmt)

    async def staff_in_thread(self, root_id: uuid.UUID) -> list[uuid.UUID]:
        """The staff who wrote the thread's comment or a reply in it."""
        stmt = (
            select(Comment.author_user_id)
            .where(
                Comment.tenant_id == self.tenant_id,
                (Comment.id == root_id) | (Comment.parent_id == root_id),
                Comment.author_is_staff.is_(True),
                Comment.author_user_id.is_not(None),
            )
            .distinct()
        )
        return [uid for uid in (await self.session.execute(stmt)).scalars() if uid is not None]


class GradeRepository(TenantRepository[Grade]):
    model = Grade

    async def for_submission(self, submission_id: uuid.UUID, *, for_update: bool = False) -> Grade | None:
        stmt = self.base().where(Grade.submission_id == submission_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.one_or_none(stmt)

    async def for_assignment(self, assignment_id: uuid.UUID) -> list[Grade]:
        stmt = self.base().where(Grade.assignment_id == assignment_id).order_by(Grade.created_at, Grade.id)
        return await self.all(stmt)

    async def returned_submission_ids(self, assignment_id: uuid.UUID) -> set[uuid.UUID]:
        stmt = select(Grade.submission_id).where(
            Grade.tenant_id == self.tenant_id,
            Grade.assignment_id == assignment_id,
            Grade.status == GradeStatus.returned,
        )
        return set((await self.session.execute(stmt)).scalars().all())
