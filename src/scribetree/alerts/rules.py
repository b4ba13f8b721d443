"""The alert rules: pure functions over one student's recent history on one assignment (docs/alerts.md).

Nothing here touches the database or the clock: the service gathers a :class:`History` (what the student did,
what the assignment expects, ``now``) and each rule returns a :class:`Finding` or ``None``. Thresholds come from
:data:`THRESHOLDS` (documented defaults, each with the range a course may set); a course's overrides are merged
by :func:`thresholds_for`. A finding's ``window`` ends its dedupe key: the same rule for the same student,
assignment and window is one alert, however often the evaluation runs.

Process-anomaly signals from the integrity domain plug in through :data:`EXTRA_RULES` (a rule is any callable
``(History, Thresholds) -> Finding | None`` with an entry in :data:`RULES`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from scribetree.alerts.models import Severity, SuggestedAction

CHARS_PER_WORD = 6  # deleted characters → words (the log keeps deleted lengths, not the deleted text)

# ---- thresholds -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    default: float
    low: float
    high: float
    unit: str
    label: str
    integer: bool = True


THRESHOLDS: dict[str, Threshold] = {
    # no activity before a due date
    "no_activity_days": Threshold(2, 1, 30, "days", "Days without writing that raise an alert"),
    "no_activity_due_within_days": Threshold(5, 1, 60, "days", "…when the due date is this close"),
    # behind the stage schedule
    "behind_stage_due_within_hours": Threshold(48, 1, 336, "hours", "Check a stage this long before its due date"),
    "behind_expected_percent": Threshold(50, 1, 100, "%", "Alert below this share of the stage's expected words"),
    "behind_target_words": Threshold(500, 50, 20000, "words", "Target length when the assignment has no minimum"),
    # stuck
    "stuck_window_minutes": Threshold(60, 15, 240, "minutes", "Stuck: the window looked at"),
    "stuck_active_minutes": Threshold(20, 5, 240, "minutes", "Stuck: at least this much active writing time"),
    "stuck_max_net_words": Threshold(10, 0, 500, "words", "Stuck: at most this many words gained"),
    # productivity drop
    "drop_recent_days": Threshold(3, 1, 14, "days", "Productivity drop: recent days compared"),
    "drop_baseline_days": Threshold(14, 3, 60, "days", "Productivity drop: baseline days before them"),
    "drop_percent": Threshold(30, 1, 90, "%", "Alert when recent pace is at most this share of the baseline"),
    "drop_min_baseline_words": Threshold(150, 10, 10000, "words", "Only when the baseline pace had this many words"),
    # large paste
    "paste_min_words": Threshold(50, 5, 5000, "words", "A paste from outside the document this long"),
    # reflections and partner use
    "low_reflection_count": Threshold(3, 2, 10, "reflections", "Low-quality reflections in a row"),
    "low_reflection_max_total": Threshold(8, 0, 19, "points of 20", "A reflection at or below this is low quality"),
    "reliance_window_hours": Threshold(24, 1, 168, "hours", "Over-reliance: the window looked at"),
    "reliance_min_requests": Threshold(15, 2, 500, "requests", "Over-reliance: at least this many partner requests"),
    "reliance_max_words": Threshold(50, 0, 5000, "words", "…while writing at most this many words"),
    # positive
    "breakthrough_stall_days": Threshold(3, 1, 30, "days", "Breakthrough: after this many days without writing"),
    "breakthrough_min_words": Threshold(150, 10, 10000, "words", "…a session adding at least this many words"),
    "improvement_count": Threshold(4, 3, 10, "reflections", "Steady improvement: the last reflections compared"),
    "improvement_min_gain": Threshold(4, 1, 20, "points of 20", "…each at least as good, the last this much better"),
}

Thresholds = Mapping[str, float]


class ThresholdError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def validate_thresholds(raw: Mapping[str, Any]) -> dict[str, float]:
    """Overrides as stored: known names, numbers in range (integers where the unit is whole). Raises
    :class:`ThresholdError` with ``UnknownThreshold`` or ``ThresholdOutOfRange``."""
    out: dict[str, float] = {}
    for name, value in raw.items():
        spec = THRESHOLDS.get(name)
        if spec is None:
            raise ThresholdError("UnknownThreshold", f"There is no threshold called '{name}'.")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ThresholdError("ThresholdOutOfRange", f"'{name}' must be a number.")
        if spec.integer and value != int(value):
            raise ThresholdError("ThresholdOutOfRange", f"'{name}' must be a whole number of {spec.unit}.")
        if not spec.low <= value <= spec.high:
            raise ThresholdError(
                "ThresholdOutOfRange",
                f"'{name}' must be between {spec.low:g} and {spec.high:g} {spec.unit} (got {value:g}).",
            )
        out[name] = int(value) if spec.integer else float(value)
    return out


def thresholds_for(overrides: Mapping[str, Any] | None) -> dict[str, float]:
    """Defaults with a course's (stored, valid) overrides on top; unknown stored names are ignored."""
    merged = {k: t.default for k, t in THRESHOLDS.items()}
    for k, v in (overrides or {}).items():
        if k in merged and isinstance(v, int | float):
            merged[k] = v
    return merged


