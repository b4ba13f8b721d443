"""Request and response bodies of the courses API (Pydantic v2). Every input is bounded and validated here;
rules that need the stored row (word_min <= word_max after a partial update, stage dates before the due date)
are checked again in the service on the merged values."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    computed_field,
    field_validator,
    model_validator,
)

from scribetree.courses.markdown import render_markdown
from scribetree.courses.models import (
    AssignmentKind,
    Bloom,
    CourseRole,
    LatePolicy,
    Resubmission,
    TemplateVisibility,
)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(max_length=5_000)]
Instructions = Annotated[str, StringConstraints(max_length=50_000)]
StageKey = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
WordCount = Annotated[int, Field(ge=0, le=100_000)]
Points = Annotated[float, Field(ge=0, le=10_000)]
JoinCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=4, max_length=16)]

AI_SETTINGS_MAX_BYTES = 16_384
MAX_STAGES = 12
MAX_CRITERIA = 30
MAX_LEVELS = 10
MAX_OBJECTIVES = 20

DEFAULT_STAGES: list[dict[str, Any]] = [
    {"key": "brainstorm", "label": "Brainstorm", "due_at": None},
    {"key": "outline", "label": "Outline", "due_at": None},
    {"key": "draft", "label": "Draft", "due_at": None},
    {"key": "revise", "label": "Revise", "due_at": None},
    {"key": "edit", "label": "Edit", "due_at": None},
]


# ---- courses -------------------------------------------------------------------------------------------


class _CourseFields(BaseModel):
    @model_validator(mode="after")
    def _dates_in_order(self) -> _CourseFields:
        starts, ends = getattr(self, "starts_on", None), getattr(self, "ends_on", None)
        if starts and ends and ends < starts:
            raise ValueError("The end date must be on or after the start date.")
        return self


class CourseCreate(_CourseFields):
    title: Title
    description: LongText = ""
    section: ShortText | None = None
    term: ShortText | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    join_code_enabled: bool = Field(default=True, description="Create a join code for students right away.")


class CourseUpdate(_CourseFields):
    """Only the fields sent are changed; ``null`` clears section, term and dates."""

    title: Title | None = None
    description: LongText | None = None
    section: ShortText | None = None
    term: ShortText | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class CourseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str
    section: str | None
    term: str | None
    starts_on: date | None
    ends_on: date | None
    archived_at: datetime | None
    created_at: datetime
    my_role: str | None = Field(
        default=None, description="instructor, ta, student, or admin (institution admin, no course role)"
    )
    join_code: str | None = Field(default=None, description="Shown to instructors and admins only.")


class JoinRequest(BaseModel):
    code: JoinCode


class CourseMemberAdd(BaseModel):
    """Add an existing member of the institution, by user id or email (exactly one of them)."""

    user_id: uuid.UUID | None = None
    email: EmailStr | None = None
    role: CourseRole = CourseRole.student


class CourseMemberUpdate(BaseModel):
    role: CourseRole


class CourseMemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    display_name: str
    role: CourseRole
    added_at: datetime


# ---- assignment parts ----------------------------------------------------------------------------------


class Stage(BaseModel):
    key: StageKey
    label: ShortText
    due_at: AwareDatetime | None = None


class RubricLevel(BaseModel):
    id: ItemId | None = None
    label: ShortText
    points: Points
    description: LongText = ""


class RubricCriterion(BaseModel):
    id: ItemId | None = None
    title: Title
    description: LongText = ""
    levels: list[RubricLevel] = Field(min_length=1, max_length=MAX_LEVELS)

    @field_validator("levels")
    @classmethod
    def _distinct_labels(cls, levels: list[RubricLevel]) -> list[RubricLevel]:
        labels = [lv.label.lower() for lv in levels]
        if len(set(labels)) != len(labels):
            raise ValueError("Each level of a criterion needs a different label.")
        return levels


class Rubric(BaseModel):
    """Criteria by levels with points. ``total_points`` (the best level of every criterion) is computed."""

    criteria: list[RubricCriterion] = Field(min_length=1, max_length=MAX_CRITERIA)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_points(self) -> float:
        return round(sum(max(lv.points for lv in c.levels) for c in self.criteria), 2)


class Objective(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    bloom: Bloom


def _check_stages(stages: list[Stage]) -> list[Stage]:
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        raise ValueError("Each stage needs a different key.")
    last: datetime | None = None
    for s in stages:
        if s.due_at is not None:
            if last is not None and s.due_at < last:
                raise ValueError(f"Stage '{s.label}' is due before an earlier stage; stage due dates must be in order.")
            last = s.due_at
    return stages


def _check_ai_settings(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > AI_SETTINGS_MAX_BYTES:
        raise ValueError(f"AI settings are {size} bytes; the limit is {AI_SETTINGS_MAX_BYTES} bytes.")
    return value


Stages = Annotated[list[Stage], Field(min_length=1, max_length=MAX_STAGES)]
Objectives = Annotated[list[Objective], Field(max_length=MAX_OBJECTIVES)]


class _AssignmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("stages", check_fields=False)
    @classmethod
    def _stages(cls, v: list[Stage] | None) -> list[Stage] | None:
        return None if v is None else _check_stages(v)

    @field_validator("ai_settings", check_fields=False)
    @classmethod
    def _ai(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if v is None else _check_ai_settings(v)

    @model_validator(mode="after")
    def _limits(self) -> _AssignmentBody:
        wmin, wmax = getattr(self, "word_min", None), getattr(self, "word_max", None)
        if wmin is not None and wmax is not None and wmin > wmax:
            raise ValueError("The minimum word count cannot be larger than the maximum.")
        policy, pct = getattr(self, "late_policy", None), getattr(self, "late_penalty_percent", None)
        if policy == LatePolicy.penalty and pct == 0:
            raise ValueError("A late penalty needs a percentage between 1 and 100.")
        return self


class AssignmentSettings(_AssignmentBody):
    """Fields shared by templates and assignments (all optional: defaults apply on create)."""

    instructions_md: Instructions = ""
    kind: AssignmentKind = AssignmentKind.individual
    stages: Stages = Field(default_factory=lambda: [Stage(**s) for s in DEFAULT_STAGES])
    word_min: WordCount | None = None
    word_max: WordCount | None = None
    late_policy: LatePolicy = LatePolicy.accept
    late_penalty_percent: Annotated[int, Field(ge=0, le=100)] = 0
    resubmission: Resubmission = Resubmission.until_due
    ai_statement_required: bool = False
    ai_settings: dict[str, Any] = Field(default_factory=dict, description="Owned by the AI partner; max 16 KiB.")
    rubric: Rubric | None = None
    objectives: Objectives = Field(default_factory=list)


class AssignmentCreate(AssignmentSettings):
    title: Title
    due_at: AwareDatetime | None = None


class _SharedUpdate(_AssignmentBody):
    title: Title | None = None
    instructions_md: Instructions | None = None
    kind: AssignmentKind | None = None
    stages: Stages | None = None
    word_min: WordCount | None = None
    word_max: WordCount | None = None
    late_policy: LatePolicy | None = None
    late_penalty_percent: Annotated[int, Field(ge=0, le=100)] | None = None
    resubmission: Resubmission | None = None
    ai_statement_required: bool | None = None
    ai_settings: dict[str, Any] | None = None
    rubric: Rubric | None = None
    objectives: Objectives | None = None


class AssignmentUpdate(_SharedUpdate):
    """Only the fields sent are changed; ``null`` clears due date, word limits and rubric."""

    due_at: AwareDatetime | None = None


class _AssignmentReadFields(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    instructions_md: str
    kind: AssignmentKind
    stages: list[dict[str, Any]]
    word_min: int | None
    word_max: int | None
    late_policy: LatePolicy
    late_penalty_percent: int
    resubmission: Resubmission
    ai_statement_required: bool
    ai_settings: dict[str, Any]
    rubric: dict[str, Any] | None
    objectives: list[dict[str, Any]]
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def instructions_html(self) -> str:
        """The instructions rendered to HTML (raw HTML escaped, unsafe links dropped)."""
        return render_markdown(self.instructions_md)


class AssignmentRead(_AssignmentReadFields):
    course_id: uuid.UUID
    due_at: datetime | None
    published_at: datetime | None
    template_id: uuid.UUID | None


class MyAssignmentRead(AssignmentRead):
    course_title: str
    my_role: str


class AssignmentClone(BaseModel):
    course_id: uuid.UUID = Field(description="The course to copy into; you must teach it.")
    title: Title | None = None


# ---- templates -----------------------------------------------------------------------------------------


class TemplateCreate(AssignmentSettings):
    title: Title
    description: LongText = ""
    visibility: TemplateVisibility = TemplateVisibility.private


class TemplateUpdate(_SharedUpdate):
    """Only the fields sent are changed; ``null`` clears word limits and rubric."""

    description: LongText | None = None
    visibility: TemplateVisibility | None = None


class TemplateRead(_AssignmentReadFields):
    description: str
    visibility: TemplateVisibility
    created_by: uuid.UUID | None


class TemplateDeploy(BaseModel):
    course_id: uuid.UUID
    title: Title | None = None
    due_at: AwareDatetime | None = None


class TemplateFromAssignment(BaseModel):
    assignment_id: uuid.UUID
    description: LongText = ""
    visibility: TemplateVisibility = TemplateVisibility.private


# ---- groups --------------------------------------------------------------------------------------------


class GroupCreate(BaseModel):
    name: ShortText
    user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class GroupUpdate(BaseModel):
    name: ShortText | None = None
    user_ids: list[uuid.UUID] | None = Field(default=None, max_length=50, description="Replaces the members.")


class GroupRead(BaseModel):
    id: uuid.UUID
    assignment_id: uuid.UUID
    name: str
    user_ids: list[uuid.UUID]
