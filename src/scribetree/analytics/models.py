"""Analytics aggregates, kept incrementally from the append-only edit log (never rescanned on a page view).

- ``analytics_document_metrics``: one row per document. ``wm_*`` is the watermark: the last edit batch folded
  in, as ``(revision, received_at, batch id)`` (the order the batch path applied them in: the document row
  lock serializes a document's batches). ``text`` is the document's text at the watermark, so that the next
  batches can be replayed against it to count the words they delete (a batch row stores only its ops).
  ``run_*`` is the open typing run (see ``analytics.metrics`` for bursts), so that folding batches one call at a
  time gives the same figures as folding them all at once. ``style`` caches ``analytics.style.measure`` of
  ``text`` at ``style_revision``.
- ``analytics_daily_activity``: per document, author and UTC day, what was written that day. ``course_id`` and
  ``assignment_id`` are copied from the document's assignment so that course pages read one index range.

Units: seconds for times (``active_seconds``), code points for ``chars_*``, words as ``writing.ops.word_count``
counts them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime


class DocumentMetricsRow(TenantScoped, Base):
    __tablename__ = "analytics_document_metrics"
    __table_args__ = (
        Index("ix_analytics_document_metrics_assignment", "tenant_id", "assignment_id"),
        Index("ix_analytics_document_metrics_course", "tenant_id", "course_id"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    # watermark: the last batch folded in (none yet: revision 0, NULLs)
    wm_revision: Mapped[int] = mapped_column(Integer, default=0)
    wm_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wm_batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")  # the document's text at the watermark
    batches: Mapped[int] = mapped_column(Integer, default=0)  # batches folded in
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
    chars_inserted: Mapped[int] = mapped_column(Integer, default=0)
    chars_deleted: Mapped[int] = mapped_column(Integer, default=0)
    words_added: Mapped[int] = mapped_column(Integer, default=0)
    words_deleted: Mapped[int] = mapped_column(Integer, default=0)
    pastes: Mapped[int] = mapped_column(Integer, default=0)
    pasted_chars: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {bucket label: count} of inter-batch gaps
    pauses: Mapped[int] = mapped_column(Integer, default=0)
    pause_seconds: Mapped[int] = mapped_column(Integer, default=0)
    bursts: Mapped[int] = mapped_column(Integer, default=0)
    longest_burst_chars: Mapped[int] = mapped_column(Integer, default=0)
    run_chars: Mapped[int] = mapped_column(Integer, default=0)  # the open typing run
    run_counted: Mapped[bool] = mapped_column(Boolean, default=False)
    first_batch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_words_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_batch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    style_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    style: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    seen_activity_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True
    )  # the last_activity_at covered


class DailyActivityRow(RecordMixin, TenantScoped, Base):
    __tablename__ = "analytics_daily_activity"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_id", "user_id", "day"),
        Index("ix_analytics_daily_activity_course_day", "tenant_id", "course_id", "day"),
        Index("ix_analytics_daily_activity_course_user", "tenant_id", "course_id", "user_id", "day"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # UTC
    batches: Mapped[int] = mapped_column(Integer, default=0)
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
    chars_inserted: Mapped[int] = mapped_column(Integer, default=0)
    chars_deleted: Mapped[int] = mapped_column(Integer, default=0)
    words_added: Mapped[int] = mapped_column(Integer, default=0)
    words_deleted: Mapped[int] = mapped_column(Integer, default=0)
    word_delta: Mapped[int] = mapped_column(Integer, default=0)  # change of the document's word count that day
    pastes: Mapped[int] = mapped_column(Integer, default=0)
    pasted_chars: Mapped[int] = mapped_column(Integer, default=0)
