"""Request and response models of the integrity API (evidence reports, flags, responses, outcomes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from scribetree.integrity.models import OutcomeKind

MAX_RESPONSE_CHARS = 4000
MAX_NOTE_CHARS = 4000


class FlagRead(BaseModel):
    code: str
    title: str
    measured: float | int | None
    threshold: float | int
    comparison: str
    explanation: str
    clears: str = Field(description="What would clear this flag.")
    evidence: list[dict[str, Any]]


class ResponseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    flag_code: str
    author_user_id: uuid.UUID | None
    text: str
    created_at: datetime


class ResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flag_code: str = Field(min_length=1, max_length=60, description="A raised flag's code, or 'report'.")
    text: str = Field(min_length=1, max_length=MAX_RESPONSE_CHARS, description="Plain text; shown as text.")


class OutcomeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    outcome: OutcomeKind
    note: str
    recorded_by: uuid.UUID | None
    created_at: datetime


class OutcomeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: OutcomeKind = Field(description="no_concern, discussed (with the student) or referred.")
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class SettingsRead(BaseModel):
    assignment_id: uuid.UUID
    students_see_before_submission: bool


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    students_see_before_submission: StrictBool


class Comparison(BaseModel):
    """One figure against a reference group: robust z = (value - median) / (1.4826 MAD)."""

    figure: str
    value: float | None
    median: float | None
    robust_z: float | None
    n: int


class IntegrityReportRead(BaseModel):
    submission_id: uuid.UUID | None  # None for a draft report (before submission)
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    student_user_id: uuid.UUID | None
    attempt: int | None
    submitted_at: datetime | None
    algorithm: int
    computed_at: datetime
    viewer: Literal["student", "staff"]
    text: str = Field(description="The final text the evidence refers to (highlights are code point offsets).")
    evidence: dict[str, Any]
    flags: list[FlagRead]
    responses: list[ResponseRead]
    outcomes: list[OutcomeRead] = Field(default_factory=list, description="Staff only.")
    self_comparison: list[Comparison] = Field(default_factory=list, description="Staff only.")
    class_comparison: list[Comparison] = Field(default_factory=list, description="Staff only; n >= CLASS_MIN.")
    sections: dict[str, Any] = Field(default_factory=dict, description="Similarity, style drift, when present.")


class AssignmentIntegrityRow(BaseModel):
    submission_id: uuid.UUID
    document_id: uuid.UUID
    student_user_id: uuid.UUID | None
    name: str
    attempt: int
    submitted_at: datetime
    words: int
    flags: list[str]
    typed_share: float
    external_paste_share: float
    revision_ratio: float
    active_minutes: float
    sessions: int
    responses: int
    outcome: OutcomeKind | None


SORT_KEYS = (
    "name",
    "flags",
    "words",
    "typed_share",
    "external_paste_share",
    "revision_ratio",
    "active_minutes",
    "sessions",
    "submitted_at",
)
