"""The educator's settings as they apply now (ai_partner.settings): stage, on/off with the reason, fail closed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scribetree.ai_partner.schemas import AiSettings
from scribetree.ai_partner.settings import current_stage, effective, load_settings
from scribetree.core import clock

NOW = clock.utcnow()


def stages(*due_in_hours: float | None) -> list[dict[str, Any]]:
    keys = ["brainstorm", "outline", "draft", "revise", "edit"]
    return [
        {"key": k, "label": k.title(), "due_at": None if h is None else (NOW + timedelta(hours=h)).isoformat()}
        for k, h in zip(keys, due_in_hours, strict=False)
    ]


class TestCurrentStage:
    @pytest.mark.parametrize(
        ("due", "expected"),
        [
            ((None, None, None), "brainstorm"),
            ((-2, 5, 10), "outline"),
            ((-2, -1, 10), "draft"),
            ((-3, -2, -1), "draft"),  # past the last due date: stays in the last stage
            ((-2, None, 10), "outline"),
        ],
    )
    def test_after_the_last_passed_due_date(self, due: tuple[float | None, ...], expected: str) -> None:
        stage = current_stage(stages(*due), NOW)
        assert stage is not None and stage["key"] == expected

    def test_no_stages(self) -> None:
        assert current_stage([], NOW) is None

    def test_a_malformed_due_date_is_ignored(self) -> None:
        s = stages(None, None)
        s[0]["due_at"] = "not a date"
        assert current_stage(s, NOW)["key"] == "brainstorm"  # type: ignore[index]


class TestEffective:
    STAGE = {"key": "draft", "label": "Draft"}

    @pytest.mark.parametrize(
        ("values", "enabled", "reason"),
        [
            ({}, True, None),
            ({"exam_mode": True}, False, "Exam mode"),
            ({"exam_mode": True, "enabled": True, "stages": {"draft": {"enabled": True}}}, False, "Exam mode"),
            ({"enabled": False}, False, "turned the AI partner off for this assignment"),
            ({"stages": {"draft": {"enabled": False}}}, False, "during the Draft stage"),
            ({"stages": {"outline": {"enabled": False}}}, True, None),
            ({"kinds": []}, False, "no kind of help in this assignment"),
            ({"stages": {"draft": {"kinds": []}}}, False, "no kind of help in the Draft stage"),
            ({"budget_per_hour": 0}, False, "no requests"),
        ],
    )
    def test_on_or_off_with_the_reason(self, values: dict[str, Any], enabled: bool, reason: str | None) -> None:
        eff = effective(AiSettings.model_validate(values), True, self.STAGE)
        assert eff.enabled is enabled and eff.stage == "draft"
        if reason is None:
            assert eff.reason is None and eff.kinds
        else:
            assert eff.reason is not None and reason in eff.reason and eff.kinds == []

    def test_stage_kinds_replace_the_assignments(self) -> None:
        s = AiSettings.model_validate({"kinds": ["clarity"], "stages": {"draft": {"kinds": ["evidence", "evidence"]}}})
        assert effective(s, True, self.STAGE).kinds == ["evidence"]
        assert effective(s, True, {"key": "edit", "label": "Edit"}).kinds == ["clarity"]


class TestLoad:
    @pytest.mark.parametrize("stored", [{}, None, {"exam_mode": True}])
    def test_valid(self, stored: dict[str, Any] | None) -> None:
        assert load_settings(stored)[1] is True

    @pytest.mark.parametrize(
        "stored", [{"per_stage": {"draft": "questions"}}, {"kinds": ["write_it"]}, {"budget_per_hour": "many"}]
    )
    def test_unreadable_settings_fail_closed(self, stored: dict[str, Any]) -> None:
        settings, valid = load_settings(stored)
        assert valid is False and settings.enabled is False
        eff = effective(settings, valid, None)
        assert eff.enabled is False and "save them again" in (eff.reason or "")
