"""Per-student deadline extensions (an educator's intervention; courses owns deadlines).

One row per (assignment, student, stage): ``stage_key`` is ``""`` for the assignment's own due date, or the
key of one of its stages. Granting again replaces the row. Writing reads the student's effective due date
through ``courses.extensions`` for lateness and due-soon reminders.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class DeadlineExtension(RecordMixin, TenantScoped, Base):
    __tablename__ = "deadline_extensions"
    __table_args__ = (UniqueConstraint("tenant_id", "assignment_id", "user_id", "stage_key"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage_key: Mapped[str] = mapped_column(String(50), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
