"""The assignment form's field mapping (web/courses/forms.py), without a database."""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import ValidationError

from scribetree.courses.schemas import AssignmentCreate
from scribetree.web.courses import forms
from scribetree.web.pages import FormState


def test_round_trip_of_a_stored_assignment() -> None:
    stored = SimpleNamespace(
        title="Essay",
        instructions_md="x",
        kind="group",
        due_at=None,
        word_min=None,
        word_max=500,
        late_policy="accept",
        late_penalty_percent=0,
        resubmission="none",
        ai_statement_required=True,
        stages=[{"key": "draft", "label": "Draft", "due_at": "2026-12-01T09:30:00+00:00"}],
        objectives=[{"text": "Argue", "bloom": "evaluate"}],
        rubric={
            "criteria": [{"id": "c1", "title": "Claim", "levels": [{"id": "l1", "label": "Clear", "points": 2.5}]}],
            "total_points": 2.5,
        },
    )
    values = forms.values_from_assignment(stored)
    assert values["stages"][0]["due_at"] == "2026-12-01T09:30" and values["word_max"] == "500"
    assert values["criteria"][0]["levels"][0]["points"] == "2.5" and values["word_min"] == ""
    form = FormState()
    body = forms.payload(values, form)
    assert form.ok, form.errors
    data = AssignmentCreate.model_validate(body)
    assert data.stages[0].key == "draft" and data.rubric is not None and data.rubric.criteria[0].id == "c1"
    assert data.rubric.total_points == 2.5 and data.ai_statement_required is True


def test_blank_rows_are_dropped_and_keys_made_from_labels() -> None:
    raw = {
        "title": "T",
        "stage_count": "4",
        "stage_label_0": "Draft 1",
        "stage_label_1": "",
        "stage_label_2": "Draft 1",
        "stage_label_3": "1st revision",
        "criterion_count": "1",
        "level_count_0": "1",
    }
    values = forms.values_from_form(raw)
    body = forms.payload(values, FormState())
    assert [s["key"] for s in body["stages"]] == ["draft-1", "draft-1-2", "s-1st-revision"]
    assert body["rubric"] is None  # an empty criterion is no rubric


def test_times_are_utc_unless_they_say_otherwise() -> None:
    values = forms.values_from_form({"title": "T", "due_at": "2026-12-01T10:00", "stage_count": "0"})
    assert forms.payload(values, FormState())["due_at"] == "2026-12-01T10:00:00+00:00"
    values["due_at"] = "2026-12-01T10:00+02:00"
    assert forms.payload(values, FormState())["due_at"] == "2026-12-01T10:00:00+02:00"
    values["due_at"] = "tomorrow"
    body = forms.payload(values, FormState())
    try:
        AssignmentCreate.model_validate(body)
    except ValidationError as exc:
        form = forms.errors_from(exc, FormState())
        assert form.errors == {
            "due_at": forms.FIELD_MESSAGES["due_at"],
            "stages": "Keep at least one writing stage (and at most 12).",
        }
    else:  # pragma: no cover
        raise AssertionError("an unreadable date was accepted")


def test_row_buttons_and_crafted_counts() -> None:
    values = forms.values_from_form({"stage_count": "9999", "criterion_count": "abc"})
    assert len(values["stages"]) == forms.MAX_ROWS and values["criteria"] == []
    assert forms.add_row(values, "add_criterion") and len(values["criteria"][0]["levels"]) == 2
    assert forms.add_row(values, "add_level_0") and len(values["criteria"][0]["levels"]) == 3
    assert not forms.add_row(values, "add_level_7") and not forms.add_row(values, "drop_table")
    assert forms.add_row(values, "add_objective") and values["objectives"] == [{"text": "", "bloom": "understand"}]


def test_unreadable_points_are_named() -> None:
    values = forms.values_from_form(
        {
            "title": "T",
            "criterion_count": "1",
            "crit_title_0": "Voice",
            "level_count_0": "1",
            "level_label_0_0": "Good",
            "level_points_0_0": "lots",
        }
    )
    form = FormState()
    forms.payload(values, form)
    assert form.errors == {"rubric": "Give every level of 'Voice' a number of points."}


def test_schema_messages_point_at_the_row() -> None:
    body = {"title": "T", "stages": [{"key": "a", "label": ""}], "objectives": [{"text": "x", "bloom": "guess"}]}
    try:
        AssignmentCreate.model_validate(body)
    except ValidationError as exc:
        errors = forms.errors_from(exc, FormState()).errors
    assert errors["stages"].startswith("Stage 1: ") and errors["objectives"].startswith("Objective 1: ")


def test_rule_messages_are_kept_and_size_messages_are_plain() -> None:
    late_first = [
        {"key": "a", "label": "A", "due_at": "2026-12-02T00:00:00Z"},
        {"key": "b", "label": "B", "due_at": "2026-12-01T00:00:00Z"},
    ]
    for body, expected in (
        ({"title": "T", "stages": late_first}, "in order"),
        ({"title": "T", "stages": [{"key": "a", "label": "A"}] * 13}, "at most 12"),
        ({"title": "T", "rubric": {"criteria": []}}, "1 to 30 criteria"),
    ):
        try:
            AssignmentCreate.model_validate(body)
        except ValidationError as exc:
            errors = forms.errors_from(exc, FormState()).errors
        else:  # pragma: no cover
            raise AssertionError(body)
        assert any(expected in m for m in errors.values()), errors
