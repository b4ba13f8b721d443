"""Per-student AI budget overrides (an educator's intervention).

One row per (assignment, student): the hourly and daily request budgets that replace the assignment's
``ai_settings`` budget for that student. The level multiplier still applies (docs/ai-partner.md).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped


class AiBudgetOverride(RecordMixin, TenantScoped, Base):
    __tablename__ = "ai_budget_overrides"
    __table_args__ = (UniqueConstraint("tenant_id", "assignment_id", "user_id"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    budget_per_hour: Mapped[int] = mapped_column(Integer)
    budget_per_day: Mapped[int] = mapped_column(Integer)
    granted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
