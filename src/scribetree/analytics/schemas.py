"""What the analytics service returns: the API, the pages, alerts and MCP all read these.

Units are in the field names or descriptions: ``*_seconds`` are seconds, ``*_minutes`` minutes (float),
``chars_*`` Unicode code points, words as ``writing.ops.word_count`` counts them (the editor's count), days
are UTC calendar days, timestamps are aware UTC. Ratios are ``None`` when their denominator is 0.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class StyleMeasures(_Schema):
    """Readability and style of a text (``analytics.style.measure``); English-calibrated formulas."""

    words: int = Field(description="words in the text")
    sentences: int = Field(description="sentences (split on . ! ? and paragraph breaks)")
    paragraphs: int = Field(description="non-empty paragraphs (split on blank lines or line breaks)")
    sentence_length_mean: float | None = Field(description="mean sentence length, in words")
    sentence_length_sd: float | None = Field(description="standard deviation of sentence length, in words")
    sentence_length_variety: float | None = Field(
        description="coefficient of variation of sentence length (sd / mean, unitless); higher = more varied"
    )
    paragraph_length_mean: float | None = Field(description="mean paragraph length, in words")
    paragraph_lengths: list[int] = Field(description="words per paragraph, in order (first 200 paragraphs)")
    type_token_ratio: float | None = Field(description="distinct words / words over the first 1,000 words (0-1)")
    mtld: float | None = Field(description="MTLD lexical diversity (McCarthy & Jarvis 2010), threshold 0.72")
    syllables_per_word: float | None = Field(description="mean syllables per word (built-in heuristic)")
    flesch_reading_ease: float | None = Field(description="Flesch reading ease (higher = easier; ~60-70 plain)")
    flesch_kincaid_grade: float | None = Field(description="Flesch-Kincaid grade level (US school grade)")


class GapBucket(_Schema):
    label: str = Field(description="gap range between consecutive batches, e.g. '2-5 s'")
    upper_seconds: float | None = Field(description="upper bound of the range in seconds (None: unbounded)")
    count: int = Field(description="number of gaps in this range")


class StageProgress(_Schema):
    """A stage of the assignment against the student's words (docs/analytics.md, "Stage progress")."""

    key: str
    label: str
    due_at: datetime | None
    target_words: int | None = Field(description="words expected by the due date (share of word_min), or None")
    words_at_due: int | None = Field(
        description="the document's word count at the end of the due day (now, if not yet due); None if no target"
    )
    status: str = Field(
        description="'met' or 'missed' (due date passed), 'reached' or 'open' (not yet due), 'no_target' (no word_min)"
    )


class AiUse(_Schema):
    exchanges: int = Field(description="AI partner exchanges (questions asked)")
    reflections: int = Field(description="reflections written")
    reflection_mean_total: float | None = Field(description="mean reflection score, 0-20 (gamed ones excluded)")
    gamed_reflections: int = Field(description="reflections flagged as gamed")
    levels: dict[str, int] = Field(description="exchanges per access level")
    last_level: str | None = Field(description="the level of the latest exchange")


class AiDay(_Schema):
    day: date
    exchanges: int
    reflections: int
    reflection_mean_total: float | None = Field(description="mean reflection score that day, 0-20")


class DailyActivity(_Schema):
    day: date = Field(description="UTC day")
    active_minutes: float = Field(description="minutes of active writing (gaps <= the active-gap limit)")
    batches: int
    words_added: int
    words_deleted: int
    word_delta: int = Field(description="net change of the word count that day")
    pastes: int
    pasted_chars: int
    active_students: int = Field(default=1, description="distinct authors who wrote that day (course series)")


