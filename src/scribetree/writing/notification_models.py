"""In-app notifications: one row per person and event ("feedback returned", "new comment", "due soon").

``key`` makes a notification happen once: the due-soon job writes ``due:<assignment_id>`` per student, so a
rerun of the daily job (or a retry) adds nothing. Other kinds leave it NULL (every comment is news).
``link`` is a local path of the app, never an outside address; ``title`` and ``body`` are plain text.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class NotificationKind(StrEnum):
    comment = "comment"
    feedback_returned = "feedback_returned"
    due_soon = "due_soon"
    alert = "alert"  # an alert for a course's staff (alerts)
    alert_digest = "alert_digest"  # the daily digest of alerts (alerts)
    message = "message"  # an educator's message to a student (alerts.interventions)
    check_in = "check_in"  # a check-in an educator scheduled with the student, and its reminder
    reopened = "reopened"  # staff reopened the student's submitted document


class Notification(RecordMixin, TenantScoped, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "key"),
        Index("ix_notifications_user_unread", "tenant_id", "user_id", "read_at", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
