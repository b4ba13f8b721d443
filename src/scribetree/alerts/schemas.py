"""API shapes of alerts and their settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scribetree.alerts.models import AlertStatus, DeliveryMode, Severity

AlertID = uuid.UUID


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    course_id: uuid.UUID
    assignment_id: uuid.UUID | None
    student_user_id: uuid.UUID
    student_name: str | None = None
    rule: str
    severity: Severity
    positive: bool
    title: str
    evidence: dict[str, Any]
    suggested_actions: list[str]
    status: AlertStatus
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    url: str = ""


class AlertList(BaseModel):
    items: list[AlertRead]
    open_count: int


class AlertAction(BaseModel):
    """``acknowledge`` (seen, still open for follow-up), ``resolve`` (dealt with) or ``dismiss`` (not a concern)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["acknowledge", "resolve", "dismiss"]


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["22:00"])
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["07:00"])


class CourseAlertSettingsUpdate(BaseModel):
    """Replaces the course's overrides: thresholds not named go back to their defaults."""

    model_config = ConfigDict(extra="forbid")

    thresholds: dict[str, float] = Field(default_factory=dict, max_length=100)
    muted_rules: list[str] = Field(default_factory=list, max_length=50)


class EducatorAlertPrefsUpdate(BaseModel):
    """The caller's own delivery for this course."""

    model_config = ConfigDict(extra="forbid")

    delivery: DeliveryMode = DeliveryMode.immediate
    quiet_hours: QuietHours | None = None
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    digest_hour: int = Field(default=7, ge=0, le=23)


class ThresholdInfo(BaseModel):
    name: str
    default: float
    low: float
    high: float
    unit: str
    label: str
    value: float  # what applies in this course


class RuleInfoRead(BaseModel):
    code: str
    label: str
    muted: bool
    on_activity: bool
    thresholds: list[str]
    suggested_actions: list[str]


class EducatorAlertPrefsRead(BaseModel):
    delivery: DeliveryMode
    quiet_hours: QuietHours | None
    timezone: str
    digest_hour: int


class AlertSettingsRead(BaseModel):
    course_id: uuid.UUID
    editable: bool  # the caller may change thresholds and mutes
    thresholds: dict[str, float]  # the course's overrides only
    muted_rules: list[str]
    rules: list[RuleInfoRead]
    catalog: list[ThresholdInfo]
    mine: EducatorAlertPrefsRead
