"""Learner profile rules on crafted histories: each pattern and state fires when it should and not otherwise."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from scribetree.analytics import profile as p
from scribetree.analytics.profile import OpenWork, State, build_profile
from scribetree.analytics.schemas import (
    AiDay,
    AiUse,
    DailyActivity,
    DocumentMetrics,
    StageProgress,
    StudentMetrics,
    StyleMeasures,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
COURSE = uuid.uuid4()
ASSIGNMENT = uuid.uuid4()
DOC = uuid.uuid4()


def day(offset: int) -> date:
    return TODAY - timedelta(days=offset)


def activity(offset: int, added: int, deleted: int = 0, minutes: float | None = None) -> DailyActivity:
    return DailyActivity(
        day=day(offset),
        active_minutes=minutes if minutes is not None else added / 20,
        batches=max(1, added // 10),
        words_added=added,
        words_deleted=deleted,
        word_delta=added - deleted,
        pastes=0,
        pasted_chars=0,
    )


def style(**kw: object) -> StyleMeasures:
    base: dict[str, object] = dict(
        words=600,
        sentences=30,
        paragraphs=5,
        sentence_length_mean=20.0,
        sentence_length_sd=7.0,
        sentence_length_variety=0.35,
        paragraph_length_mean=120.0,
        paragraph_lengths=[120] * 5,
        type_token_ratio=0.5,
        mtld=55.0,
        syllables_per_word=1.5,
        flesch_reading_ease=60.0,
        flesch_kincaid_grade=9.0,
    )
    base.update(kw)
    return StyleMeasures.model_validate(base)


def document(
    *,
    words: int = 600,
    stages: list[StageProgress] | None = None,
    submitted: bool = False,
    ai: AiUse | None = None,
    st: StyleMeasures | None = None,
    last: datetime | None = None,
) -> DocumentMetrics:
    return DocumentMetrics(
        document_id=DOC,
        assignment_id=ASSIGNMENT,
        course_id=COURSE,
        owner_user_id=None,
        revision=10,
        stale=False,
        word_count=words,
        active_minutes=60,
        sessions=3,
        batches=10,
        chars_inserted=0,
        chars_deleted=0,
        words_added=words,
        words_deleted=0,
        pastes=0,
        pasted_chars=0,
        typed_to_final=1.0,
        deleted_to_added=0.0,
        gaps=[],
        pauses=0,
        pause_minutes=0,
        bursts=0,
        longest_burst_chars=0,
        first_batch_at=None,
        first_words_at=None,
        last_activity_at=last or NOW,
        seconds_to_first_words_from_publish=None,
        seconds_to_first_words_from_open=None,
        submitted_at=NOW if submitted else None,
        style=st if st is not None else style(words=words),
        stages=stages or [],
        ai=ai
        or AiUse(
            exchanges=0, reflections=0, reflection_mean_total=None, gamed_reflections=0, levels={}, last_level=None
        ),
    )


def metrics(
    daily: list[DailyActivity], *, doc: DocumentMetrics | None = None, ai_daily: list[AiDay] | None = None
) -> StudentMetrics:
    daily = sorted(daily, key=lambda d: d.day)
    return StudentMetrics(
        course_id=COURSE,
        user_id=uuid.uuid4(),
        name="Test Student",
        documents=[doc or document()],
        active_minutes=sum(d.active_minutes for d in daily),
        words_added=sum(d.words_added for d in daily),
        words_deleted=sum(d.words_deleted for d in daily),
        daily=daily,
        ai_daily=ai_daily or [],
    )


OPEN = [OpenWork(ASSIGNMENT, "Essay", NOW + timedelta(days=7), NOW - timedelta(days=30))]


def codes(prof: p.Profile) -> set[str]:
    return {s.code for s in (*prof.patterns, *prof.strengths, *prof.areas, *prof.independence)}


class TestPatterns:
    def test_steady(self) -> None:
        prof = build_profile(metrics([activity(i, 60) for i in range(0, 14, 2)]), OPEN, NOW)
        assert prof.pattern_codes == ["steady"]
        assert "strength.habit" in codes(prof)
        assert prof.patterns[0].evidence[0].text == "7 of 13 days with writing"

    def test_steady_needs_enough_days(self) -> None:
        # one writing day in three over 13 days: not steady, and no day dominates: no pattern
        prof = build_profile(metrics([activity(i, 60) for i in (0, 3, 6, 9, 12)]), OPEN, NOW)
        assert prof.pattern_codes == []

    def test_bursty(self) -> None:
        prof = build_profile(metrics([activity(12, 40), activity(6, 500), activity(0, 40)]), OPEN, NOW)
        assert prof.pattern_codes == ["bursty"]
        assert prof.patterns[0].evidence[0].href == f"#day-{day(6).isoformat()}"

    def test_not_bursty_under_the_share(self) -> None:
        prof = build_profile(metrics([activity(12, 200), activity(6, 210), activity(0, 200)]), OPEN, NOW)
        assert "bursty" not in prof.pattern_codes

    def test_last_minute(self) -> None:
        due = NOW - timedelta(days=2)
        work = [OpenWork(ASSIGNMENT, "Essay", due, NOW - timedelta(days=20))]
        daily = [activity(15, 50), activity(10, 40), activity(3, 300), activity(2, 250)]
        prof = build_profile(metrics(daily, doc=document(submitted=True)), work, NOW)
        assert prof.pattern_codes == ["last_minute"]  # not also bursty: last-minute explains it
        assert "area.start_earlier" in codes(prof)
        assert "86%" in prof.patterns[0].educator  # 550 of 640

    def test_not_last_minute_when_spread(self) -> None:
        due = NOW - timedelta(days=2)
        work = [OpenWork(ASSIGNMENT, "Essay", due, NOW - timedelta(days=20))]
        daily = [activity(i, 60) for i in range(2, 16)]
        prof = build_profile(metrics(daily), work, NOW)
        assert "last_minute" not in prof.pattern_codes

    def test_heavy_reviser(self) -> None:
        daily = [activity(i, 100, deleted=60) for i in range(0, 10, 2)]
        prof = build_profile(metrics(daily), OPEN, NOW)
        assert "heavy_reviser" in prof.pattern_codes
        assert prof.patterns[-1].evidence[0].href == f"/documents/{DOC}/history"
        assert "strength.revises" not in codes(prof)

    def test_reviser_below_the_line_is_a_strength(self) -> None:
        daily = [activity(i, 100, deleted=30) for i in range(0, 10, 2)]
        prof = build_profile(metrics(daily), OPEN, NOW)
        assert "heavy_reviser" not in prof.pattern_codes
        assert "strength.revises" in codes(prof)

    def test_too_little_history_names_no_pattern(self) -> None:
        prof = build_profile(metrics([activity(0, 100)]), OPEN, NOW)
        assert prof.pattern_codes == []


class TestState:
    def test_progressing(self) -> None:
        prof = build_profile(metrics([activity(1, 200), activity(0, 100)]), OPEN, NOW)
        assert prof.state == State.progressing
        assert "300 words written in the last 7 days" in prof.state_statement.educator

    def test_stalled_after_four_days(self) -> None:
        prof = build_profile(metrics([activity(10, 200), activity(4, 100)]), OPEN, NOW)
        assert prof.state == State.stalled
        assert prof.state_statement.evidence[0].href == f"#day-{day(4).isoformat()}"
        assert build_profile(metrics([activity(10, 200), activity(3, 100)]), OPEN, NOW).state == State.progressing

    def test_never_started(self) -> None:
        empty = StudentMetrics(
            course_id=COURSE,
            user_id=uuid.uuid4(),
            name="N",
            documents=[],
            active_minutes=0,
            words_added=0,
            words_deleted=0,
            daily=[],
            ai_daily=[],
        )
        assert build_profile(empty, OPEN, NOW).state == State.stalled
        fresh = [OpenWork(ASSIGNMENT, "Essay", NOW + timedelta(days=7), NOW - timedelta(days=1))]
        assert build_profile(empty, fresh, NOW).state == State.not_started

    def test_nothing_open(self) -> None:
        prof = build_profile(metrics([activity(10, 200)], doc=document(submitted=True)), OPEN, NOW)
        assert prof.state == State.nothing_open

    def test_struggling_spinning(self) -> None:
        # 90 minutes this week, 400 words written, 380 deleted: net +20 (5%)
        daily = [activity(2, 200, deleted=190, minutes=45), activity(1, 200, deleted=190, minutes=45)]
        prof = build_profile(metrics(daily), OPEN, NOW)
        assert prof.state == State.struggling
        assert "net change of +20 words" in prof.state_statement.educator
        assert "struggling" not in prof.state_statement.student.lower()
        assert prof.state_label("student") == "Worth a conversation"

    def test_not_spinning_with_net_progress(self) -> None:
        daily = [activity(2, 200, deleted=100, minutes=45), activity(1, 200, deleted=100, minutes=45)]
        assert build_profile(metrics(daily), OPEN, NOW).state == State.progressing

    def test_struggling_behind_stages(self) -> None:
        stages = [
            StageProgress(key=k, label=k.title(), due_at=NOW, target_words=100, words_at_due=10, status=s)
            for k, s in (("outline", "missed"), ("draft", "behind"), ("revise", "on_track"))
        ]
        prof = build_profile(metrics([activity(0, 30)], doc=document(stages=stages)), OPEN, NOW)
        assert prof.state == State.struggling
        assert "2 stages (Outline, Draft)" in prof.state_statement.educator
        one = [stages[0], stages[2]]
        assert build_profile(metrics([activity(0, 30)], doc=document(stages=one)), OPEN, NOW).state == State.progressing

    def test_struggling_low_reflections(self) -> None:
        ai = [AiDay(day=day(1), exchanges=1, reflections=2, reflection_mean_total=5.0)]
        prof = build_profile(metrics([activity(0, 30)], ai_daily=ai), OPEN, NOW)
        assert prof.state == State.struggling
        single = [AiDay(day=day(1), exchanges=1, reflections=1, reflection_mean_total=5.0)]
        assert build_profile(metrics([activity(0, 30)], ai_daily=single), OPEN, NOW).state == State.progressing


class TestStrengthsAndAreas:
    def test_style(self) -> None:
        good = document(st=style(sentence_length_variety=0.6, mtld=80.0))
        prof = build_profile(metrics([activity(0, 100)], doc=good), OPEN, NOW)
        assert {"strength.sentence_variety", "strength.vocabulary"} <= codes(prof)
        weak = document(st=style(sentence_length_variety=0.2, mtld=30.0, sentence_length_mean=32.0, paragraphs=1))
        prof = build_profile(metrics([activity(0, 100)], doc=weak), OPEN, NOW)
        assert {"area.sentence_variety", "area.vocabulary", "area.long_sentences", "area.paragraphs"} <= codes(prof)
        plain = build_profile(metrics([activity(0, 100)]), OPEN, NOW)
        assert not {c for c in codes(plain) if c.startswith(("strength.", "area."))}

    def test_little_revision(self) -> None:
        prof = build_profile(metrics([activity(i, 100) for i in range(4)]), OPEN, NOW)
        assert "area.little_revision" in codes(prof)

    def test_reflections(self) -> None:
        ai = AiUse(
            exchanges=3,
            reflections=3,
            reflection_mean_total=16.0,
            gamed_reflections=0,
            levels={"standard": 3},
            last_level="standard",
        )
        prof = build_profile(metrics([activity(0, 100)], doc=document(ai=ai)), OPEN, NOW)
        strength = next(s for s in prof.strengths if s.code == "strength.reflection")
        assert strength.evidence[0].href == f"/documents/{DOC}/partner"


class TestIndependence:
    def test_heavy_and_relying_more(self) -> None:
        daily = [activity(20, 300), activity(13, 300), activity(6, 200), activity(0, 200)]
        ai = [
            AiDay(day=day(20), exchanges=1, reflections=0, reflection_mean_total=None),
            AiDay(day=day(6), exchanges=6, reflections=0, reflection_mean_total=None),
            AiDay(day=day(0), exchanges=6, reflections=0, reflection_mean_total=None),
        ]
        prof = build_profile(metrics(daily, ai_daily=ai), OPEN, NOW)
        assert prof.ai_per_1000 == 13.0
        assert {"ai.heavy", "ai.relying_more"} <= codes(prof)
        assert "ai.more_independent" not in codes(prof)

    def test_more_independent(self) -> None:
        daily = [activity(20, 300), activity(13, 300), activity(6, 300), activity(0, 300)]
        ai = [
            AiDay(day=day(20), exchanges=4, reflections=0, reflection_mean_total=None),
            AiDay(day=day(0), exchanges=1, reflections=0, reflection_mean_total=None),
        ]
        prof = build_profile(metrics(daily, ai_daily=ai), OPEN, NOW)
        assert "ai.more_independent" in codes(prof)
        assert "ai.heavy" not in codes(prof)
        weeks = [w for w in prof.ai_weeks if w.per_1000 is not None]
        assert weeks[0].per_1000 == 4000 / 300

    def test_no_partner(self) -> None:
        prof = build_profile(metrics([activity(0, 100)]), OPEN, NOW)
        assert [s.code for s in prof.independence] == ["ai.none"]
