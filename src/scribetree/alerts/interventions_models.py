"""Interventions: what an educator did for a student (from an alert or from the student's row) and how it went.

``kind`` is one of ``InterventionKind``; ``params`` holds the kind's validated parameters (the message's subject,
the check-in time, the extended due date and stage, the AI budget). ``outcome`` is recorded later by the
educator. Effectiveness is computed on read from the student's writing sessions around ``created_at``
(``alerts.interventions_effect``); nothing about it is stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class InterventionKind(StrEnum):
    message = "message"
    check_in = "check_in"
    extend_deadline = "extend_deadline"
    adjust_ai_budget = "adjust_ai_budget"


class InterventionOutcome(StrEnum):
    helped = "helped"
    no_change = "no_change"
    student_unreachable = "student_unreachable"


class Intervention(RecordMixin, TenantScoped, Base):
    __tablename__ = "interventions"
    __table_args__ = (
        Index("ix_interventions_course", "tenant_id", "course_id", "created_at"),
        Index("ix_interventions_student", "tenant_id", "student_user_id", "created_at"),
        Index("ix_interventions_alert", "tenant_id", "alert_id"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    student_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True)
    assignment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[InterventionKind] = mapped_column(String(30))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # check-ins only
    outcome: Mapped[InterventionOutcome | None] = mapped_column(String(30), nullable=True)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