class DocumentMetrics(_Schema):
    document_id: uuid.UUID
    assignment_id: uuid.UUID
    course_id: uuid.UUID
    owner_user_id: uuid.UUID | None
    revision: int = Field(description="the revision the figures include (the watermark)")
    stale: bool = Field(description="True if batches arrived after the figures were computed")
    word_count: int = Field(description="words in the text at that revision")
    active_minutes: float
    sessions: int = Field(description="writing sessions (a gap > the idle limit starts a new one)")
    batches: int
    chars_inserted: int
    chars_deleted: int
    words_added: int
    words_deleted: int
    pastes: int
    pasted_chars: int
    typed_to_final: float | None = Field(description="words added / final word count (revision ratio)")
    deleted_to_added: float | None = Field(description="words deleted / words added")
    gaps: list[GapBucket] = Field(description="distribution of gaps between consecutive batches")
    pauses: int = Field(description="gaps between the pause threshold and the idle limit")
    pause_minutes: float = Field(description="total length of those pauses, minutes")
    bursts: int = Field(description="runs of fast typing of at least BURST_MIN_CHARS inserted code points")
    longest_burst_chars: int = Field(description="code points inserted in the longest fast run")
    first_batch_at: datetime | None
    first_words_at: datetime | None = Field(description="when the first words were inserted")
    last_activity_at: datetime | None
    seconds_to_first_words_from_publish: int | None = Field(
        description="seconds from the assignment's publication to the first words"
    )
    seconds_to_first_words_from_open: int | None = Field(
        description="seconds from the document's creation (first open) to the first words"
    )
    submitted_at: datetime | None
    style: StyleMeasures | None = Field(description="of the text at ``revision``; None for an empty text")
    stages: list[StageProgress]
    ai: AiUse


class StudentAssignmentRow(_Schema):
    """One student on one assignment (a student with no document yet has zeros and ``document_id`` None)."""

    user_id: uuid.UUID
    name: str
    document_id: uuid.UUID | None
    word_count: int
    active_minutes: float
    sessions: int
    words_added: int
    words_deleted: int
    pastes: int
    typed_to_final: float | None
    first_words_at: datetime | None
    last_activity_at: datetime | None
    submitted_at: datetime | None
    stages_met: int = Field(description="stages due so far whose target the student met")
    stages_due: int = Field(description="stages whose due date has passed and that have a target")
    stages: list[StageProgress]
    ai_exchanges: int
    reflection_mean_total: float | None


class StageCompletion(_Schema):
    key: str
    label: str
    due_at: datetime | None
    target_words: int | None
    met: int = Field(description="students at or above the target (by the due day, or now if not yet due)")
    students: int
    share: float | None = Field(description="met / students (0-1)")


class AssignmentMetrics(_Schema):
    assignment_id: uuid.UUID
    course_id: uuid.UUID
    title: str
    due_at: datetime | None
    published_at: datetime | None
    word_min: int | None
    students: int
    started: int = Field(description="students whose document has words")
    submitted: int
    median_words: float | None
    mean_active_minutes: float | None
    total_active_minutes: float
    stage_completion: list[StageCompletion]
    rows: list[StudentAssignmentRow]
    ai_exchanges: int
    reflection_mean_total: float | None
    stale_documents: int = Field(description="documents with batches the figures do not include yet (<= 30 s)")


class AssignmentSummary(_Schema):
    assignment_id: uuid.UUID
    title: str
    due_at: datetime | None
    students: int
    started: int
    submitted: int
    median_words: float | None
    total_active_minutes: float
    stage_completion: list[StageCompletion]


class StudentSummary(_Schema):
    user_id: uuid.UUID
    name: str
    active_minutes: float
    words_added: int
    words_deleted: int
    word_count: int = Field(description="words across the student's documents in the course")
    documents: int
    submitted: int
    last_activity_at: datetime | None
    ai_exchanges: int
    reflection_mean_total: float | None


class CourseMetrics(_Schema):
    course_id: uuid.UUID
    title: str
    students: int
    assignments: list[AssignmentSummary]
    student_rows: list[StudentSummary]
    progress: list[DailyActivity] = Field(description="class activity per UTC day (the whole course)")
    cumulative_words: list[int] = Field(
        description="running sum of word_delta over ``progress`` (class words written so far), same days"
    )
    stage_completion: list[StageCompletion] = Field(description="every assignment's stages, in due order")
    stale_documents: int = Field(description="documents with batches the figures do not include yet (<= 30 s)")


class StudentMetrics(_Schema):
    course_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    documents: list[DocumentMetrics]
    active_minutes: float
    words_added: int
    words_deleted: int
    daily: list[DailyActivity]
    ai_daily: list[AiDay] = Field(description="AI partner use and reflection quality per UTC day")


class RefreshResult(_Schema):
    documents: int = Field(description="documents whose aggregates moved")
    batches: int = Field(description="batches folded in")
    more: bool = Field(default=False, description="documents are still behind (the budget of one run was spent)")
