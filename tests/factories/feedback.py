"""Feedback factories: a comment and a grade on an existing submission (flush, never commit)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.writing.anchors import make_anchor
from scribetree.writing.feedback_models import Comment, Grade, GradeStatus
from scribetree.writing.models import Document, Submission


async def create_comment(
    session: AsyncSession, doc: Document, author_id: uuid.UUID, body: str = "A comment.", *, inline: bool = True
) -> Comment:
    anchor = make_anchor(doc.text, 0, min(len(doc.text), 5)).to_json() if inline and doc.text else None
    c = Comment(
        tenant_id=doc.tenant_id,
        document_id=doc.id,
        author_user_id=author_id,
        author_is_staff=True,
        anchor=anchor,
        revision=doc.revision,
        body=body,
    )
    session.add(c)
    await session.flush()
    return c


async def create_grade(
    session: AsyncSession, sub: Submission, *, status: GradeStatus = GradeStatus.draft, feedback: str = "Good."
) -> Grade:
    g = Grade(
        tenant_id=sub.tenant_id,
        submission_id=sub.id,
        document_id=sub.document_id,
        assignment_id=sub.assignment_id,
        scores={},
        feedback=feedback,
        status=status,
    )
    session.add(g)
    await session.flush()
    return g


async def matrix_ids(
    session: AsyncSession, document_id: uuid.UUID, submission_id: uuid.UUID, author_id: uuid.UUID
) -> dict[str, uuid.UUID]:
    """Real feedback objects for the authorization matrix: a comment on the document and a draft grade."""
    doc = await session.get(Document, document_id)
    sub = await session.get(Submission, submission_id)
    assert doc is not None and sub is not None
    comment = await create_comment(session, doc, author_id, "Their comment.")
    await create_grade(session, sub, feedback="Their feedback.")
    return {"comment_id": comment.id}
