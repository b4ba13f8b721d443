"""Request and response models of the writing API. Ops are validated by ``writing.ops`` (specific error codes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scribetree.writing.models import DocumentStatus, VersionKind

HASH_LENGTH = 64
AI_STATEMENT_MAX = 5_000


class WritingLimits(BaseModel):
    max_batch_ops: int
    max_batch_bytes: int
    max_document_chars: int


class DocumentRead(BaseModel):
    """A document with its current text. ``revision`` counts accepted text changes; positions are code points."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    assignment_id: uuid.UUID
    owner_user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    text: str
    revision: int
    content_hash: str
    word_count: int
    status: DocumentStatus
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None
    submitted_at: datetime | None
    limits: WritingLimits


class BatchCreate(BaseModel):
    session_id: uuid.UUID = Field(description="The client's editing session (a new UUID per page load or tab).")
    seq: int = Field(ge=1, le=2**31 - 1, description="1 for a session's first batch, then +1 per batch.")
    base_revision: int = Field(ge=0, le=2**31 - 1, description="The document revision the ops were made on.")
    ops: list[Any] = Field(description="Edit operations in order (see docs/api.md); validated one by one.")
    content_hash: str = Field(
        min_length=HASH_LENGTH,
        max_length=HASH_LENGTH,
        description="SHA-256 (lower-case hex) of the UTF-8 text after applying the ops.",
    )


class BatchAccepted(BaseModel):
    document_id: uuid.UUID
    session_id: uuid.UUID
    seq: int
    revision: int
    content_hash: str
    replayed: bool = Field(description="True when this (session_id, seq) had already been applied: nothing changed.")


class VersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    document_id: uuid.UUID
    revision: int
    kind: VersionKind
    name: str | None
    word_count: int
    content_hash: str
    created_by: uuid.UUID | None
    restored_from_id: uuid.UUID | None
    created_at: datetime


class VersionRead(VersionSummary):
    text: str


class CheckpointCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="A name the student gives this moment.")


class DiffSegment(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class DiffRead(BaseModel):
    from_version_id: uuid.UUID
    to_version_id: uuid.UUID | None = Field(description="None: compared with the document's current text.")
    from_revision: int
    to_revision: int
    segments: list[DiffSegment]


class SubmitRequest(BaseModel):
    revision: int = Field(ge=0, description="The revision the student saw and confirmed; 409 if it has moved on.")
    ai_statement: str | None = Field(default=None, max_length=AI_STATEMENT_MAX)


class SubmissionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    version_id: uuid.UUID
    submitted_by: uuid.UUID | None
    attempt: int
    revision: int
    content_hash: str
    word_count: int
    submitted_at: datetime
    late: bool
    ai_statement: str | None


class SubmissionReceipt(BaseModel):
    """What the student keeps: proof of what was submitted, when."""

    receipt_version: int = 1
    submission_id: uuid.UUID
    submitted_at: datetime
    content_hash: str
    hash_algorithm: str = "SHA-256 of the UTF-8 text"
    word_count: int
    attempt: int
    late: bool
    revision: int
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    assignment_title: str
    submitted_by: uuid.UUID | None
    ai_statement: str | None


class WritingSessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID | None
    started_at: datetime
    ended_at: datetime
    active_seconds: int
    batches: int
    chars_inserted: int
    chars_deleted: int
    words_added: int
    words_removed: int
    pastes: int


class Contribution(BaseModel):
    user_id: uuid.UUID | None
    display_name: str | None
    batches: int
    chars_inserted: int
    chars_deleted: int


SubmissionState = Literal["not_started", "in_progress", "submitted", "late", "graded"]


class SubmissionRow(BaseModel):
    """One student (individual assignment) or group (group assignment) in the staff list."""

    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    name: str
    status: SubmissionState
    document_id: uuid.UUID | None
    document_status: DocumentStatus | None
    word_count: int
    last_activity_at: datetime | None
    submitted_at: datetime | None
    attempts: int
    late: bool


class RevisionText(BaseModel):
    """The text as it was at one revision, rebuilt from the nearest snapshot and the batches after it."""

    document_id: uuid.UUID
    revision: int
    text: str
    content_hash: str
    word_count: int


class EditBatchRead(BaseModel):
    """One accepted batch of the log, as stored (ops in the documented format)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    session_id: uuid.UUID
    seq: int
    base_revision: int
    revision: int
    content_hash: str
    author_user_id: uuid.UUID | None
    ops: list[dict[str, Any]]
    chars_inserted: int
    chars_deleted: int
    received_at: datetime


class EditBatchPage(BaseModel):
    items: list[EditBatchRead]
    next_after: uuid.UUID | None = Field(description="Pass as ``after`` for the next page; None at the end.")