# ---- the input -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    due_at: datetime | None


@dataclass(frozen=True)
class SessionStat:
    """One writing session (``writing_sessions``)."""

    id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    active_seconds: int
    words_added: int
    words_removed: int


@dataclass(frozen=True)
class BatchStat:
    """One edit batch (``edit_batches``): when, what it typed, what it deleted, its outside pastes."""

    id: uuid.UUID
    at: datetime
    chars_inserted: int
    chars_deleted: int
    words_inserted: int
    outside_pastes: tuple[int, ...] = ()  # words of each paste with seen_in_doc=false


@dataclass(frozen=True)
class ReflectionStat:
    id: uuid.UUID
    at: datetime
    total: int  # 0-20
    gamed: bool


@dataclass
class History:
    """One student's recent history on one assignment, as the rules read it."""

    now: datetime
    student_user_id: uuid.UUID
    course_id: uuid.UUID
    assignment_id: uuid.UUID
    document_id: uuid.UUID | None
    due_at: datetime | None
    stages: list[Stage] = field(default_factory=list)
    word_min: int | None = None
    word_count: int = 0
    submitted: bool = False
    last_activity_at: datetime | None = None
    opened_at: datetime | None = None  # when the assignment was published (no activity counts from then)
    sessions: list[SessionStat] = field(default_factory=list)  # oldest first
    batches: list[BatchStat] = field(default_factory=list)  # recent ones, oldest first
    reflections: list[ReflectionStat] = field(default_factory=list)  # oldest first
    requests_at: list[datetime] = field(default_factory=list)  # partner requests, oldest first
    idle_seconds: int = 600  # a longer gap between batches is not active time
    # False when ``batches`` holds only the newest ones (the window could not make the student stuck: more was
    # typed than deleted in it), so the stuck rule does not judge a part of the window.
    batch_window_complete: bool = True


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    title: str
    window: str  # ends the dedupe key
    figures: dict[str, Any]
    positive: bool = False


# ---- rules --------------------------------------------------------------------------------------------------


def _day(t: datetime) -> str:
    return t.strftime("%Y-%m-%d")


def no_activity(h: History, th: Thresholds) -> Finding | None:
    """Nothing written for ``no_activity_days`` while the due date is within ``no_activity_due_within_days``."""
    if h.submitted or h.due_at is None or h.due_at <= h.now:
        return None
    left = h.due_at - h.now
    if left > timedelta(days=th["no_activity_due_within_days"]):
        return None
    since = h.last_activity_at or h.opened_at
    if since is None:
        return None
    idle = h.now - since
    if idle < timedelta(days=th["no_activity_days"]):
        return None
    idle_days = idle.total_seconds() / 86400
    urgent = left <= timedelta(days=1)
    what = f"{idle_days:.0f} days" if h.last_activity_at else f"{idle_days:.0f} days since it opened"
    return Finding(
        rule="no_activity",
        severity=Severity.urgent if urgent else Severity.attention,
        title=f"No writing for {what}; due in {_span(left)}",
        window=_day(h.last_activity_at) if h.last_activity_at else "never",
        figures={
            "last_activity_at": h.last_activity_at.isoformat() if h.last_activity_at else None,
            "idle_days": round(idle_days, 1),
            "due_at": h.due_at.isoformat(),
            "hours_left": round(left.total_seconds() / 3600, 1),
            "word_count": h.word_count,
        },
    )


