"""What MCP tools return: pydantic models, so every result is structured and has an output schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from scribetree.courses.schemas import AssignmentRead, CourseRead, MyAssignmentRead
from scribetree.integrity.schemas import FlagRead as IntegrityFlagRead
from scribetree.writing.feedback_schemas import CommentRead
from scribetree.writing.schemas import SubmissionRow


class Page(BaseModel):
    next_cursor: str | None = Field(description="pass as 'cursor' to get the next page; null on the last page")
    total: int = Field(description="items in all pages together")


class WhoAmI(BaseModel):
    user_id: uuid.UUID
    display_name: str
    email: str
    tenant_slug: str | None
    role: str | None = Field(description="student, teaching_assistant, educator or institution_admin")
    scopes: list[str] = Field(description="what this token may do: read, write, admin")


class CoursePage(Page):
    items: list[CourseRead]


class AssignmentPage(Page):
    items: list[AssignmentRead]


class MyAssignmentPage(Page):
    items: list[MyAssignmentRead]


class OverviewPage(Page):
    assignment_id: uuid.UUID
    assignment_title: str
    items: list[SubmissionRow] = Field(description="one row per student (or group) with status and word count")


class ValidationVerdict(BaseModel):
    ok: bool = Field(description="true when the output respects every bounded-AI rule")
    reasons: list[str] = Field(description="machine codes of every rule broken (see docs/ai_partner.md)")
    level: str
    allowed_kinds: list[str]
    max_bloom: str


class DimensionScoreOut(BaseModel):
    dimension: str
    label: str
    score: int = Field(ge=0, le=4)
    reason: str
    improve: str


class ReflectionFlagOut(BaseModel):
    code: str
    message: str
    voids: bool = Field(description="a gaming signal: the reflection would not count")


class ReflectionScore(BaseModel):
    total: int = Field(description="0-20, the sum of five dimensions scored 0-4")
    word_count: int
    accepted: bool = Field(description="enough words and not gamed: it would count for the partner's gate")
    gamed: bool
    summary: str
    scores: list[DimensionScoreOut]
    flags: list[ReflectionFlagOut]


class IntegritySummary(BaseModel):
    """An integrity report without the text: what was flagged, the responses and outcomes counted."""

    submission_id: uuid.UUID
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    student_user_id: uuid.UUID | None
    attempt: int | None
    submitted_at: datetime | None
    computed_at: datetime
    viewer: str = Field(description="student or staff: what the report shows depends on it")
    flags: list[IntegrityFlagRead]
    responses: int = Field(description="the student's responses to flags")
    outcomes: list[str] = Field(description="staff only: outcomes recorded, oldest first")


class CommentList(BaseModel):
    items: list[CommentRead]


class EvidenceOut(BaseModel):
    text: str = Field(description="the figure, in words: '9 of 14 days with writing'")
    href: str | None = Field(description="where it can be seen in the web app, if anywhere")


class StatementOut(BaseModel):
    code: str = Field(description="'pattern.steady', 'state.stalled', 'strength.sentence_variety', ...")
    text: str = Field(description="the statement in the caller's wording (educator or student)")
    evidence: list[EvidenceOut]


class AiWeekOut(BaseModel):
    week: date = Field(description="the Monday")
    words_added: int
    exchanges: int
    per_1000: float | None = Field(description="AI-partner exchanges per 1,000 words added; null on few words")


class StudentProfile(BaseModel):
    """A learner profile: the state, patterns, strengths, areas to work on and AI independence, with evidence."""

    user_id: uuid.UUID
    name: str
    course_id: uuid.UUID
    audience: str = Field(description="educator or student: the wording of every statement")
    state: str = Field(description="progressing, stalled, struggling, not_started or nothing_open")
    state_label: str
    state_statement: StatementOut
    patterns: list[StatementOut]
    strengths: list[StatementOut]
    areas: list[StatementOut]
    independence: list[StatementOut]
    ai_weeks: list[AiWeekOut]
    ai_per_1000: float | None
    words_added: int
    words_deleted: int
    active_minutes: float
    writing_days: int
    last_activity_at: datetime | None
