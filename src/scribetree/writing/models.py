"""Documents, the edit-batch log, versions, writing sessions and submissions.

``edit_batches`` is append-only: rows are inserted by the batch path and never updated or deleted by the
application. ``documents`` holds the current text and the few counters the batch path needs, so a batch
never reads the log: the idempotency and sequence checks are one index lookup on
``(document_id, session_id, seq)``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core import clock
from scribetree.core.db import Base, RecordMixin, TenantScoped, UTCDateTime
from scribetree.core.ids import uuid7


class DocumentStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    reopened = "reopened"


class VersionKind(StrEnum):
    auto = "auto"  # periodic snapshot (time or amount of change); also the empty revision 0
    checkpoint = "checkpoint"  # named by the student
    submission = "submission"
    restore = "restore"  # an older version made current again


class Document(RecordMixin, TenantScoped, Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("assignment_id", "owner_user_id"),
        UniqueConstraint("assignment_id", "group_id"),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assignment_groups.id", ondelete="CASCADE"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(64))
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[DocumentStatus] = mapped_column(String(20), default=DocumentStatus.draft)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # latest submission
    # Automatic snapshots: what changed since the last one (kept here so no batch reads the log).
    snapshot_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)
    snapshot_revision: Mapped[int] = mapped_column(Integer, default=0)
    chars_since_snapshot: Mapped[int] = mapped_column(Integer, default=0)


class EditBatch(TenantScoped, Base):
    """One acknowledged batch of ops: the append-only event log."""

    __tablename__ = "edit_batches"
    __table_args__ = (
        UniqueConstraint("document_id", "session_id", "seq"),
        Index("ix_edit_batches_document_revision", "document_id", "revision"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the client's editing session (one tab, one load)
    seq: Mapped[int] = mapped_column(Integer)
    base_revision: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)  # the document's revision after this batch
    content_hash: Mapped[str] = mapped_column(String(64))  # of the text after this batch
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    ops: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    chars_inserted: Mapped[int] = mapped_column(Integer, default=0)
    chars_deleted: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)


class DocumentVersion(TenantScoped, Base):
    __tablename__ = "document_versions"
    __table_args__ = (Index("ix_document_versions_document_revision", "document_id", "revision"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    kind: Mapped[VersionKind] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    word_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    restored_from_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)


class WritingSession(TenantScoped, Base):
    """A stretch of writing by one author on one document, ended by an idle gap (derived from batches)."""

    __tablename__ = "writing_sessions"
    __table_args__ = (Index("ix_writing_sessions_document_user", "document_id", "user_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last batch so far
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    chars_inserted: Mapped[int] = mapped_column(Integer, default=0)
    chars_deleted: Mapped[int] = mapped_column(Integer, default=0)
    words_added: Mapped[int] = mapped_column(Integer, default=0)
    words_removed: Mapped[int] = mapped_column(Integer, default=0)
    pastes: Mapped[int] = mapped_column(Integer, default=0)


class Submission(TenantScoped, Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("document_id", "attempt"),
        Index("ix_submissions_assignment", "assignment_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"))
    submitted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    attempt: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    word_count: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    ai_statement: Mapped[str | None] = mapped_column(Text, nullable=True)
