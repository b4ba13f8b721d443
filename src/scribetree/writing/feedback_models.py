"""Feedback on students' writing: inline and general comments (threaded) and rubric grades per submission.

- ``comments.anchor``: ``{"quote", "prefix", "suffix", "start", "end"}`` (``writing.anchors``; code-point offsets
  into the text at ``revision`` of the document, or of the submission's snapshot when ``submission_id`` is set),
  or NULL for a general comment. Replies (``parent_id`` set) carry no anchor: they belong to their thread.
- ``grades.scores``: ``{criterion_id: level_id}`` against the assignment's rubric (``courses``); ``total``,
  ``max_points`` and ``penalty_percent`` are computed by the server from the rubric, never taken from a client.
  A grade is ``draft`` (staff only) until it is ``returned``; only then does the student see it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class GradeStatus(StrEnum):
    draft = "draft"
    returned = "returned"


class Comment(RecordMixin, TenantScoped, Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_document", "tenant_id", "document_id", "created_at"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), nullable=True
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    author_is_staff: Mapped[bool] = mapped_column(default=False)
    anchor: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # the text revision the anchor was made on
    body: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class Grade(RecordMixin, TenantScoped, Base):
    __tablename__ = "grades"
    __table_args__ = (
        UniqueConstraint("tenant_id", "submission_id"),
        Index("ix_grades_assignment", "tenant_id", "assignment_id"),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    scores: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    points: Mapped[float | None] = mapped_column(Float, nullable=True)  # sum of the chosen levels
    penalty_percent: Mapped[int] = mapped_column(Integer, default=0)  # late penalty applied to ``points``
    total: Mapped[float | None] = mapped_column(Float, nullable=True)  # after the penalty
    max_points: Mapped[float | None] = mapped_column(Float, nullable=True)
    feedback: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[GradeStatus] = mapped_column(String(20), default=GradeStatus.draft)
    graded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
