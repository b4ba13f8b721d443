"""Learner profiles: what a student's own history in a course says about how they write (docs/insight.md).

Built only from the analytics service's figures (:class:`StudentMetrics`: daily activity, per-document
metrics with style measures and stage progress, AI-partner use per day); nothing here reads the log or
computes a metric a second time. :func:`build_profile` is pure (figures and ``now`` in, statements out), so
every rule is tested with crafted histories; :func:`student_profile` fetches the figures through the service.

Every statement carries its evidence: the figures it rests on and a link (the document's history, a day of
the writing timeline, the AI-partner log). Each statement has an educator wording and a student wording:
the same facts, in encouraging words for the student (a student is never told they are "struggling").
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics.schemas import CourseMetrics, DocumentMetrics, StudentMetrics
from scribetree.analytics.service import analytics as analytics_service
from scribetree.core import clock
from scribetree.courses.models import CourseRole
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.tenancy.context import AuthContext

# ---- thresholds (docs/insight.md lists each with its reason) -------------------------------------------------

MIN_WORDS_FOR_PATTERN = 150  # words added in the course before a writing pattern is named
MIN_SPAN_DAYS = 5  # first to last writing day, inclusive, for steady / bursty
STEADY_DAY_SHARE = 0.4  # share of the span's days with writing
STEADY_MAX_DAY_SHARE = 0.35  # no single day holds more than this share of the words added
BURSTY_TOP_DAY_SHARE = 0.5  # one day holds at least this share of the words added
LAST_MINUTE_DAYS = 2  # the due day and the day before
LAST_MINUTE_SHARE = 0.6  # share of the words added (for an assignment now due) in those days
REVISER_MIN_WORDS = 200
HEAVY_REVISER_RATIO = 0.5  # words deleted / words added
REVISES_RATIO = 0.15  # at or above: the student revises (a strength below the heavy-reviser line)
LITTLE_REVISION_RATIO = 0.05  # below, with at least LITTLE_REVISION_MIN_WORDS added: an area to grow
LITTLE_REVISION_MIN_WORDS = 300

STALLED_DAYS = 4  # no writing for this many days while work is open
RECENT_DAYS = 7  # the window for "spinning"
SPINNING_MIN_MINUTES = 60  # active minutes in the window ...
SPINNING_NET_SHARE = 0.1  # ... with net words at most this share of the words added
BEHIND_STAGES = 2  # stages missed or behind on open work
REFLECTION_WINDOW_DAYS = 14
REFLECTION_MIN = 2  # reflections in the window before their mean counts
LOW_REFLECTION = 8.0  # mean total out of 20
GOOD_REFLECTION = 14.0

HEAVY_AI_PER_1000 = 10.0  # AI exchanges per 1,000 words added
AI_MIN_WORDS_WEEK = 50  # a week with fewer words added has no rate
AI_TREND_DOWN = 0.75  # later weeks' rate / earlier weeks' rate at or below: more independent
AI_TREND_UP = 4 / 3  # at or above: relying more

VARIED_SENTENCES = 0.5  # coefficient of variation of sentence length
UNIFORM_SENTENCES = 0.25
STYLE_MIN_SENTENCES = 5
RICH_VOCABULARY_MTLD = 70.0
NARROW_VOCABULARY_MTLD = 40.0
STYLE_MIN_WORDS = 200
LONG_SENTENCES = 28.0  # mean words per sentence
ONE_BLOCK_MIN_WORDS = 250  # a text this long in a single paragraph


class State(StrEnum):
    progressing = "progressing"
    stalled = "stalled"
    struggling = "struggling"
    not_started = "not_started"
    nothing_open = "nothing_open"


STATE_LABELS = {
    State.progressing: ("Progressing", "On your way"),
    State.stalled: ("Stalled", "Time to pick it back up"),
    State.struggling: ("Struggling", "Worth a conversation"),
    State.not_started: ("Not started", "Ready when you are"),
    State.nothing_open: ("Nothing open", "All caught up"),
}

PATTERN_LABELS = {
    "steady": ("Steady", "Steady writer"),
    "bursty": ("Bursty", "Writes in bursts"),
    "last_minute": ("Last-minute", "Finishes close to the deadline"),
    "heavy_reviser": ("Heavy reviser", "Reworks a lot"),
}


@dataclass(frozen=True)
class Evidence:
    text: str  # the figure, in words: "9 of 14 days with writing"
    href: str | None = None  # the document's history, a day of the timeline (#day-...), the AI-partner log


@dataclass(frozen=True)
class Statement:
    code: str  # "pattern.steady", "state.stalled", "strength.sentence_variety", "ai.independent", ...
    educator: str
    student: str
    evidence: tuple[Evidence, ...] = ()

    def text(self, audience: str) -> str:
        return self.student if audience == "student" else self.educator


@dataclass(frozen=True)
class OpenWork:
    """An assignment of the course as the profile needs it (from the courses service)."""

    assignment_id: uuid.UUID
    title: str
    due_at: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class AiWeek:
    week: date  # the Monday
    words_added: int
    exchanges: int
    per_1000: float | None  # None below AI_MIN_WORDS_WEEK words


@dataclass
class Profile:
    user_id: uuid.UUID
    name: str
    course_id: uuid.UUID
    state: State
    state_statement: Statement
    patterns: list[Statement] = field(default_factory=list)
    strengths: list[Statement] = field(default_factory=list)
    areas: list[Statement] = field(default_factory=list)
    independence: list[Statement] = field(default_factory=list)
    ai_weeks: list[AiWeek] = field(default_factory=list)
    ai_per_1000: float | None = None
    words_added: int = 0
    words_deleted: int = 0
    active_minutes: float = 0.0
    writing_days: int = 0
    last_activity_at: datetime | None = None

    @property
    def pattern_codes(self) -> list[str]:
        return [s.code.removeprefix("pattern.") for s in self.patterns]

    def state_label(self, audience: str) -> str:
        return STATE_LABELS[self.state][1 if audience == "student" else 0]


# ---- helpers -------------------------------------------------------------------------------------------------


def _history(doc: DocumentMetrics) -> str:
    return f"/documents/{doc.document_id}/history"


def _partner_log(doc: DocumentMetrics) -> str:
    return f"/documents/{doc.document_id}/partner"


def day_anchor(day: date) -> str:
    return f"#day-{day.isoformat()}"


def _n(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _main_document(metrics: StudentMetrics) -> DocumentMetrics | None:
    """The document the student wrote most in (style statements read its text)."""
    docs = [d for d in metrics.documents if d.word_count > 0]
    return max(docs, key=lambda d: (d.word_count, d.document_id.int), default=None)


# ---- writing pattern ------------------------------------------------------------------------------------------


def _patterns(metrics: StudentMetrics, work: Sequence[OpenWork], now: datetime) -> list[Statement]:
    days = [d for d in metrics.daily if d.words_added > 0 or d.active_minutes > 0]
    added = sum(d.words_added for d in metrics.daily)
    deleted = sum(d.words_deleted for d in metrics.daily)
    out: list[Statement] = []
    if added < MIN_WORDS_FOR_PATTERN or not days:
        return out
    first, last = days[0].day, days[-1].day
    span = (last - first).days + 1
    top = max(days, key=lambda d: (d.words_added, d.day))
    top_share = top.words_added / added

    # last-minute: most of the words for assignments already due were written on the due day or the day before
    due_days = sorted({w.due_at.date() for w in work if w.due_at is not None and w.due_at <= now})
    late_words = 0
    window_words = 0
    for due in due_days:
        start = due - timedelta(days=LAST_MINUTE_DAYS - 1)
        late_words += sum(d.words_added for d in metrics.daily if start <= d.day <= due)
    if due_days:
        window_words = sum(d.words_added for d in metrics.daily if d.day <= due_days[-1])
    last_minute = window_words >= MIN_WORDS_FOR_PATTERN and late_words / window_words >= LAST_MINUTE_SHARE
    if last_minute:
        share = late_words / window_words
        out.append(
            Statement(
                "pattern.last_minute",
                f"Last-minute: {share:.0%} of the words written for work now due were written on the due day or "
                "the day before.",
                f"You wrote {share:.0%} of your words in the last two days before the deadline. Starting a little "
                "earlier gives you time to revise.",
                (
                    Evidence(
                        f"{_plural(late_words, 'word')} of {window_words:,} in the last {LAST_MINUTE_DAYS} days",
                        day_anchor(due_days[-1]),
                    ),
                ),
            )
        )
    active_share = len(days) / span
    if span >= MIN_SPAN_DAYS and not last_minute:
        if active_share >= STEADY_DAY_SHARE and top_share <= STEADY_MAX_DAY_SHARE:
            out.append(
                Statement(
                    "pattern.steady",
                    f"Steady: wrote on {len(days)} of {span} days; no day holds more than {top_share:.0%} of the "
                    "words.",
                    f"You write regularly: {len(days)} of the last {span} days had some writing. Keep it up.",
                    (Evidence(f"{len(days)} of {span} days with writing", day_anchor(first)),),
                )
            )
        elif top_share >= BURSTY_TOP_DAY_SHARE:
            out.append(
                Statement(
                    "pattern.bursty",
                    f"Bursty: {top_share:.0%} of the words came on one day ({top.day:%d %b}); writing on "
                    f"{len(days)} of {span} days.",
                    f"Much of your writing happens in one go ({top_share:.0%} on {top.day:%d %b}). Shorter, regular "
                    "sessions can make the work feel lighter.",
                    (Evidence(f"{_plural(top.words_added, 'word')} on {top.day:%d %b}", day_anchor(top.day)),),
                )
            )
    if added >= REVISER_MIN_WORDS and deleted / added >= HEAVY_REVISER_RATIO:
        ratio = deleted / added
        doc = _main_document(metrics)
        out.append(
            Statement(
                "pattern.heavy_reviser",
                f"Heavy reviser: deleted {deleted:,} words for {added:,} written ({ratio:.2f} deleted per word "
                "written).",
                f"You rework your writing a lot ({deleted:,} words taken out of {added:,} written). Revising is a "
                "strength; make sure each pass moves the draft forward.",
                (Evidence(f"{deleted:,} deleted / {added:,} added", _history(doc) if doc else None),),
            )
        )
    return out


# ---- current state --------------------------------------------------------------------------------------------


def _state(metrics: StudentMetrics, work: Sequence[OpenWork], now: datetime) -> tuple[State, Statement]:
    submitted = {d.assignment_id for d in metrics.documents if d.submitted_at is not None}
    open_work = [w for w in work if w.assignment_id not in submitted and (w.due_at is None or w.due_at > now)]
    docs = {d.assignment_id: d for d in metrics.documents}
    writing = [d for d in metrics.daily if d.words_added > 0 or d.active_minutes > 0]
    last_day = writing[-1].day if writing else None
    today = now.date()
    if not open_work:
        return State.nothing_open, Statement(
            "state.nothing_open",
            "No open work: every assignment is submitted or past its due date.",
            "You are all caught up: nothing is waiting for you right now.",
        )
    first_open = open_work[0]
    if last_day is None:
        published = min((w.published_at for w in open_work if w.published_at is not None), default=None)
        if published is not None and (now - published).days >= STALLED_DAYS:
            days = (now - published).days
            return State.stalled, Statement(
                "state.stalled.never_started",
                f"Stalled: no writing yet, {days} days after '{first_open.title}' was published.",
                f"'{first_open.title}' is waiting for your first words. Even a few sentences today will help.",
                (Evidence(f"published {days} days ago, 0 words"),),
            )
        return State.not_started, Statement(
            "state.not_started",
            "Not started yet (the work was published recently).",
            "Your assignment is ready when you are.",
        )
    idle = (today - last_day).days
    if idle >= STALLED_DAYS:
        doc = docs.get(first_open.assignment_id)
        return State.stalled, Statement(
            "state.stalled",
            f"Stalled: no writing for {idle} days (last on {last_day:%d %b}) while '{first_open.title}' is open.",
            f"Your last writing was on {last_day:%d %b}. Picking '{first_open.title}' back up for a short session "
            "will get things moving again.",
            (
                Evidence(f"last writing {last_day:%d %b}, {idle} days ago", day_anchor(last_day)),
                *((Evidence("document history", _history(doc)),) if doc else ()),
            ),
        )
    # struggling: behind the stage schedule, spinning (time without net progress), or low-quality reflections
    reasons: list[tuple[str, str, Evidence]] = []
    behind = [
        (d, s)
        for d in metrics.documents
        if d.assignment_id in {w.assignment_id for w in open_work}
        for s in d.stages
        if s.status in ("missed", "behind")
    ]
    if len(behind) >= BEHIND_STAGES:
        labels = ", ".join(s.label for _, s in behind)
        reasons.append(
            (
                f"behind the stage schedule on {len(behind)} stages ({labels})",
                f"a few stages ({labels}) are behind their word targets",
                Evidence(f"{len(behind)} stages missed or behind", _history(behind[0][0])),
            )
        )
    start = today - timedelta(days=RECENT_DAYS - 1)
    recent = [d for d in metrics.daily if d.day >= start]
    minutes = sum(d.active_minutes for d in recent)
    added = sum(d.words_added for d in recent)
    net = sum(d.word_delta for d in recent)
    if minutes >= SPINNING_MIN_MINUTES and added > 0 and net <= SPINNING_NET_SHARE * added:
        reasons.append(
            (
                f"{_n(minutes)} active minutes in the last {RECENT_DAYS} days but a net change of {net:+,} words "
                f"for {added:,} written",
                f"you put in {_n(minutes)} minutes this week, and a lot of it was rewriting the same part",
                Evidence(f"{_n(minutes)} min, {added:,} written, net {net:+,}", day_anchor(recent[-1].day)),
            )
        )
    rstart = today - timedelta(days=REFLECTION_WINDOW_DAYS - 1)
    refl = [
        (d.reflections, d.reflection_mean_total)
        for d in metrics.ai_daily
        if d.day >= rstart and d.reflections and d.reflection_mean_total is not None
    ]
    count = sum(n for n, _ in refl)
    if count >= REFLECTION_MIN:
        mean = sum(n * m for n, m in refl if m is not None) / count
        if mean < LOW_REFLECTION:
            doc = next((d for d in metrics.documents if d.ai.reflections), None)
            reasons.append(
                (
                    f"reflections averaging {mean:.1f}/20 over the last {REFLECTION_WINDOW_DAYS} days ({count} "
                    "reflections)",
                    "your reflections could say more about your own thinking",
                    Evidence(f"{count} reflections, mean {mean:.1f}/20", _partner_log(doc) if doc else None),
                )
            )
    if reasons:
        return State.struggling, Statement(
            "state.struggling",
            "Struggling: " + "; ".join(r[0] for r in reasons) + ".",
            "Worth asking your instructor or a classmate for a hand: " + "; ".join(r[1] for r in reasons) + ".",
            tuple(r[2] for r in reasons),
        )
    days_ago = "today" if idle == 0 else f"{_plural(idle, 'day')} ago"
    return State.progressing, Statement(
        "state.progressing",
        f"Progressing: last wrote {days_ago}; {_plural(added, 'word')} written in the last {RECENT_DAYS} days.",
        f"You are on your way: {_plural(added, 'word')} written in the last {RECENT_DAYS} days.",
        (Evidence(f"last writing {last_day:%d %b}", day_anchor(last_day)),),
    )


# ---- strengths and areas to grow ------------------------------------------------------------------------------


def _one(code: str, educator: str, student: str, figure: str, href: str | None) -> Statement:
    """A statement resting on one figure."""
    return Statement(code, educator, student, (Evidence(figure, href),))


def _strengths_and_areas(metrics: StudentMetrics) -> tuple[list[Statement], list[Statement]]:
    strengths: list[Statement] = []
    areas: list[Statement] = []
    added = sum(d.words_added for d in metrics.daily)
    deleted = sum(d.words_deleted for d in metrics.daily)
    doc = _main_document(metrics)
    if added:
        figure, href = f"{deleted:,} deleted / {added:,} added", _history(doc) if doc else None
        said = f"{deleted:,} words deleted for {added:,} written ({deleted / added:.2f})."
        if added >= REVISER_MIN_WORDS and REVISES_RATIO <= deleted / added < HEAVY_REVISER_RATIO:
            strengths.append(
                _one(
                    "strength.revises",
                    f"Revises own writing: {said}",
                    "You go back and improve what you wrote: that is what good writers do.",
                    figure,
                    href,
                )
            )
        elif added >= LITTLE_REVISION_MIN_WORDS and deleted / added < LITTLE_REVISION_RATIO:
            areas.append(
                _one(
                    "area.little_revision",
                    f"Little revision: {said}",
                    "Try rereading a paragraph and reworking one sentence: revising is where writing gets stronger.",
                    figure,
                    href,
                )
            )
    style = doc.style if doc else None
    if doc is not None and style is not None:
        href = _history(doc)
        variety, mean_len, mtld = style.sentence_length_variety, style.sentence_length_mean, style.mtld
        if variety is not None and style.sentences >= STYLE_MIN_SENTENCES:
            figure = f"variation {variety:.2f}, {style.sentences} sentences"
            over = f"(length variation {variety:.2f} over {style.sentences} sentences)."
            if variety >= VARIED_SENTENCES:
                strengths.append(
                    _one(
                        "strength.sentence_variety",
                        f"Varied sentences {over}",
                        "Your sentences vary in length, which keeps your writing lively.",
                        figure,
                        href,
                    )
                )
            elif variety < UNIFORM_SENTENCES:
                areas.append(
                    _one(
                        "area.sentence_variety",
                        f"Uniform sentence lengths {over}",
                        "Try mixing short and long sentences: it helps your key points stand out.",
                        figure,
                        href,
                    )
                )
        if mean_len is not None and mean_len > LONG_SENTENCES and style.sentences >= STYLE_MIN_SENTENCES:
            areas.append(
                _one(
                    "area.long_sentences",
                    f"Long sentences: {mean_len:.1f} words on average.",
                    f"Your sentences average {mean_len:.0f} words; splitting a few can make your argument easier to "
                    "follow.",
                    f"mean {mean_len:.1f} words per sentence",
                    href,
                )
            )
        if mtld is not None and style.words >= STYLE_MIN_WORDS:
            figure = f"MTLD {mtld:.0f} over {style.words:,} words"
            if mtld >= RICH_VOCABULARY_MTLD:
                strengths.append(
                    _one(
                        "strength.vocabulary",
                        f"Wide vocabulary (MTLD {mtld:.0f}).",
                        "You use a wide range of words.",
                        figure,
                        href,
                    )
                )
            elif mtld < NARROW_VOCABULARY_MTLD:
                areas.append(
                    _one(
                        "area.vocabulary",
                        f"Narrow vocabulary (MTLD {mtld:.0f}): many repeated words.",
                        "Look for words you repeat often and try a more precise one now and then.",
                        figure,
                        href,
                    )
                )
        if style.words >= ONE_BLOCK_MIN_WORDS and style.paragraphs <= 1:
            areas.append(
                _one(
                    "area.paragraphs",
                    f"One block of text: {style.words:,} words in a single paragraph.",
                    "Breaking your text into paragraphs, one idea each, helps your reader follow you.",
                    f"{style.words:,} words, {style.paragraphs} paragraph",
                    href,
                )
            )
    # reflections over the whole course (gamed ones do not count)
    counted = [
        (d.ai.reflections - d.ai.gamed_reflections, d.ai.reflection_mean_total, d)
        for d in metrics.documents
        if d.ai.reflection_mean_total is not None and d.ai.reflections - d.ai.gamed_reflections > 0
    ]
    total = sum(n for n, _, _ in counted)
    if total >= REFLECTION_MIN:
        mean = sum(n * (m or 0) for n, m, _ in counted) / total
        figure, href = f"{total} reflections, mean {mean:.1f}/20", _partner_log(counted[0][2])
        if mean >= GOOD_REFLECTION:
            strengths.append(
                _one(
                    "strength.reflection",
                    f"Thoughtful reflections: mean {mean:.1f}/20 over {total} reflections.",
                    "Your reflections show real thinking about your own writing.",
                    figure,
                    href,
                )
            )
        elif mean < LOW_REFLECTION:
            areas.append(
                _one(
                    "area.reflection",
                    f"Thin reflections: mean {mean:.1f}/20 over {total} reflections.",
                    "When you reflect, say what you tried, what is not working yet and what you will change: it "
                    "unlocks more help from your writing partner.",
                    figure,
                    href,
                )
            )
    return strengths, areas


# ---- independence from the AI partner ------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def ai_weeks(metrics: StudentMetrics) -> list[AiWeek]:
    words: dict[date, int] = defaultdict(int)
    asks: dict[date, int] = defaultdict(int)
    for d in metrics.daily:
        words[_monday(d.day)] += d.words_added
    for a in metrics.ai_daily:
        asks[_monday(a.day)] += a.exchanges
    weeks = sorted(set(words) | set(asks))
    if not weeks:
        return []
    out = []
    week = weeks[0]
    while week <= weeks[-1]:
        w, e = words.get(week, 0), asks.get(week, 0)
        out.append(AiWeek(week, w, e, e * 1000 / w if w >= AI_MIN_WORDS_WEEK else None))
        week += timedelta(days=7)
    return out


def _independence(metrics: StudentMetrics, weeks: list[AiWeek]) -> tuple[list[Statement], float | None]:
    added = sum(d.words_added for d in metrics.daily)
    exchanges = sum(a.exchanges for a in metrics.ai_daily)
    doc = next((d for d in metrics.documents if d.ai.exchanges), None)
    log = _partner_log(doc) if doc else None
    rate = exchanges * 1000 / added if added >= AI_MIN_WORDS_WEEK else None
    out: list[Statement] = []
    if rate is None:
        return out, None
    if exchanges == 0:
        out.append(
            Statement(
                "ai.none",
                f"Writes without the AI partner: no exchanges for {added:,} words written.",
                "You have been writing on your own; the writing partner is there if you want questions to think with.",
                (Evidence(f"0 exchanges, {added:,} words"),),
            )
        )
        return out, 0.0
    evidence = Evidence(f"{exchanges} exchanges for {added:,} words ({rate:.1f} per 1,000)", log)
    if rate >= HEAVY_AI_PER_1000:
        out.append(
            Statement(
                "ai.heavy",
                f"Relies heavily on the AI partner: {rate:.1f} exchanges per 1,000 words written (threshold "
                f"{HEAVY_AI_PER_1000:.0f}).",
                "You ask your writing partner often. Try drafting a paragraph on your own first, then ask about it.",
                (evidence,),
            )
        )
    rated = [w.per_1000 for w in weeks if w.per_1000 is not None]
    if len(rated) >= 2:
        half = len(rated) // 2
        early = sum(rated[:half]) / half
        late = sum(rated[-half:]) / half
        if early > 0 and late / early <= AI_TREND_DOWN:
            out.append(
                Statement(
                    "ai.more_independent",
                    f"Growing independence: exchanges per 1,000 words fell from {early:.1f} to {late:.1f}.",
                    f"You are relying less on your writing partner over time ({early:.1f} → {late:.1f} questions per "
                    "1,000 words). Nice.",
                    (evidence,),
                )
            )
        elif (early == 0 and late > 0) or (early > 0 and late / early >= AI_TREND_UP):
            out.append(
                Statement(
                    "ai.relying_more",
                    f"Relying more on the AI partner: exchanges per 1,000 words rose from {early:.1f} to {late:.1f}.",
                    f"You have been asking your writing partner more lately ({early:.1f} → {late:.1f} per 1,000 "
                    "words). Try a first attempt on your own before asking.",
                    (evidence,),
                )
            )
    levels: dict[str, int] = defaultdict(int)
    for d in metrics.documents:
        for level, n in d.ai.levels.items():
            levels[level] += n
    if levels:
        mix = ", ".join(f"{level} {n}" for level, n in sorted(levels.items(), key=lambda kv: -kv[1]))
        last = next((d.ai.last_level for d in reversed(metrics.documents) if d.ai.last_level), None)
        out.append(
            Statement(
                "ai.levels",
                f"Reflection-gated levels of the exchanges: {mix}; latest level {last or '—'}.",
                f"Your reflections have unlocked the '{last or 'basic'}' level of help.",
                (Evidence(f"levels: {mix}", log),),
            )
        )
    return out, rate


# ---- the profile ------------------------------------------------------------------------------------------------


def build_profile(metrics: StudentMetrics, work: Sequence[OpenWork], now: datetime) -> Profile:
    """The profile from a student's figures in one course and the course's assignments, as of ``now``."""
    state, statement = _state(metrics, work, now)
    strengths, areas = _strengths_and_areas(metrics)
    patterns = _patterns(metrics, work, now)
    if any(p.code == "pattern.steady" for p in patterns):
        strengths.insert(
            0,
            Statement(
                "strength.habit",
                "Regular writing habit (see pattern).",
                "You have a regular writing habit.",
                patterns[0].evidence,
            ),
        )
    if any(p.code == "pattern.last_minute" for p in patterns):
        areas.insert(
            0,
            Statement(
                "area.start_earlier",
                "Starts late: most words come just before the due date (see pattern).",
                "Starting a few days earlier leaves room to revise.",
                next(p.evidence for p in patterns if p.code == "pattern.last_minute"),
            ),
        )
    weeks = ai_weeks(metrics)
    independence, rate = _independence(metrics, weeks)
    writing = [d for d in metrics.daily if d.words_added > 0 or d.active_minutes > 0]
    last_at = max((d.last_activity_at for d in metrics.documents if d.last_activity_at), default=None)
    return Profile(
        user_id=metrics.user_id,
        name=metrics.name,
        course_id=metrics.course_id,
        state=state,
        state_statement=statement,
        patterns=patterns,
        strengths=strengths,
        areas=areas,
        independence=independence,
        ai_weeks=weeks,
        ai_per_1000=None if rate is None else round(rate, 1),
        words_added=metrics.words_added,
        words_deleted=metrics.words_deleted,
        active_minutes=metrics.active_minutes,
        writing_days=len(writing),
        last_activity_at=last_at,
    )


# ---- service ------------------------------------------------------------------------------------------------------


class ProfileService:
    """Profiles through the analytics service, which checks access (a student: their own; the course's staff
    and the institution's admins: everyone in it; anyone else: 404) and audits reads of another person's
    figures."""

    async def _work(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> list[OpenWork]:
        assignments = await assignment_service.list_for_course(session, ctx, course_id)
        return [
            OpenWork(
                a.id,
                a.title,
                clock.as_utc(a.due_at) if a.due_at else None,
                clock.as_utc(a.published_at) if a.published_at else None,
            )
            for a in assignments
            if a.published_at is not None
        ]

    async def student_profile(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
        now: datetime | None = None,
    ) -> tuple[Profile, StudentMetrics]:
        metrics = await analytics_service.student_metrics(session, ctx, course_id, user_id, audit_session=audit_session)
        work = await self._work(session, ctx, course_id)
        return build_profile(metrics, work, now or clock.utcnow()), metrics

    async def course_profiles(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
        now: datetime | None = None,
    ) -> tuple[CourseMetrics, dict[uuid.UUID, Profile]]:
        """The course's figures (staff only) and every student's profile, keyed by user id.

        Read-only on ``session``: nothing is caught up here (the catch-up job folds new batches every 30 s, and a
        student's own page catches that student up), so a large class holds no database writer while it is
        computed. The class view is audited once, by the course figures read last (a caller who is not the
        course's staff gets 404 there, and a student asking for anyone else's figures before that)."""
        work = await self._work(session, ctx, course_id)
        at = now or clock.utcnow()
        out: dict[uuid.UUID, Profile] = {}
        for m in await course_service.list_members(session, ctx, course_id):
            if m.role != CourseRole.student:
                continue
            metrics = await analytics_service.student_metrics(session, ctx, course_id, m.user_id)
            out[m.user_id] = build_profile(metrics, work, at)
        course = await analytics_service.course_metrics(session, ctx, course_id, audit_session=audit_session)
        return course, out


profiles = ProfileService()
