"""The educator's settings as they apply now: reading what is stored (failing closed), the current stage, and
whether the partner is on in it, with the reason in plain words when it is off (docs/ai-partner.md, section 1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from scribetree.ai_partner.schemas import AiSettings, EffectiveSettings
from scribetree.core import clock


def load_settings(stored: dict[str, Any] | None) -> tuple[AiSettings, bool]:
    """The stored settings, or (partner off, False) when what is stored cannot be read: fail closed."""
    try:
        return AiSettings.model_validate(stored or {}), True
    except ValidationError:
        return AiSettings(enabled=False), False


def current_stage(stages: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The stage the student is in: the one after the last stage whose due date has passed (the editor's rule)."""
    if not stages:
        return None
    index = 0
    for i, stage in enumerate(stages):
        due = stage.get("due_at")
        if due:
            try:
                when = clock.as_utc(datetime.fromisoformat(str(due)))
            except ValueError:
                continue
            if when <= now:
                index = i + 1
    return stages[min(index, len(stages) - 1)]


def effective(settings: AiSettings, stored_valid: bool, stage: dict[str, Any] | None) -> EffectiveSettings:
    """What applies in ``stage`` right now, with the reason in plain words when the partner is off."""
    key = stage.get("key") if stage else None
    label = (stage.get("label") or key) if stage else None

    def off(reason: str) -> EffectiveSettings:
        return EffectiveSettings(stage=key, enabled=False, reason=reason, kinds=[])

    if not stored_valid:
        return off("The AI settings of this assignment could not be read; your teacher needs to save them again.")
    if settings.exam_mode:
        return off("Exam mode: the AI partner is off for this assignment.")
    if not settings.enabled:
        return off("Your teacher has turned the AI partner off for this assignment.")
    override = settings.stages.get(key) if key else None
    if override is not None and not override.enabled:
        return off(f"Your teacher has turned the AI partner off during the {label} stage.")
    kinds = settings.kinds if override is None or override.kinds is None else override.kinds
    if not kinds:
        where = f"the {label} stage" if override is not None and override.kinds is not None else "this assignment"
        return off(f"Your teacher allows no kind of help in {where}.")
    if settings.budget_per_hour == 0:
        return off("Your teacher allows no requests to the partner on this assignment.")
    return EffectiveSettings(stage=key, enabled=True, reason=None, kinds=list(kinds))
