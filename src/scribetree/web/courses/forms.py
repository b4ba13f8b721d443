"""The assignment form: flat HTML fields (``stage_label_0``, ``crit_title_1``, ``level_points_1_2``...) to and
from the nested values the courses schemas take. Presentation only: every rule is checked by the schemas and
the service; this turns their messages into per-field errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from scribetree.core import clock
from scribetree.courses.schemas import DEFAULT_STAGES
from scribetree.web.pages import FormState

BLOOM_LEVELS = ["remember", "understand", "apply", "analyze", "evaluate", "create"]
LATE_POLICIES = [
    ("accept", "Accept late work and mark it late"),
    ("penalty", "Accept late work with a penalty per day"),
    ("reject", "Do not accept late work"),
]
RESUBMISSION = [
    ("until_due", "Until the due date"),
    ("unlimited", "Any time"),
    ("none", "No resubmission"),
]
KINDS = [("individual", "Individual"), ("group", "Group")]
MAX_ROWS = 30  # never more rows than the schemas accept, whatever a crafted form claims


def local_input(value: datetime | str | None) -> str:
    """A stored time as the value of a ``datetime-local`` input (UTC)."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return clock.as_utc(when).strftime("%Y-%m-%dT%H:%M")


def _parse_time(raw: str) -> str | None:
    """A ``datetime-local`` value read as UTC, as ISO text; None when empty. Invalid text is kept for the schema
    to refuse."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def _count(form: Mapping[str, Any], name: str, default: int = 0) -> int:
    raw = str(form.get(name, "")).strip()
    return min(int(raw), MAX_ROWS) if raw.isdigit() else default


def values_from_assignment(a: Any) -> dict[str, Any]:
    """What the edit form shows for a stored assignment."""
    rubric = a.rubric or {"criteria": []}
    return {
        "title": a.title,
        "instructions_md": a.instructions_md,
        "kind": a.kind,
        "due_at": local_input(a.due_at),
        "word_min": "" if a.word_min is None else str(a.word_min),
        "word_max": "" if a.word_max is None else str(a.word_max),
        "late_policy": a.late_policy,
        "late_penalty_percent": str(a.late_penalty_percent or ""),
        "resubmission": a.resubmission,
        "ai_statement_required": bool(a.ai_statement_required),
        "stages": [{"key": s["key"], "label": s["label"], "due_at": local_input(s.get("due_at"))} for s in a.stages],
        "objectives": [dict(o) for o in a.objectives],
        "criteria": [
            {
                "id": c.get("id") or "",
                "title": c["title"],
                "description": c.get("description", ""),
                "levels": [
                    {
                        "id": lv.get("id") or "",
                        "label": lv["label"],
                        "points": _points_text(lv["points"]),
                        "description": lv.get("description", ""),
                    }
                    for lv in c["levels"]
                ],
            }
            for c in rubric["criteria"]
        ],
    }


def _points_text(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else str(points)


def blank_values() -> dict[str, Any]:
    return {
        "title": "",
        "instructions_md": "",
        "kind": "individual",
        "due_at": "",
        "word_min": "",
        "word_max": "",
        "late_policy": "accept",
        "late_penalty_percent": "",
        "resubmission": "until_due",
        "ai_statement_required": False,
        "stages": [{"key": s["key"], "label": s["label"], "due_at": ""} for s in DEFAULT_STAGES],
        "objectives": [],
        "criteria": [],
    }


def values_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted form as the nested values the template renders (rows kept as typed, blanks included)."""

    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    stages = [
        {"key": text(f"stage_key_{i}"), "label": text(f"stage_label_{i}"), "due_at": text(f"stage_due_{i}")}
        for i in range(_count(form, "stage_count"))
    ]
    objectives = [
        {"text": text(f"objective_text_{i}"), "bloom": text(f"objective_bloom_{i}")}
        for i in range(_count(form, "objective_count"))
    ]
    criteria = []
    for i in range(_count(form, "criterion_count")):
        levels = [
            {
                "id": text(f"level_id_{i}_{j}"),
                "label": text(f"level_label_{i}_{j}"),
                "points": text(f"level_points_{i}_{j}"),
                "description": text(f"level_desc_{i}_{j}"),
            }
            for j in range(_count(form, f"level_count_{i}"))
        ]
        criteria.append(
            {
                "id": text(f"crit_id_{i}"),
                "title": text(f"crit_title_{i}"),
                "description": text(f"crit_desc_{i}"),
                "levels": levels,
            }
        )
    return {
        "title": text("title"),
        "instructions_md": str(form.get("instructions_md", "")),
        "kind": text("kind") or "individual",
        "due_at": text("due_at"),
        "word_min": text("word_min"),
        "word_max": text("word_max"),
        "late_policy": text("late_policy") or "accept",
        "late_penalty_percent": text("late_penalty_percent"),
        "resubmission": text("resubmission") or "until_due",
        "ai_statement_required": form.get("ai_statement_required") in ("on", "true", "1"),
        "stages": stages,
        "objectives": objectives,
        "criteria": criteria,
    }


