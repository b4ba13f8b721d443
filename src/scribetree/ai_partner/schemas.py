"""Request and response shapes of the AI partner, and the educator's settings stored in ``Assignment.ai_settings``."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, field_validator, model_validator

from scribetree.ai_partner.engine.types import HelpKind, Level
from scribetree.ai_partner.models import ProviderName, ReflectionKind

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(v: str) -> str:
    if _UNSTORABLE.search(v):
        raise ValueError("The text contains a NUL character or an unpaired surrogate, which cannot be stored.")
    return v


StageKey = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
ALL_KINDS: list[HelpKind] = list(HelpKind)


def _unique_kinds(v: list[HelpKind]) -> list[HelpKind]:
    seen: list[HelpKind] = []
    for k in v:
        if k not in seen:
            seen.append(k)
    return seen


class StageOverride(BaseModel):
    """What changes in one writing stage: on/off and, when given, the kinds of help (else the assignment's)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    kinds: list[HelpKind] | None = Field(default=None, description="None: the assignment's kinds.")

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[HelpKind] | None) -> list[HelpKind] | None:
        return None if v is None else _unique_kinds(v)


class AiSettings(BaseModel):
    """The educator's rules for the AI partner on one assignment. Every field has a default, so ``{}`` is valid."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    exam_mode: bool = Field(default=False, description="Turns the partner off entirely, whatever else is set.")
    kinds: list[HelpKind] = Field(default_factory=lambda: list(ALL_KINDS), description="Allowed kinds of help.")
    stages: dict[StageKey, StageOverride] = Field(default_factory=dict, description="Overrides by stage key.")
    budget_per_hour: int = Field(default=6, ge=0, le=100, description="Requests per student per rolling hour.")
    budget_per_day: int = Field(default=20, ge=0, le=500, description="Requests per student per rolling 24 hours.")
    reflection_required: bool = True
    reflection_min_words: int = Field(default=40, ge=0, le=500)
    follow_up_reflection: bool = Field(
        default=True, description="After each answer the student is asked what they will change."
    )

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[HelpKind]) -> list[HelpKind]:
        return _unique_kinds(v)

    @model_validator(mode="after")
    def _budget(self) -> AiSettings:
        if self.budget_per_day < self.budget_per_hour:
            raise ValueError(
                f"The daily budget ({self.budget_per_day}) cannot be smaller than the hourly one "
                f"({self.budget_per_hour})."
            )
        return self


class EffectiveSettings(BaseModel):
    """What applies right now, for the document's current stage (what the student is told)."""

    stage: str | None
    enabled: bool
    reason: str | None  # why the partner is off, in plain words
    kinds: list[HelpKind]


class AiSettingsRead(BaseModel):
    settings: AiSettings
    editable: bool  # instructor or admin; teaching assistants and students read only
    current_stage: str | None
    effective: EffectiveSettings
    stored_valid: bool  # False: what is stored could not be read, and the partner is off until it is saved again


# ---- reflections ------------------------------------------------------------------------------------------


class ReflectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=5_000)]
    kind: ReflectionKind = ReflectionKind.initial
    seconds_spent: int = Field(ge=0, le=86_400, description="Time the student spent writing it, from the client.")
    pasted_chars: int = Field(default=0, ge=0, le=5_000, description="Characters pasted, from the client.")

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _storable(v)

    @model_validator(mode="after")
    def _pasted(self) -> ReflectionCreate:
        if self.pasted_chars > len(self.text):
            raise ValueError(f"pasted_chars ({self.pasted_chars}) is larger than the text ({len(self.text)}).")
        return self


class DimensionRead(BaseModel):
    label: str
    score: int
    reason: str
    improve: str


class FlagRead(BaseModel):
    code: str
    message: str
    voids: bool


class ReflectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    document_id: uuid.UUID
    user_id: uuid.UUID
    kind: ReflectionKind
    text: str
    word_count: int
    scores: dict[str, DimensionRead]
    flags: list[FlagRead]
    total: int
    gamed: bool
    accepted: bool
    typed_ratio: float
    pasted_chars: int
    seconds_spent: int
    level_before: Level
    level_after: Level
    created_at: datetime


class LevelChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    from_level: Level
    to_level: Level
    reason: str
    reflection_id: uuid.UUID | None
    created_at: datetime


