"""Documents, the edit-batch log, versions, writing sessions and submissions.

``edit_batches`` is append-only: rows are inserted by the batch path and never updated or deleted by the
application. ``documents`` holds the few counters the batch path needs, so a batch never reads the log: the
idempotency and sequence checks are one index lookup on ``(document_id, session_id, seq)``.

The current text lives in ``document_chunks`` (pieces of about ``CHUNK_TARGET`` code points, ordered by a
gapped ``ord`` key), so a batch rewrites only the chunks it touches, never the whole text. ``Document.text``
reads them back concatenated (one correlated subquery); assigning ``Document.text`` (creation, restore,
factories) replaces all of a document's chunks when the ORM flushes it. The batch path writes chunks itself
(``DocumentRepository.write_chunks``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    delete,
    event,
    insert,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Mapper, column_property, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement

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


CHUNK_TARGET = 2048  # code points per chunk when a text is (re)split
CHUNK_MAX = 4096  # a chunk that grows past this is split again
ORD_GAP = 1 << 16  # spacing of chunk ord keys, so a split can insert chunks between two neighbours


class DocumentChunk(TenantScoped, Base):
    """A piece of a document's current text; the pieces in ``ord`` order are the text."""

    __tablename__ = "document_chunks"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    ord: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)


def split_text(text: str, first_ord: int = ORD_GAP, gap: int = ORD_GAP) -> list[tuple[int, str]]:
    """``(ord, piece)`` pairs of ``CHUNK_TARGET`` code points (the last one shorter). A document always has at
    least one chunk (an empty text is one empty chunk), so every batch updates rows that exist."""
    starts = range(0, len(text), CHUNK_TARGET) or range(1)
    return [(first_ord + i * gap, text[k : k + CHUNK_TARGET]) for i, k in enumerate(starts)]


class _ChunkText(ColumnElement[str]):
    """``documents.text``: the document's chunks concatenated in ``ord`` order ('' when it has none)."""

    inherit_cache = True
    type = Text()


@compiles(_ChunkText)
def _chunk_text_sqlite(element: _ChunkText, compiler: SQLCompiler, **kw: object) -> str:
    # SQLite before 3.44 has no ORDER BY inside an aggregate; group_concat keeps the order of an ordered subquery.
    return (
        "(SELECT coalesce(group_concat(c.text, ''), '') FROM (SELECT document_chunks.text AS text FROM "
        "document_chunks WHERE document_chunks.document_id = documents.id ORDER BY document_chunks.ord) AS c)"
    )


@compiles(_ChunkText, "postgresql")
def _chunk_text_postgresql(element: _ChunkText, compiler: SQLCompiler, **kw: object) -> str:
    return (
        "(SELECT coalesce(string_agg(document_chunks.text, '' ORDER BY document_chunks.ord), '') FROM "
        "document_chunks WHERE document_chunks.document_id = documents.id)"
    )


# expire_on_flush=False: a text just assigned (and written to the chunks) stays readable after the flush.
Document.text = column_property(_ChunkText(), expire_on_flush=False)  # type: ignore[attr-defined]


def _replace_chunks(connection: Connection, doc: Document) -> None:
    table = DocumentChunk.__table__
    connection.execute(delete(table).where(table.c.document_id == doc.id))
    connection.execute(
        insert(table),
        [
            {"tenant_id": doc.tenant_id, "document_id": doc.id, "ord": o, "text": t}
            for o, t in split_text(doc.__dict__.get("text") or "")
        ],
    )


@event.listens_for(Document, "after_insert")
def _chunks_of_new_document(_mapper: Mapper[Document], connection: Connection, doc: Document) -> None:
    _replace_chunks(connection, doc)


@event.listens_for(Document, "before_update")
def _chunks_of_assigned_text(_mapper: Mapper[Document], connection: Connection, doc: Document) -> None:
    from sqlalchemy import inspect

    if inspect(doc).attrs.text.history.has_changes():
        _replace_chunks(connection, doc)


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
