"""The AI partner's tables: reflections (scored), exchanges (every request and answer) and level changes, and
the institution's provider settings (one row per tenant).

All three are tenant-owned and keyed by document and user: the level and the reflection gate belong to one
student on one assignment's document (a group document has one history per member). Nothing here is ever
updated after it is written: the rows are the transparent log that students and educators read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class ReflectionKind(StrEnum):
    initial = "initial"  # before help (the gate)
    follow_up = "follow_up"  # after an exchange: "what will you change?"


class AiReflection(RecordMixin, TenantScoped, Base):
    __tablename__ = "ai_reflections"
    __table_args__ = (Index("ix_ai_reflections_doc_user", "tenant_id", "document_id", "user_id", "created_at"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ReflectionKind] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer)
    # {dimension: {"score": 0-4, "reason": str, "improve": str}}
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"code", "message"}]
    total: Mapped[int] = mapped_column(Integer)  # sum of the five dimensions, 0-20
    gamed: Mapped[bool] = mapped_column(Boolean, default=False)  # an authenticity flag that voids the score
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)  # counts for the reflection gate
    typed_ratio: Mapped[float] = mapped_column(Float)  # 1 - pasted share, as the client reported it
    pasted_chars: Mapped[int] = mapped_column(Integer, default=0)
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)
    level_before: Mapped[str] = mapped_column(String(20))
    level_after: Mapped[str] = mapped_column(String(20))


class AiExchange(RecordMixin, TenantScoped, Base):
    __tablename__ = "ai_exchanges"
    __table_args__ = (
        Index("ix_ai_exchanges_doc_user", "tenant_id", "document_id", "user_id", "created_at"),
        Index("ix_ai_exchanges_assignment", "tenant_id", "assignment_id", "created_at"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage: Mapped[str | None] = mapped_column(String(40), nullable=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"questions": [...], "refusal": str|None, "bank_version"}
    provider: Mapped[str] = mapped_column(String(40))
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"ok", "reasons"}]
    fell_back: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(40), nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    draft_revision: Mapped[int] = mapped_column(Integer, default=0)
    draft_words: Mapped[int] = mapped_column(Integer, default=0)


class AiLevelChange(RecordMixin, TenantScoped, Base):
    __tablename__ = "ai_level_changes"
    __table_args__ = (Index("ix_ai_level_changes_doc_user", "tenant_id", "document_id", "user_id", "created_at"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reflection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_reflections.id", ondelete="SET NULL"), nullable=True
    )
    from_level: Mapped[str] = mapped_column(String(20))
    to_level: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)


class ProviderName(StrEnum):
    builtin = "builtin"  # the deterministic engine: no network
    anthropic = "anthropic"
    openai_compatible = "openai_compatible"


class AiProviderSettings(RecordMixin, TenantScoped, Base):
    """The institution's AI provider (docs/ai-partner.md, "Provider settings"). The API key is stored only
    encrypted (Fernet, a key derived from SECRET_KEY); ``api_key_last4`` is what pages may show of it."""

    __tablename__ = "ai_provider_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    provider: Mapped[ProviderName] = mapped_column(String(40), default=ProviderName.builtin)
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    timeout_s: Mapped[int] = mapped_column(Integer, default=8)
    external_allowed: Mapped[bool] = mapped_column(Boolean, default=False)  # opt-in: students' words leave
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    api_key_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
