"""Alerts: one row per (rule, student, assignment, window) finding; per-course settings; per-educator delivery.

- ``alerts``: what a rule found, with the figures behind it (``evidence``) and what an educator may do about it
  (``suggested_actions``). ``dedupe_key`` is unique per tenant, so a rule that keeps firing for the same student
  in the same window adds nothing (a rerun or a retry of the evaluation job is harmless).
- ``alert_course_settings``: per course threshold overrides (validated against ``rules.THRESHOLDS``) and muted
  rules. No row means the documented defaults.
- ``alert_educator_prefs``: per educator and course: delivery (``immediate`` or ``digest``) and quiet hours in the
  educator's own time zone.
- ``alert_deliveries``: one row per alert and educator: when it may go out (after quiet hours, at the digest hour)
  and when it went. The delivery job sends what is due; a digest gathers an educator's due rows into one email.
- ``alert_watermarks``: per tenant and job, the time up to which activity has been evaluated.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class Severity(StrEnum):
    info = "info"
    attention = "attention"
    urgent = "urgent"


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    dismissed = "dismissed"


class SuggestedAction(StrEnum):
    message = "message"
    check_in = "check_in"
    extend_deadline = "extend_deadline"
    adjust_ai_budget = "adjust_ai_budget"


class DeliveryMode(StrEnum):
    immediate = "immediate"
    digest = "digest"


class Alert(RecordMixin, TenantScoped, Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_alerts_course_status", "tenant_id", "course_id", "status", "created_at"),
        Index("ix_alerts_student", "tenant_id", "student_user_id", "created_at"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), nullable=True
    )
    student_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[Severity] = mapped_column(String(20))
    positive: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(300))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"figures": {...}, "links": [...]}
    suggested_actions: Mapped[list[str]] = mapped_column(JSON, default=list)  # SuggestedAction values
    status: Mapped[AlertStatus] = mapped_column(String(20), default=AlertStatus.open)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class AlertCourseSettings(RecordMixin, TenantScoped, Base):
    __tablename__ = "alert_course_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "course_id"),)

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {name: number}; defaults elsewhere
    muted_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class AlertEducatorPrefs(RecordMixin, TenantScoped, Base):
    __tablename__ = "alert_educator_prefs"
    __table_args__ = (UniqueConstraint("tenant_id", "course_id", "user_id"),)

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    delivery: Mapped[DeliveryMode] = mapped_column(String(20), default=DeliveryMode.immediate)
    # Quiet hours as minutes after local midnight; both NULL: none. start > end wraps midnight (22:00-07:00).
    quiet_start_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quiet_end_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA name
    digest_hour: Mapped[int] = mapped_column(Integer, default=7)  # local hour the daily digest goes out


class AlertDelivery(RecordMixin, TenantScoped, Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "alert_id", "user_id"),
        Index("ix_alert_deliveries_due", "tenant_id", "delivered_at", "due_at"),
    )

    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[DeliveryMode] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AlertWatermark(RecordMixin, TenantScoped, Base):
    __tablename__ = "alert_watermarks"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(40))
    value: Mapped[datetime] = mapped_column(UTCDateTime)
