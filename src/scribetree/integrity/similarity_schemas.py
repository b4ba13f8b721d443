"""API shapes of similarity and style drift (docs/integrity.md, "Similarity" and "Style drift")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SimilaritySettingsRead(BaseModel):
    cross_course: bool = Field(
        description="Compare submissions with those of every other course of the institution (off by default)."
    )
    updated_by: uuid.UUID | None = None
    updated_at: datetime | None = None


class SimilaritySettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cross_course: bool = Field(strict=True)


class Excerpt(BaseModel):
    start: int  # code points into the submitted text
    end: int
    before: str
    text: str
    after: str


class PassageRead(BaseModel):
    words: int
    quoted: bool  # quoted or cited in this submission (or in the other): not counted in the headline
    here: Excerpt
    there: Excerpt | None  # None when the viewer may not read the other submission


class OtherSubmission(BaseModel):
    submission_id: uuid.UUID
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    assignment_title: str
    course_id: uuid.UUID
    course_title: str
    author_name: str | None


class MatchRead(BaseModel):
    scope: Literal["assignment", "course", "institution"]
    other: OtherSubmission | None  # None when the viewer may not know which submission it is
    share_percent: float  # unquoted matched text, percent of this submission
    other_share_percent: float
    quoted_percent: float  # quoted or cited matched text, percent of this submission
    passages: list[PassageRead]


class SimilarityRead(BaseModel):
    submission_id: uuid.UUID
    state: Literal["pending", "indexed", "superseded"]
    indexed_at: datetime | None
    overlap_percent: float  # unquoted text shared with any shown match, percent of this submission
    quoted_percent: float
    cross_course: bool  # the institution compares across courses
    viewer: Literal["student", "staff"]
    matches: list[MatchRead]
    matches_total: int  # before the display limit


class StyleMeasure(BaseModel):
    name: str
    label: str
    value: float
    baseline_mean: float
    baseline_sd: float
    z: float | None  # (value - mean) / spread, when the baseline has spread
    shifted: bool
    observation: str


class StyleDriftRead(BaseModel):
    submission_id: uuid.UUID
    status: Literal["ok", "not_enough_earlier_writing", "too_short", "not_applicable"]
    message: str
    words: int
    earlier_texts: int
    earlier_words: int
    measures: list[StyleMeasure]
    function_word_distance: float | None  # Burrows' delta against the earlier texts
    function_word_cosine: float | None
    observations: list[str]
