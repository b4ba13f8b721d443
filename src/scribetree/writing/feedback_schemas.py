"""Request and response models of feedback and grading. Bodies are plain text: clients show them as text, never HTML."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from scribetree.writing.anchors import MAX_QUOTE
from scribetree.writing.feedback_models import GradeStatus

COMMENT_MAX = 5_000
FEEDBACK_MAX = 20_000
MAX_SCORES = 100
# PostgreSQL cannot store NUL in text, and lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("contains a NUL character or an unpaired UTF-16 surrogate; send well-formed Unicode text")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


CommentBody = Annotated[
    str,
    Field(min_length=1, max_length=COMMENT_MAX, description="Plain text (shown as text, never as HTML)."),
    AfterValidator(_storable),
    AfterValidator(_not_blank),
]
FeedbackText = Annotated[str, Field(max_length=FEEDBACK_MAX), AfterValidator(_storable)]
ItemKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class AnchorIn(BaseModel):
    """The selected passage: code-point offsets into the text being commented on, and the text between them."""

    start: int = Field(ge=0, le=10_000_000)
    end: int = Field(ge=1, le=10_000_000)
    quote: str = Field(min_length=1, max_length=MAX_QUOTE)

    @model_validator(mode="after")
    def _consistent(self) -> AnchorIn:
        if self.end <= self.start:
            raise ValueError("'end' must be greater than 'start'")
        if len(self.quote) != self.end - self.start:
            raise ValueError("'quote' must be exactly the end - start code points between the offsets")
        _storable(self.quote)
        return self


class CommentCreate(BaseModel):
    body: CommentBody
    anchor: AnchorIn | None = Field(default=None, description="The passage; omit for a general comment.")


class ReplyCreate(BaseModel):
    body: CommentBody


class CommentUpdate(BaseModel):
    body: CommentBody


class AnchorRead(BaseModel):
    quote: str
    start: int  # where the passage was when the comment was made
    end: int


class Span(BaseModel):
    start: int
    end: int


class CommentRead(BaseModel):
    """A comment with its replies. ``position`` is where the passage is now in the text being viewed (the document's
    current text, or the submission's), or null; ``outdated`` is true when an inline comment's passage is gone."""

    id: uuid.UUID
    document_id: uuid.UUID
    submission_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    author_user_id: uuid.UUID | None
    author_name: str | None
    author_is_staff: bool
    body: str
    anchor: AnchorRead | None
    revision: int
    position: Span | None
    outdated: bool
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    created_at: datetime
    edited_at: datetime | None
    replies: list[CommentRead] = Field(default_factory=list)


class GradeWrite(BaseModel):
    """Rubric scores as ``{criterion_id: level_id}`` (ids from the assignment's rubric) and overall feedback.
    Totals are computed by the server; a client cannot set them."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[ItemKey, ItemKey] = Field(default_factory=dict, max_length=MAX_SCORES)
    feedback: FeedbackText = ""


class CriterionScore(BaseModel):
    criterion_id: str
    criterion: str
    level_id: str | None
    level: str | None
    points: float | None
    max_points: float


class GradeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    submission_id: uuid.UUID
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    status: GradeStatus
    scores: dict[str, str]
    criteria: list[CriterionScore] = Field(default_factory=list)
    points: float | None = Field(description="Sum of the chosen levels' points.")
    penalty_percent: int = Field(description="Late penalty applied to 'points' (assignment late policy).")
    total: float | None = Field(description="'points' after the late penalty.")
    max_points: float | None
    feedback: str
    graded_by: uuid.UUID | None
    returned_at: datetime | None
    created_at: datetime
    modified_at: datetime | None


class GradeSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    submission_id: uuid.UUID
    document_id: uuid.UUID
    status: GradeStatus
    total: float | None
    max_points: float | None
    returned_at: datetime | None
