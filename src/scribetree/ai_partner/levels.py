"""Access levels: derived on the server from the reflection history, one step at a time (docs/ai-partner.md).

Rules (each one is tested in tests/ai_partner/test_levels.py):

1. A student starts at ``basic`` on each document.
2. After each reflection the *target* is read from the mean total (0-20) of the last ``WINDOW`` reflections,
   gamed ones counting as 0: below 6 ``restricted``, below 10 ``basic``, below 14 ``standard``, else ``advanced``.
   ``advanced`` also needs at least ``ADVANCED_MIN_COUNTED`` reflections that were not gamed.
3. The level moves at most one step toward the target per reflection.
4. A gamed reflection never raises the level (it may lower it one step).
5. The level sets which kinds of help, the highest Bloom level and a multiplier on the educator's budget.
   No request can choose a level: the server reads it from ``ai_level_changes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scribetree.ai_partner.engine.types import HelpKind, Level

START = Level.basic
WINDOW = 3
ADVANCED_MIN_COUNTED = 3
THRESHOLDS: tuple[tuple[float, Level], ...] = (
    (6, Level.restricted),  # mean below 6 -> restricted
    (10, Level.basic),
    (14, Level.standard),
)
ORDER: tuple[Level, ...] = (Level.restricted, Level.basic, Level.standard, Level.advanced)


@dataclass(frozen=True)
class LevelPolicy:
    kinds: frozenset[HelpKind]
    max_bloom: str
    budget_multiplier: float
    description: str


POLICY: dict[Level, LevelPolicy] = {
    Level.restricted: LevelPolicy(
        frozenset({HelpKind.clarity, HelpKind.grammar_explanation}),
        "understand",
        0.5,
        "Questions about clarity and explanations of grammar only; half of the usual number of requests.",
    ),
    Level.basic: LevelPolicy(
        frozenset({HelpKind.clarity, HelpKind.grammar_explanation, HelpKind.brainstorming, HelpKind.organisation}),
        "apply",
        1.0,
        "Brainstorming, organisation and clarity questions and grammar explanations.",
    ),
    Level.standard: LevelPolicy(
        frozenset(HelpKind),
        "analyse",
        1.0,
        "Every kind of question the assignment allows, including questions about evidence and reasoning.",
    ),
    Level.advanced: LevelPolicy(
        frozenset(HelpKind),
        "create",
        1.5,
        "Every kind of question the assignment allows, at the most demanding levels; half again as many requests.",
    ),
}


@dataclass(frozen=True)
class Scored:
    """One reflection of the history, as the level rules see it."""

    total: int  # 0-20
    gamed: bool


@dataclass(frozen=True)
class Move:
    before: Level
    after: Level
    target: Level
    reason: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def target_level(history: Sequence[Scored]) -> tuple[Level, float]:
    """The level the recent history points at, and the mean it was read from (history oldest first)."""
    recent = history[-WINDOW:]
    mean = sum(0 if r.gamed else r.total for r in recent) / len(recent) if recent else 0.0
    for bound, level in THRESHOLDS:
        if mean < bound:
            return level, mean
    counted = sum(1 for r in history if not r.gamed)
    return (Level.advanced if counted >= ADVANCED_MIN_COUNTED else Level.standard), mean


def step(current: Level, history: Sequence[Scored]) -> Move:
    """Where the level goes after the newest reflection (the last item of ``history``, oldest first)."""
    if not history:
        return Move(current, current, current, "No reflection yet.")
    newest = history[-1]
    target, mean = target_level(history)
    n = min(len(history), WINDOW)
    basis = f"the mean of your last {n} reflection{'s' if n != 1 else ''} is {mean:.1f} of 20"
    i, t = ORDER.index(current), ORDER.index(target)
    if t > i and newest.gamed:
        return Move(current, current, target, f"Unchanged: {basis}, but this reflection did not count (gaming).")
    if t > i:
        after = ORDER[i + 1]
        return Move(current, after, target, f"Up to {after.value}: {basis}.")
    if t < i:
        after = ORDER[i - 1]
        return Move(current, after, target, f"Down to {after.value}: {basis}.")
    if target == Level.standard and mean >= THRESHOLDS[-1][0]:
        return Move(current, current, target, f"Unchanged: {basis}; advanced needs {ADVANCED_MIN_COUNTED} that count.")
    return Move(current, current, target, f"Unchanged: {basis}.")


def allowed_kinds(level: Level, educator_kinds: frozenset[HelpKind]) -> frozenset[HelpKind]:
    """What the partner may do: the educator's kinds for this stage, intersected with the level's."""
    return educator_kinds & POLICY[level].kinds


def budget(level: Level, per_hour: int, per_day: int) -> tuple[int, int]:
    """The educator's budget scaled by the level (rounded down; at least 1 where the educator allows any)."""
    m = POLICY[level].budget_multiplier

    def scale(n: int) -> int:
        return 0 if n <= 0 else max(1, math.floor(n * m))

    return scale(per_hour), scale(per_day)
