"""Whether a student's writing activity changed after an intervention (docs/alerts.md, "Intervention effectiveness").

Method: the student's writing sessions in the intervention's course are bucketed by their start time into the
``N`` days before the intervention and the ``N`` days after it (default ``N`` = 3). For each window we take the
active minutes per day and the words added per day (window total ÷ N, so a day without writing counts as 0).
The change is ``(after - before) ÷ before`` on active minutes per day; with no activity before, there is no
percentage ("from 0 to 29 active min/day"). Until ``N`` days have passed since the intervention the answer is
"too early to tell" (the after window is not complete). Per kind, the course's measured interventions are
pooled: the mean per-day figures before and after, and how many rose, fell or stayed (±10 %).

This is a before/after comparison, not a controlled experiment: the due date, the stage and the student's own
week all move activity too. It says what happened, not what caused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_DAYS = 3
STEADY_BAND = 10.0  # |change| within this many percent counts as "no change"


@dataclass(frozen=True)
class Activity:
    """One writing session: when it started, active seconds, words added."""

    started_at: datetime
    active_seconds: int
    words_added: int


@dataclass(frozen=True)
class Effect:
    ready: bool  # False: too early to tell
    days: int
    ready_at: datetime
    before_minutes: float  # active minutes per day
    after_minutes: float
    before_words: float  # words added per day
    after_words: float
    change_percent: float | None  # on active minutes per day; None when there was no activity before (or not ready)
    trend: str | None  # "up" | "down" | "steady" | None (not ready)
    summary: str


def _fmt(x: float) -> str:
    return f"{x:.0f}" if x >= 10 or x == int(x) else f"{x:.1f}"


def measure(at: datetime, sessions: Iterable[Activity], now: datetime, days: int = DEFAULT_DAYS) -> Effect:
    """The before/after comparison around ``at`` (see the module docstring)."""
    span = timedelta(days=days)
    before_s = after_s = before_w = after_w = 0
    for s in sessions:
        if at - span <= s.started_at < at:
            before_s += s.active_seconds
            before_w += s.words_added
        elif at <= s.started_at < at + span:
            after_s += s.active_seconds
            after_w += s.words_added
    ready_at = at + span
    before_m, after_m = before_s / 60 / days, after_s / 60 / days
    bw, aw = before_w / days, after_w / days
    if now < ready_at:
        left = ready_at - now
        hours = max(1, round(left.total_seconds() / 3600))
        when = f"{hours} h" if hours < 48 else f"{round(hours / 24)} days"
        return Effect(False, days, ready_at, before_m, after_m, bw, aw, None, None, f"too early to tell (in {when})")
    if before_m == 0:
        change = None
        trend = "up" if after_m > 0 else "steady"
        summary = f"activity after: from 0 to {_fmt(after_m)} active min/day over {days} days"
    else:
        change = (after_m - before_m) / before_m * 100
        trend = "steady" if abs(change) <= STEADY_BAND else "up" if change > 0 else "down"
        summary = (
            f"activity after: {change:+.0f} % ({_fmt(before_m)} → {_fmt(after_m)} active min/day over {days} days)"
        )
    summary += f"; words added {_fmt(bw)} → {_fmt(aw)} per day"
    return Effect(True, days, ready_at, before_m, after_m, bw, aw, change, trend, summary)


@dataclass(frozen=True)
class KindEffect:
    kind: str
    count: int
    measured: int
    up: int
    steady: int
    down: int
    before_minutes: float  # mean over the measured interventions
    after_minutes: float
    before_words: float
    after_words: float
    change_percent: float | None
    summary: str


def pool(kind: str, effects: Sequence[Effect]) -> KindEffect:
    """The measured effects of one kind of intervention, pooled (means of the per-day figures)."""
    done = [e for e in effects if e.ready]
    n = len(done)
    if not n:
        return KindEffect(kind, len(effects), 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, None, "too early to tell")
    bm = sum(e.before_minutes for e in done) / n
    am = sum(e.after_minutes for e in done) / n
    bw = sum(e.before_words for e in done) / n
    aw = sum(e.after_words for e in done) / n
    up = sum(e.trend == "up" for e in done)
    down = sum(e.trend == "down" for e in done)
    steady = n - up - down
    change = (am - bm) / bm * 100 if bm else None
    pct = f"{change:+.0f} %, " if change is not None else ""
    summary = (
        f"activity rose after {up} of {n}, fell after {down}; "
        f"mean {pct}{_fmt(bm)} → {_fmt(am)} active min/day, {_fmt(bw)} → {_fmt(aw)} words/day"
    )
    return KindEffect(kind, len(effects), n, up, steady, down, bm, am, bw, aw, change, summary)
