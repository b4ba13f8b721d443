"""API shapes of interventions. Text is plain: show it with ``textContent``, never as HTML."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scribetree.alerts.interventions_models import InterventionKind, InterventionOutcome

InterventionID = uuid.UUID
NOTE_MAX = 2_000
SUBJECT_MAX = 200
MESSAGE_MAX = 5_000

Note = Annotated[str, Field(default="", max_length=NOTE_MAX, description="The educator's own note (not sent).")]


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note = ""


class MessageCreate(_Base):
    """An in-app message and an email to the student."""

    kind: Literal["message"]
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX)
    body: str = Field(min_length=1, max_length=MESSAGE_MAX)


class CheckInCreate(_Base):
    """A check-in at ``at`` (future, within 90 days); the student is told, the educator reminded at the time."""

    kind: Literal["check_in"]
    at: datetime
    agenda: str = Field(default="", max_length=NOTE_MAX, description="What it is about; sent to the student.")


class ExtendDeadlineCreate(_Base):
    """A later due date for this student on one assignment (or one of its stages)."""

    kind: Literal["extend_deadline"]
    assignment_id: uuid.UUID
    due_at: datetime
    stage: str | None = Field(default=None, max_length=50, description="A stage key; omitted: the assignment.")


class AdjustAiBudgetCreate(_Base):
    """This student's AI partner requests per hour and per day on one assignment (replaces the assignment's)."""

    kind: Literal["adjust_ai_budget"]
    assignment_id: uuid.UUID
    budget_per_hour: int = Field(ge=0, le=100)
    budget_per_day: int = Field(ge=0, le=500)


InterventionCreate = Annotated[
    MessageCreate | CheckInCreate | ExtendDeadlineCreate | AdjustAiBudgetCreate, Field(discriminator="kind")
]


class StudentInterventionCreate(BaseModel):
    """An intervention from a student's row (no alert): the student and the intervention."""

    model_config = ConfigDict(extra="forbid")
    student_user_id: uuid.UUID
    intervention: InterventionCreate


class OutcomeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: InterventionOutcome
    outcome_note: str = Field(default="", max_length=NOTE_MAX)


class EffectRead(BaseModel):
    ready: bool
    days: int
    ready_at: datetime
    before_active_min_per_day: float
    after_active_min_per_day: float
    before_words_per_day: float
    after_words_per_day: float
    change_percent: float | None
    trend: Literal["up", "down", "steady"] | None
    summary: str


class InterventionRead(BaseModel):
    id: InterventionID
    course_id: uuid.UUID
    student_user_id: uuid.UUID
    student_name: str
    alert_id: uuid.UUID | None
    assignment_id: uuid.UUID | None
    kind: InterventionKind
    params: dict[str, Any]
    note: str
    created_by: uuid.UUID | None
    created_by_name: str | None
    created_at: datetime
    scheduled_at: datetime | None
    outcome: InterventionOutcome | None
    outcome_note: str
    outcome_at: datetime | None
    effect: EffectRead


class KindEffectRead(BaseModel):
    kind: InterventionKind
    count: int
    measured: int
    up: int
    steady: int
    down: int
    before_active_min_per_day: float
    after_active_min_per_day: float
    before_words_per_day: float
    after_words_per_day: float
    change_percent: float | None
    outcomes: dict[str, int]
    summary: str


class CourseInterventions(BaseModel):
    course_id: uuid.UUID
    days: int
    items: list[InterventionRead]
    by_kind: list[KindEffectRead]