class LevelRead(BaseModel):
    level: Level
    description: str
    kinds: list[HelpKind]  # the level's kinds intersected with the educator's for the current stage
    max_bloom: str
    budget_per_hour: int
    budget_per_day: int
    used_last_hour: int
    used_last_day: int


class ReflectionResult(BaseModel):
    reflection: ReflectionRead
    summary: str
    level: LevelRead
    level_change: LevelChangeRead | None


# ---- exchanges --------------------------------------------------------------------------------------------


class PartnerAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]

    @field_validator("question")
    @classmethod
    def _question(cls, v: str) -> str:
        return _storable(v)


class VerdictRead(BaseModel):
    ok: bool
    reasons: list[str]


class ExchangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    document_id: uuid.UUID
    user_id: uuid.UUID
    stage: str | None
    question: str
    questions: list[str]
    refusal: str | None
    kind: str | None
    provider: str
    bank_version: str | None
    verdicts: list[VerdictRead]
    fell_back: bool
    level: Level
    latency_ms: float
    created_at: datetime
    follow_up_prompt: str | None = None  # only on the answer to the request itself


class HistoryRead(BaseModel):
    document_id: uuid.UUID
    level: LevelRead | None  # the caller's (a student); None for staff, who see each student's in level_changes
    reflection_due: Literal["initial", "follow_up"] | None
    reflections: list[ReflectionRead]
    exchanges: list[ExchangeRead]
    level_changes: list[LevelChangeRead]


class StudentSummary(BaseModel):
    user_id: uuid.UUID
    name: str
    document_id: uuid.UUID | None
    requests: int
    fallbacks: int
    level: Level
    reflections: int
    gamed_reflections: int
    mean_reflection_score: float | None
    reflection_scores: list[dict[str, Any]]  # [{"at": datetime, "total": int, "gamed": bool}] oldest first
    words_written: int
    requests_per_100_words: float | None
    over_reliance: bool
    over_reliance_reason: str | None


class AssignmentSummary(BaseModel):
    assignment_id: uuid.UUID
    students: list[StudentSummary]


# ---- the institution's provider ------------------------------------------------------------------------------

_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")  # a key, URL or model name: visible ASCII, no spaces


class AiProviderUpdate(BaseModel):
    """The institution's AI provider. ``api_key``: a new key replaces the stored one; leave it out (or null) to keep
    the stored key; ``clear_api_key`` removes it. Cross-field rules (an external provider needs an address, a
    model and a key; the address must be https) are checked by the service (422 ``ProviderSettingsInvalid``)."""

    model_config = ConfigDict(extra="forbid")

    provider: ProviderName = ProviderName.builtin
    base_url: str | None = Field(default=None, max_length=500, description="https://… of the vendor's API.")
    model: str | None = Field(default=None, max_length=200, description="The vendor's model name.")
    timeout_s: int = Field(default=8, ge=1, le=30, description="Seconds to wait for an answer (1-30).")
    external_allowed: bool = Field(
        default=False, description="Whether students' (minimised) words may be sent to the external provider."
    )
    api_key: SecretStr | None = Field(default=None, description="Write-only; never returned.")
    clear_api_key: bool = False

    @field_validator("base_url", "model", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return (v.strip() or None) if isinstance(v, str) else v

    @field_validator("base_url", "model")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        if v is not None and not _PRINTABLE.match(v):
            raise ValueError("Use visible characters only, without spaces.")
        return v

    @field_validator("api_key", mode="before")
    @classmethod
    def _key_blank_is_none(cls, v: Any) -> Any:
        return (v.strip() or None) if isinstance(v, str) else v

    @field_validator("api_key")
    @classmethod
    def _key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return None
        raw = v.get_secret_value()
        if not 8 <= len(raw) <= 500 or not _PRINTABLE.match(raw):
            raise ValueError("An API key is 8 to 500 visible characters without spaces.")
        return v


class AiProviderRead(BaseModel):
    """The provider settings as admins see them: never the key, only whether one is set and its last 4 characters."""

    provider: ProviderName
    base_url: str | None
    model: str | None
    timeout_s: int
    external_allowed: bool
    api_key_set: bool
    api_key_hint: str | None = Field(description='"…" and the key\'s last 4 characters, when a key is set.')
    in_effect: ProviderName = Field(description="Where students' requests go now (builtin unless opted in).")
    updated_by: uuid.UUID | None
    updated_at: datetime | None
