"""Response models of the replay API (``integrity.replay``): a manifest, a state, pages of batches."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class PasteMarker(BaseModel):
    revision: int = Field(description="The revision the paste produced.")
    at: datetime
    pos: int = Field(description="Where it was inserted (code points).")
    size: int = Field(description="Code points pasted.")
    seen_in_doc: bool = Field(description="The pasted text already appeared in this document (a move).")


class GapMarker(BaseModel):
    after_revision: int = Field(description="The document's revision when the pause began.")
    start: datetime
    end: datetime
    minutes: float


class SessionMarker(BaseModel):
    started_at: datetime
    ended_at: datetime
    active_seconds: int


class SubmissionMarker(BaseModel):
    attempt: int
    revision: int
    at: datetime
    late: bool


class RestoreMarker(BaseModel):
    revision: int = Field(description="The revision the restore made (its text is a state of its own).")
    at: datetime


class Tick(BaseModel):
    revision: int
    at: datetime


class ReplayManifest(BaseModel):
    """What a player needs to lay out the timeline, without the log itself."""

    document_id: uuid.UUID
    revision_from: int
    revision_to: int
    content_hash: str = Field(description="SHA-256 of the current text (revision_to).")
    started_at: datetime | None
    ended_at: datetime | None
    batch_count: int = Field(description="Batches that changed the text (one revision each).")
    event_count: int = Field(description="Every batch of the log, focus-only ones included.")
    page_size: int = Field(description="The suggested ``limit`` of a batches request.")
    pages: int = Field(description="How many such pages hold the text-changing batches.")
    gap_minutes: int
    pastes: list[PasteMarker]
    pastes_total: int = Field(description="Every paste; ``pastes`` holds the largest when there are more.")
    gaps: list[GapMarker]
    sessions: list[SessionMarker]
    submissions: list[SubmissionMarker]
    restores: list[RestoreMarker]
    ticks: list[Tick] = Field(description="Revision and time at most 400 evenly spaced points (timeline labels).")


class ReplayState(BaseModel):
    document_id: uuid.UUID
    revision: int
    text: str
    content_hash: str


class ReplayBatch(BaseModel):
    base_revision: int
    revision: int
    at: datetime
    content_hash: str = Field(description="SHA-256 of the text after this batch: check the replay against it.")
    ops: list[dict[str, Any]]


class ReplayBatchPage(BaseModel):
    items: list[ReplayBatch]
    next_after: int | None = Field(description="Pass as ``after`` for the next page; None at the end.")
