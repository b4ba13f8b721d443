"""Each rule over crafted histories: fires at its threshold, stays quiet just short of it (docs/alerts.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from scribetree.alerts import rules
from scribetree.alerts.delivery import due_at, in_quiet
from scribetree.alerts.models import DeliveryMode, Severity
from scribetree.alerts.rules import BatchStat, History, ReflectionStat, SessionStat, Stage

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TH = rules.thresholds_for(None)


def hist(**kw: object) -> History:
    base: dict[str, object] = {
        "now": NOW,
        "student_user_id": uuid.uuid4(),
        "course_id": uuid.uuid4(),
        "assignment_id": uuid.uuid4(),
        "document_id": uuid.uuid4(),
        "due_at": None,
    }
    base.update(kw)
    return History(**base)  # type: ignore[arg-type]


def th(**over: float) -> dict[str, float]:
    return {**TH, **over}


def batch(minutes_ago: float, ins: int = 0, dele: int = 0, words: int = 0, pastes: tuple[int, ...] = ()) -> BatchStat:
    return BatchStat(uuid.uuid4(), NOW - timedelta(minutes=minutes_ago), ins, dele, words, pastes)


def sess(days_ago: float, words: int, hours: float = 1) -> SessionStat:
    start = NOW - timedelta(days=days_ago)
    return SessionStat(uuid.uuid4(), start, start + timedelta(hours=hours), int(hours * 3600), words, 0)


class TestNoActivity:
    def test_fires_at_the_idle_threshold_when_due_soon(self) -> None:
        h = hist(due_at=NOW + timedelta(days=3), last_activity_at=NOW - timedelta(days=2))
        f = rules.no_activity(h, TH)
        assert f is not None and f.severity == Severity.attention
        assert f.figures["idle_days"] == 2.0

    def test_quiet_just_short_of_the_idle_threshold(self) -> None:
        h = hist(due_at=NOW + timedelta(days=3), last_activity_at=NOW - timedelta(days=2) + timedelta(minutes=1))
        assert rules.no_activity(h, TH) is None

    def test_quiet_when_the_due_date_is_far(self) -> None:
        h = hist(due_at=NOW + timedelta(days=5, minutes=1), last_activity_at=NOW - timedelta(days=9))
        assert rules.no_activity(h, TH) is None
        assert rules.no_activity(hist(due_at=NOW + timedelta(days=5), last_activity_at=NOW - timedelta(days=9)), TH)

    def test_urgent_within_a_day_and_counts_from_publication_when_never_written(self) -> None:
        h = hist(due_at=NOW + timedelta(hours=20), opened_at=NOW - timedelta(days=4), document_id=None)
        f = rules.no_activity(h, TH)
        assert f is not None and f.severity == Severity.urgent and f.window == "never"

    def test_quiet_when_submitted_or_past_due(self) -> None:
        idle = NOW - timedelta(days=4)
        assert (
            rules.no_activity(hist(due_at=NOW + timedelta(days=1), last_activity_at=idle, submitted=True), TH) is None
        )
        assert rules.no_activity(hist(due_at=NOW - timedelta(hours=1), last_activity_at=idle), TH) is None

    def test_course_threshold_changes_the_boundary(self) -> None:
        h = hist(due_at=NOW + timedelta(days=3), last_activity_at=NOW - timedelta(days=2))
        assert rules.no_activity(h, th(no_activity_days=3)) is None


class TestBehindSchedule:
    STAGES = [
        Stage("plan", "Plan", NOW + timedelta(hours=24)),
        Stage("draft", "Draft", NOW + timedelta(days=7)),
        Stage("final", "Final", NOW + timedelta(days=14)),
    ]

    def test_fires_below_half_of_the_expected_words(self) -> None:
        # target 600 (word_min), stage 1 of 3 expects 200, alert below 100
        f = rules.behind_schedule(hist(stages=self.STAGES, word_min=600, word_count=99), TH)
        assert f is not None and f.window == "plan"
        assert f.figures["expected_words"] == 200 and f.severity == Severity.attention

    def test_quiet_at_the_floor(self) -> None:
        assert rules.behind_schedule(hist(stages=self.STAGES, word_min=600, word_count=100), TH) is None

    def test_quiet_when_no_stage_is_due_soon(self) -> None:
        later = [Stage(s.key, s.label, s.due_at + timedelta(days=2)) for s in self.STAGES if s.due_at]
        assert rules.behind_schedule(hist(stages=later, word_min=600, word_count=0), TH) is None

    def test_past_stage_is_urgent_and_uses_the_default_target(self) -> None:
        stages = [Stage("plan", "Plan", NOW - timedelta(hours=1)), Stage("final", "Final", NOW + timedelta(days=9))]
        f = rules.behind_schedule(hist(stages=stages, word_count=124), TH)  # 500/2 = 250 expected, floor 125
        assert f is not None and f.severity == Severity.urgent
        assert rules.behind_schedule(hist(stages=stages, word_count=125), TH) is None


class TestStuck:
    def window(self, minutes: int, ins: int, dele: int, words: int) -> list[BatchStat]:
        """A batch every minute for ``minutes`` minutes, the totals spread over them."""
        n = minutes + 1
        return [batch(minutes - i, ins // n, dele // n, words // n) for i in range(n)]

    def test_fires_with_twenty_active_minutes_no_gain_and_more_deleted(self) -> None:
        f = rules.stuck(hist(batches=self.window(20, 210, 420, 21)), TH)
        assert f is not None and f.figures["active_minutes"] == 20

    def test_quiet_with_nineteen_active_minutes(self) -> None:
        assert rules.stuck(hist(batches=self.window(19, 200, 400, 20)), TH) is None

    def test_quiet_when_more_was_typed_than_deleted(self) -> None:
        assert rules.stuck(hist(batches=self.window(30, 420, 210, 0)), TH) is None

    def test_quiet_when_words_were_gained(self) -> None:
        # 62 words typed, 310 chars deleted ≈ 52 words: net 10 is at the limit (fires); 11 does not
        assert rules.stuck(hist(batches=self.window(30, 310, 310, 62)), TH) is not None
        assert rules.stuck(hist(batches=self.window(30, 310, 310, 93)), TH) is None

    def test_batches_outside_the_window_do_not_count(self) -> None:
        old = [batch(61 + i, 5, 10, 1) for i in range(40)]
        assert rules.stuck(hist(batches=old), TH) is None


class TestProductivityDrop:
    def test_fires_when_recent_pace_falls_to_the_threshold(self) -> None:
        # baseline: 14 days x 100 words = 1400 → 300 per 3 days; recent 90 = 30%
        sessions = [sess(4 + d, 100) for d in range(14)] + [sess(1, 90)]
        f = rules.productivity_drop(hist(sessions=sessions), TH)
        assert f is not None and f.figures["baseline_pace"] == 300

    def test_quiet_just_above_the_threshold(self) -> None:
        sessions = [sess(4 + d, 100) for d in range(14)] + [sess(1, 91)]
        assert rules.productivity_drop(hist(sessions=sessions), TH) is None

    def test_quiet_without_a_baseline(self) -> None:
        sessions = [sess(4 + d, 10) for d in range(14)]  # 30 per 3 days < 150
        assert rules.productivity_drop(hist(sessions=sessions), TH) is None


class TestLargePaste:
    def test_fires_at_the_word_threshold_for_outside_pastes_only(self) -> None:
        assert rules.large_paste(hist(batches=[batch(1, pastes=(49,))]), TH) is None
        b = batch(1, pastes=(50,))
        f = rules.large_paste(hist(batches=[b]), TH)
        assert f is not None and f.window == str(b.id)


class TestReflections:
    def refl(self, *totals: int, gamed: bool = False) -> list[ReflectionStat]:
        return [ReflectionStat(uuid.uuid4(), NOW - timedelta(hours=10 - i), t, gamed) for i, t in enumerate(totals)]

    def test_low_reflections_needs_three_in_a_row(self) -> None:
        assert rules.low_reflections(hist(reflections=self.refl(15, 8, 7, 8)), TH) is not None
        assert rules.low_reflections(hist(reflections=self.refl(8, 9, 8)), TH) is None
        assert rules.low_reflections(hist(reflections=self.refl(8, 8)), TH) is None

    def test_gamed_reflections_count_as_low(self) -> None:
        assert rules.low_reflections(hist(reflections=self.refl(18, 18, 18, gamed=True)), TH) is not None

    def test_steady_improvement(self) -> None:
        f = rules.steady_improvement(hist(reflections=self.refl(8, 9, 9, 12)), TH)
        assert f is not None and f.positive
        assert rules.steady_improvement(hist(reflections=self.refl(8, 9, 9, 11)), TH) is None  # gain 3 < 4
        assert rules.steady_improvement(hist(reflections=self.refl(8, 13, 9, 14)), TH) is None  # a dip

    def test_over_reliance(self) -> None:
        asks = [NOW - timedelta(hours=1, minutes=i) for i in range(15)]
        assert rules.over_reliance(hist(requests_at=asks, sessions=[sess(0.1, 50)]), TH) is not None
        assert rules.over_reliance(hist(requests_at=asks, sessions=[sess(0.1, 51)]), TH) is None
        assert rules.over_reliance(hist(requests_at=asks[:14], sessions=[]), TH) is None


class TestBreakthrough:
    def test_fires_after_a_stall(self) -> None:
        f = rules.breakthrough(hist(sessions=[sess(5, 40), sess(0.1, 150)]), TH)
        assert f is not None and f.positive and f.severity == Severity.info

    def test_quiet_when_the_gap_is_short_or_the_session_small(self) -> None:
        assert rules.breakthrough(hist(sessions=[sess(2, 40, hours=1), sess(0.1, 400)]), TH) is None
        assert rules.breakthrough(hist(sessions=[sess(5, 40), sess(0.1, 149)]), TH) is None


class TestEvaluate:
    def test_muted_rules_do_not_run_and_the_sets_split(self) -> None:
        h = hist(
            batches=[batch(1, pastes=(80,))], due_at=NOW + timedelta(days=1), last_activity_at=NOW - timedelta(days=3)
        )
        assert {f.rule for f in rules.evaluate(h, TH, muted=set())} == {"large_paste", "no_activity"}
        assert {f.rule for f in rules.evaluate(h, TH, muted={"large_paste"})} == {"no_activity"}
        assert {f.rule for f in rules.evaluate(h, TH, muted=set(), on_activity=True)} == {"large_paste"}

    def test_validate_thresholds(self) -> None:
        assert rules.validate_thresholds({"stuck_active_minutes": 30}) == {"stuck_active_minutes": 30}
        for bad, code in (
            ({"nope": 1}, "UnknownThreshold"),
            ({"stuck_active_minutes": 4}, "ThresholdOutOfRange"),
            ({"stuck_active_minutes": 20.5}, "ThresholdOutOfRange"),
            ({"stuck_active_minutes": True}, "ThresholdOutOfRange"),
            ({"stuck_active_minutes": float("nan")}, "ThresholdOutOfRange"),
        ):
            with pytest.raises(rules.ThresholdError) as exc:
                rules.validate_thresholds(bad)
            assert exc.value.code == code


class TestDeliveryTiming:
    def test_quiet_hours_wrap_midnight(self) -> None:
        assert in_quiet(23 * 60, 22 * 60, 7 * 60) and in_quiet(60, 22 * 60, 7 * 60)
        assert not in_quiet(7 * 60, 22 * 60, 7 * 60) and not in_quiet(12 * 60, 22 * 60, 7 * 60)

    def test_immediate_inside_quiet_hours_waits_for_their_end_in_the_educator_zone(self) -> None:
        # 23:30 in Berlin (UTC+1 in November) is 22:30 UTC; quiet 22:00-07:00 local → 07:00 Berlin = 06:00 UTC
        now = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
        at = due_at(
            now, mode=DeliveryMode.immediate, tz="Europe/Berlin", quiet_start=1320, quiet_end=420, digest_hour=7
        )
        assert at == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        noon = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
        same = due_at(
            noon, mode=DeliveryMode.immediate, tz="Europe/Berlin", quiet_start=1320, quiet_end=420, digest_hour=7
        )
        assert same == noon

    def test_digest_goes_at_the_next_digest_hour(self) -> None:
        now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        at = due_at(
            now, mode=DeliveryMode.digest, tz="America/New_York", quiet_start=None, quiet_end=None, digest_hour=7
        )
        assert at == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 07:00 EST