def behind_schedule(h: History, th: Thresholds) -> Finding | None:
    """The latest stage due within ``behind_stage_due_within_hours`` (or already past) expects ``(i+1)/n`` of the
    target length (the assignment's minimum, else ``behind_target_words``); alert below ``behind_expected_percent``
    of that."""
    if h.submitted or not h.stages:
        return None
    horizon = h.now + timedelta(hours=th["behind_stage_due_within_hours"])
    dated = [(i, s) for i, s in enumerate(h.stages) if s.due_at is not None]
    current = [(i, s) for i, s in dated if s.due_at is not None and s.due_at <= horizon]
    if not current:
        return None
    index, stage = current[-1]
    if h.due_at is not None and h.due_at < h.now:
        return None  # the assignment is past due: the late work is the teacher's call, not an alert
    target = h.word_min or int(th["behind_target_words"])
    expected = math.ceil(target * (index + 1) / len(h.stages))
    floor = expected * th["behind_expected_percent"] / 100
    if h.word_count >= floor:
        return None
    assert stage.due_at is not None
    past = stage.due_at <= h.now
    return Finding(
        rule="behind_schedule",
        severity=Severity.urgent if past else Severity.attention,
        title=f"Behind schedule for '{stage.label}': {h.word_count} of about {expected} words expected",
        window=stage.key,
        figures={
            "stage": stage.key,
            "stage_due_at": stage.due_at.isoformat(),
            "stage_past_due": past,
            "word_count": h.word_count,
            "expected_words": expected,
            "alert_below_words": math.ceil(floor),
        },
    )


def _active_seconds(batches: list[BatchStat], idle: int) -> int:
    total = 0
    for prev, cur in pairwise(batches):
        gap = (cur.at - prev.at).total_seconds()
        if 0 < gap <= idle:
            total += int(gap)
    return total


def stuck(h: History, th: Thresholds) -> Finding | None:
    """In the last ``stuck_window_minutes``: at least ``stuck_active_minutes`` of active time, at most
    ``stuck_max_net_words`` words gained, and at least as many characters deleted as typed."""
    if h.submitted or not h.batch_window_complete:
        return None
    start = h.now - timedelta(minutes=th["stuck_window_minutes"])
    recent = [b for b in h.batches if start <= b.at <= h.now]
    if len(recent) < 2:
        return None
    active = _active_seconds(recent, min(h.idle_seconds, 300))
    if active < th["stuck_active_minutes"] * 60:
        return None
    inserted = sum(b.chars_inserted for b in recent)
    deleted = sum(b.chars_deleted for b in recent)
    words_in = sum(b.words_inserted for b in recent)
    net_words = words_in - round(deleted / CHARS_PER_WORD)
    if net_words > th["stuck_max_net_words"] or deleted < inserted:
        return None
    return Finding(
        rule="stuck",
        severity=Severity.attention,
        title=f"Stuck: {active // 60} active minutes, {max(net_words, 0)} words gained, more deleted than typed",
        window=_day(h.now),
        figures={
            "window_minutes": int(th["stuck_window_minutes"]),
            "active_minutes": active // 60,
            "chars_typed": inserted,
            "chars_deleted": deleted,
            "words_typed": words_in,
            "net_words_estimate": net_words,
            "batches": len(recent),
        },
    )