def add_row(values: dict[str, Any], action: str) -> bool:
    """Apply an "add a row" button (no JavaScript needed); False when ``action`` is not one."""
    if action == "add_stage":
        values["stages"].append({"key": "", "label": "", "due_at": ""})
    elif action == "add_objective":
        values["objectives"].append({"text": "", "bloom": "understand"})
    elif action == "add_criterion":
        values["criteria"].append(
            {"id": "", "title": "", "description": "", "levels": [_blank_level(), _blank_level()]}
        )
    elif m := re.fullmatch(r"add_level_(\d{1,2})", action):
        i = int(m.group(1))
        if i >= len(values["criteria"]):
            return False
        values["criteria"][i]["levels"].append(_blank_level())
    else:
        return False
    return True


def _blank_level() -> dict[str, str]:
    return {"id": "", "label": "", "points": "", "description": ""}


def _slug(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:28] or "stage"
    if not base[0].isalpha():
        base = f"s-{base}"[:28]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def payload(values: dict[str, Any], form: FormState) -> dict[str, Any]:
    """The request body for AssignmentCreate/AssignmentUpdate; problems the schemas cannot name go into ``form``."""
    body: dict[str, Any] = {
        "title": values["title"],
        "instructions_md": values["instructions_md"],
        "kind": values["kind"],
        "late_policy": values["late_policy"],
        "resubmission": values["resubmission"],
        "ai_statement_required": values["ai_statement_required"],
        "due_at": _parse_time(values["due_at"]),
        "word_min": values["word_min"] or None,
        "word_max": values["word_max"] or None,
        "late_penalty_percent": values["late_penalty_percent"] or 0,
    }
    taken: set[str] = set()
    stages = []
    for s in values["stages"]:
        if not s["label"] and not s["due_at"]:
            continue  # an empty row: left out (that is how a stage is removed)
        key = s["key"] if s["key"] and s["key"] not in taken else _slug(s["label"], taken)
        taken.add(key)
        stages.append({"key": key, "label": s["label"], "due_at": _parse_time(s["due_at"])})
    body["stages"] = stages
    body["objectives"] = [o for o in values["objectives"] if o["text"]]
    criteria = []
    for c in values["criteria"]:
        levels = [lv for lv in c["levels"] if lv["label"] or lv["points"] or lv["description"]]
        if not c["title"] and not c["description"] and not levels:
            continue
        for lv in levels:
            try:
                lv_points = float(lv["points"]) if lv["points"] else None
            except ValueError:
                lv_points = None
            if lv_points is None:
                form.error("rubric", f"Give every level of '{c['title'] or 'a criterion'}' a number of points.")
        criteria.append(
            {
                **({"id": c["id"]} if c["id"] else {}),
                "title": c["title"],
                "description": c["description"],
                "levels": [
                    {
                        **({"id": lv["id"]} if lv["id"] else {}),
                        "label": lv["label"],
                        "points": lv["points"] or "0",
                        "description": lv["description"],
                    }
                    for lv in levels
                ],
            }
        )
    body["rubric"] = {"criteria": criteria} if criteria else None
    return body


FIELD_MESSAGES = {
    "title": "Give the assignment a title (up to 200 characters).",
    "word_min": "Enter the minimum number of words as a whole number (0 to 100,000), or leave it empty.",
    "word_max": "Enter the maximum number of words as a whole number (0 to 100,000), or leave it empty.",
    "due_at": "Enter the due date and time, or leave it empty.",
    "late_penalty_percent": "Enter the late penalty as a whole number from 0 to 100.",
}


def errors_from(exc: ValidationError, form: FormState) -> FormState:
    """Schema messages, attached to the form section they are about."""
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = loc[0] if loc else "_form"
        message = str(err.get("msg", "This value is not valid.")).removeprefix("Value error, ")
        if name in FIELD_MESSAGES:
            message = FIELD_MESSAGES[name]
        elif name == "stages" and len(loc) == 1 and err.get("type") in ("too_short", "too_long"):
            message = "Keep at least one writing stage (and at most 12)."
        elif name == "rubric" and loc[1:] == ["criteria"] and err.get("type") in ("too_short", "too_long"):
            message = "A rubric needs 1 to 30 criteria; leave every criterion empty for no rubric."
        elif name == "stages" and len(loc) > 1 and loc[1].isdigit():
            message = f"Stage {int(loc[1]) + 1}: {message}"
        elif name == "rubric" and "criteria" in loc and len(loc) > 2 and loc[2].isdigit():
            message = f"Rubric criterion {int(loc[2]) + 1}: {message}"
        elif name == "objectives" and len(loc) > 1 and loc[1].isdigit():
            message = f"Objective {int(loc[1]) + 1}: {message}"
        form.error(name, message)
    return form
