"""The integrity domain's core tables: the cached evidence report of a submission, the student's responses
to flags, the educator's outcomes and the per-assignment visibility setting.

A submission is immutable (its version and the log up to its revision never change), so its report is
computed once and cached in ``integrity_reports``; ``algorithm`` names the version of the computation, and a
report computed by an older one is recomputed on the next read. Responses and outcomes are append-only: the
latest outcome is the current one, and every response stays with the report (and its export).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core import clock
from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class OutcomeKind(StrEnum):
    no_concern = "no_concern"
    discussed = "discussed"  # discussed with the student
    referred = "referred"  # referred to the institution's integrity process


class IntegrityReport(RecordMixin, TenantScoped, Base):
    """The computed evidence report of one submission (cache; the log is the source of truth)."""

    __tablename__ = "integrity_reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "submission_id"),
        Index("ix_integrity_reports_assignment", "tenant_id", "assignment_id"),
        Index("ix_integrity_reports_student", "tenant_id", "student_user_id"),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    student_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    algorithm: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # evidence.Evidence.to_json() without comparisons
    flag_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Key figures, as columns so the assignment table and the class comparison read no JSON.
    final_chars: Mapped[int] = mapped_column(Integer, default=0)
    final_words: Mapped[int] = mapped_column(Integer, default=0)
    typed_share: Mapped[float] = mapped_column(Float, default=0.0)
    external_paste_share: Mapped[float] = mapped_column(Float, default=0.0)
    revision_ratio: Mapped[float] = mapped_column(Float, default=0.0)
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)


class IntegrityResponse(RecordMixin, TenantScoped, Base):
    """The student's answer to one flag (or to the report as a whole: ``flag_code`` ``"report"``)."""

    __tablename__ = "integrity_responses"
    __table_args__ = (Index("ix_integrity_responses_submission", "tenant_id", "submission_id", "created_at"),)

    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    flag_code: Mapped[str] = mapped_column(String(60))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)


class IntegrityOutcome(RecordMixin, TenantScoped, Base):
    """An educator's recorded outcome for a submission's report; the latest one is current."""

    __tablename__ = "integrity_outcomes"
    __table_args__ = (Index("ix_integrity_outcomes_submission", "tenant_id", "submission_id", "created_at"),)

    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    outcome: Mapped[OutcomeKind] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class IntegritySettings(RecordMixin, TenantScoped, Base):
    """Per assignment: whether students may see their own process report before they submit."""

    __tablename__ = "integrity_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "assignment_id"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    students_see_before_submission: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