def productivity_drop(h: History, th: Thresholds) -> Finding | None:
    """Words added in the last ``drop_recent_days`` at most ``drop_percent`` of the student's own pace over the
    ``drop_baseline_days`` before (scaled to the same length), when that pace was at least
    ``drop_min_baseline_words`` per recent-window."""
    if h.submitted:
        return None
    recent_days, base_days = th["drop_recent_days"], th["drop_baseline_days"]
    cut = h.now - timedelta(days=recent_days)
    base_start = cut - timedelta(days=base_days)
    recent = sum(s.words_added for s in h.sessions if s.started_at >= cut)
    base = sum(s.words_added for s in h.sessions if base_start <= s.started_at < cut)
    pace = base * recent_days / base_days  # baseline words per recent window
    if pace < th["drop_min_baseline_words"] or recent > pace * th["drop_percent"] / 100:
        return None
    return Finding(
        rule="productivity_drop",
        severity=Severity.attention,
        title=f"Writing pace dropped: {recent} words in {recent_days:g} days against a usual {round(pace)}",
        window=h.now.strftime("%G-W%V"),
        figures={
            "recent_days": recent_days,
            "recent_words": recent,
            "baseline_days": base_days,
            "baseline_words": base,
            "baseline_pace": round(pace),
        },
    )


def large_paste(h: History, th: Thresholds) -> Finding | None:
    """A paste of at least ``paste_min_words`` words that the editor did not see in the document (the most recent
    such batch: one alert per batch)."""
    for b in reversed(h.batches):
        big = [w for w in b.outside_pastes if w >= th["paste_min_words"]]
        if big:
            return Finding(
                rule="large_paste",
                severity=Severity.attention,
                title=f"Large paste from outside the document: {max(big)} words",
                window=str(b.id),
                figures={"batch_id": str(b.id), "at": b.at.isoformat(), "paste_words": big},
            )
    return None


def low_reflections(h: History, th: Thresholds) -> Finding | None:
    """The last ``low_reflection_count`` reflections all scored at most ``low_reflection_max_total`` (or were
    flagged as gamed)."""
    n = int(th["low_reflection_count"])
    last = h.reflections[-n:]
    if len(last) < n or not all(r.gamed or r.total <= th["low_reflection_max_total"] for r in last):
        return None
    return Finding(
        rule="low_reflections",
        severity=Severity.attention,
        title=f"{n} low-quality reflections in a row",
        window=str(last[-1].id),
        figures={"scores": [r.total for r in last], "gamed": sum(r.gamed for r in last)},
    )


def over_reliance(h: History, th: Thresholds) -> Finding | None:
    """At least ``reliance_min_requests`` partner requests within ``reliance_window_hours`` while the student wrote
    at most ``reliance_max_words`` words in it."""
    start = h.now - timedelta(hours=th["reliance_window_hours"])
    requests = [t for t in h.requests_at if start <= t <= h.now]
    if len(requests) < th["reliance_min_requests"]:
        return None
    words = sum(s.words_added for s in h.sessions if s.ended_at >= start)
    if words > th["reliance_max_words"]:
        return None
    return Finding(
        rule="over_reliance",
        severity=Severity.attention,
        title=f"Leaning on the partner: {len(requests)} requests, {words} words written",
        window=_day(h.now),
        figures={"window_hours": th["reliance_window_hours"], "requests": len(requests), "words_added": words},
    )


def breakthrough(h: History, th: Thresholds) -> Finding | None:
    """The latest session added at least ``breakthrough_min_words`` words after ``breakthrough_stall_days`` with no
    writing (or none since the assignment opened)."""
    if not h.sessions:
        return None
    last = h.sessions[-1]
    before = h.sessions[-2].ended_at if len(h.sessions) > 1 else h.opened_at
    if before is None or last.words_added < th["breakthrough_min_words"]:
        return None
    gap = last.started_at - before
    if gap < timedelta(days=th["breakthrough_stall_days"]):
        return None
    return Finding(
        rule="breakthrough",
        severity=Severity.info,
        title=f"Breakthrough: {last.words_added} words after {gap.days} days away",
        window=str(last.id),
        figures={"session_id": str(last.id), "words_added": last.words_added, "stall_days": gap.days},
        positive=True,
    )


