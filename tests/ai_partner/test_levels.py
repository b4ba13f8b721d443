"""Access-level rules, table-driven (ai_partner.levels; the rules are stated in docs/ai-partner.md)."""

from __future__ import annotations

import pytest

from scribetree.ai_partner import levels
from scribetree.ai_partner.engine.types import HelpKind, Level
from scribetree.ai_partner.levels import Scored, step, target_level

R, B, S, A = Level.restricted, Level.basic, Level.standard, Level.advanced


def h(*totals: int | str) -> list[Scored]:
    """History from totals; a string "g<total>" is a gamed reflection with that total."""
    out = []
    for t in totals:
        if isinstance(t, str):
            out.append(Scored(int(t[1:]), gamed=True))
        else:
            out.append(Scored(t, gamed=False))
    return out


class TestTarget:
    @pytest.mark.parametrize(
        ("history", "target"),
        [
            (h(0), R),
            (h(5), R),
            (h(6), B),
            (h(9), B),
            (h(10), S),
            (h(13), S),
            (h(14), S),  # advanced needs three reflections that count
            (h(14, 15), S),
            (h(14, 15, 16), A),
            (h(14, 15, "g16"), B),  # a gamed one counts as 0 in the mean: (14 + 15 + 0) / 3 = 9.7
            (h(2, 2, 2, 18, 18, 18), A),  # only the last three matter
            (h(18, 18, 18, 2, 2, 2), R),
        ],
    )
    def test_target_from_the_rolling_mean(self, history: list[Scored], target: Level) -> None:
        assert target_level(history)[0] == target


class TestStep:
    @pytest.mark.parametrize(
        ("current", "history", "after"),
        [
            (B, h(20), S),  # one step up, never two
            (R, h(20, 20, 20), B),
            (B, h(0), R),
            (A, h(0, 0, 0), S),  # one step down, never two
            (S, h(12), S),  # on target: unchanged
            (B, h(7), B),
            (B, h("g20"), B),  # gamed never raises (its mean is 0, so it would even lower one step)
            (S, h(16, 16, "g20"), S),  # (16 + 16 + 0) / 3 = 10.7: standard, unchanged
        ],
    )
    def test_one_step_at_a_time(self, current: Level, history: list[Scored], after: Level) -> None:
        move = step(current, history)
        assert abs(levels.ORDER.index(move.after) - levels.ORDER.index(current)) <= 1
        if history[-1].gamed:
            assert move.after <= current
        assert move.reason

    def test_a_gamed_reflection_at_a_high_mean_does_not_raise(self) -> None:
        # the gamed one counts 0, the mean of the last three is still 13.3 (standard), the student is restricted
        history = [Scored(20, False)] * 5 + [Scored(20, False), Scored(20, False), Scored(20, True)]
        target, mean = target_level(history)
        assert mean == pytest.approx(40 / 3)
        assert target == S
        move = step(R, history)
        assert move.after == R and not move.changed and "did not count" in move.reason

    def test_exact_expected_moves(self) -> None:
        assert step(B, h(20)).after == S
        assert step(S, h(20, 20)).after == S  # target still standard: only two counted reflections
        assert step(S, h(20, 20, 20)).after == A
        assert step(B, h(0)).after == R
        assert step(R, h(0)).after == R
        assert step(B, []).after == B and not step(B, []).changed

    def test_reasons_name_the_mean(self) -> None:
        assert "Up to standard" in step(B, h(20)).reason and "20.0 of 20" in step(B, h(20)).reason
        assert "Down to restricted" in step(B, h(1)).reason


class TestPolicy:
    def test_levels_widen_monotonically(self) -> None:
        for lower, higher in zip(levels.ORDER, levels.ORDER[1:], strict=False):
            assert levels.POLICY[lower].kinds <= levels.POLICY[higher].kinds
            assert levels.POLICY[lower].budget_multiplier <= levels.POLICY[higher].budget_multiplier

    def test_allowed_is_the_intersection_with_the_educators_kinds(self) -> None:
        assert levels.allowed_kinds(R, frozenset({HelpKind.brainstorming})) == frozenset()
        assert levels.allowed_kinds(R, frozenset(HelpKind)) == {HelpKind.clarity, HelpKind.grammar_explanation}
        assert levels.allowed_kinds(S, frozenset({HelpKind.evidence})) == {HelpKind.evidence}
        assert HelpKind.evidence not in levels.allowed_kinds(B, frozenset(HelpKind))

    @pytest.mark.parametrize(
        ("level", "hour", "day", "expected"),
        [(R, 6, 20, (3, 10)), (B, 6, 20, (6, 20)), (A, 6, 20, (9, 30)), (R, 1, 1, (1, 1)), (A, 0, 0, (0, 0))],
    )
    def test_budget_multiplier(self, level: Level, hour: int, day: int, expected: tuple[int, int]) -> None:
        assert levels.budget(level, hour, day) == expected

    def test_max_bloom_rises_with_the_level(self) -> None:
        from scribetree.ai_partner.engine.types import bloom_rank

        ranks = [bloom_rank(levels.POLICY[lv].max_bloom) for lv in levels.ORDER]
        assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
