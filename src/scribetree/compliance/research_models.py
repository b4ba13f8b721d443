"""The institution's research consent and the log of every research query run against its data (docs/mcp.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core import clock
from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime

K_MIN_DEFAULT = 5
K_MIN_RANGE = (2, 100)


class ResearchSettings(RecordMixin, TenantScoped, Base):
    """One row per institution; no row means 'not consented, k_min 5'."""

    __tablename__ = "research_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    consented: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    k_min: Mapped[int] = mapped_column(Integer, default=K_MIN_DEFAULT, nullable=False)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow, nullable=False)


class ResearchQueryLog(RecordMixin, TenantScoped, Base):
    """Every research query: who ran it, which query, its parameters (ids and numbers only) and how many rows."""

    __tablename__ = "research_query_log"

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    query: Mapped[str] = mapped_column(String(80), nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    rows: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    suppressed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