def steady_improvement(h: History, th: Thresholds) -> Finding | None:
    """The last ``improvement_count`` reflections (not gamed) never got worse and the last beats the first by
    ``improvement_min_gain``."""
    n = int(th["improvement_count"])
    last = [r for r in h.reflections if not r.gamed][-n:]
    if len(last) < n:
        return None
    totals = [r.total for r in last]
    if any(b < a for a, b in pairwise(totals)) or totals[-1] - totals[0] < th["improvement_min_gain"]:
        return None
    return Finding(
        rule="steady_improvement",
        severity=Severity.info,
        title=f"Reflections improving steadily: {totals[0]} → {totals[-1]} of 20",
        window=str(last[-1].id),
        figures={"scores": totals},
        positive=True,
    )


def _span(d: timedelta) -> str:
    hours = d.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"


# ---- the catalogue ------------------------------------------------------------------------------------------

Rule = Callable[[History, Thresholds], Finding | None]


@dataclass(frozen=True)
class RuleInfo:
    code: str
    label: str
    fn: Rule
    actions: tuple[SuggestedAction, ...]
    on_activity: bool  # evaluated within a minute of new activity (else on the hourly schedule)
    thresholds: tuple[str, ...]


A = SuggestedAction
RULES: dict[str, RuleInfo] = {
    r.code: r
    for r in (
        RuleInfo(
            "no_activity",
            "No activity before a due date",
            no_activity,
            (A.message, A.check_in, A.extend_deadline),
            False,
            ("no_activity_days", "no_activity_due_within_days"),
        ),
        RuleInfo(
            "behind_schedule",
            "Behind the stage schedule",
            behind_schedule,
            (A.message, A.check_in, A.extend_deadline),
            False,
            ("behind_stage_due_within_hours", "behind_expected_percent", "behind_target_words"),
        ),
        RuleInfo(
            "stuck",
            "Stuck (time without progress)",
            stuck,
            (A.message, A.check_in, A.adjust_ai_budget),
            True,
            ("stuck_window_minutes", "stuck_active_minutes", "stuck_max_net_words"),
        ),
        RuleInfo(
            "productivity_drop",
            "Sudden productivity drop",
            productivity_drop,
            (A.message, A.check_in),
            False,
            ("drop_recent_days", "drop_baseline_days", "drop_percent", "drop_min_baseline_words"),
        ),
        RuleInfo(
            "large_paste", "Large paste from outside", large_paste, (A.message, A.check_in), True, ("paste_min_words",)
        ),
        RuleInfo(
            "low_reflections",
            "Repeated low-quality reflections",
            low_reflections,
            (A.message, A.check_in, A.adjust_ai_budget),
            True,
            ("low_reflection_count", "low_reflection_max_total"),
        ),
        RuleInfo(
            "over_reliance",
            "Over-reliance on the partner",
            over_reliance,
            (A.message, A.adjust_ai_budget),
            True,
            ("reliance_window_hours", "reliance_min_requests", "reliance_max_words"),
        ),
        RuleInfo(
            "breakthrough",
            "Breakthrough after a stall",
            breakthrough,
            (A.message,),
            True,
            ("breakthrough_stall_days", "breakthrough_min_words"),
        ),
        RuleInfo(
            "steady_improvement",
            "Steady improvement in reflections",
            steady_improvement,
            (A.message,),
            True,
            ("improvement_count", "improvement_min_gain"),
        ),
    )
}
# Hook for later signals (the integrity domain's process anomalies): add a RuleInfo here at import time.
EXTRA_RULES: dict[str, RuleInfo] = {}


def all_rules() -> dict[str, RuleInfo]:
    return {**RULES, **EXTRA_RULES}


def evaluate(h: History, th: Thresholds, *, muted: set[str], on_activity: bool | None = None) -> list[Finding]:
    """Every finding of the rules that are not muted (``on_activity`` picks the event-driven or the scheduled
    set; ``None`` runs all)."""
    found = []
    for info in all_rules().values():
        if info.code in muted or (on_activity is not None and info.on_activity != on_activity):
            continue
        f = info.fn(h, th)
        if f is not None:
            found.append(f)
    return found


def dedupe_key(f: Finding, student_user_id: uuid.UUID, assignment_id: uuid.UUID | None) -> str:
    return f"{f.rule}:{student_user_id}:{assignment_id or '-'}:{f.window}"[:200]
