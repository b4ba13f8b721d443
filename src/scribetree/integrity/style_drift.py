"""Style drift: a submission's style against the same student's earlier submissions on the platform.

An observation, never an accusation: style moves with genre, topic, time and growth. The report says what was
measured and what the student's own baseline is ("sentences average 31 words here; 14 ± 3 in your earlier
writing"), and it says nothing at all without enough earlier writing (``MIN_EARLIER`` texts of ``MIN_WORDS``
words). Group work has no single author's baseline and is not compared.

Measures (``analytics.style`` for sentence length, variety, MTLD and word length; the function-word profile
here):

- **sentence length** (mean words per sentence), **sentence variety** (sd / mean of sentence lengths),
  **vocabulary diversity** (MTLD, McCarthy & Jarvis 2010; independent of text length, unlike type-token
  ratio), **word length** (syllables per word). A measure *shifts* when it lies more than ``Z_SHIFT`` spreads
  from the baseline mean *and* differs from it by more than ``REL_SHIFT`` of the mean. The spread is the
  baseline's standard deviation, but at least ``SPREAD_FLOOR`` of the mean (two or three earlier texts can
  agree by chance).
- **function-word profile**: relative frequencies of ~100 English function words (``FUNCTION_WORDS``),
  compared by Burrows' delta (mean absolute z-score against the earlier texts, spread floored as above) and by
  cosine similarity. It *shifts* when the delta exceeds ``DELTA_SHIFT`` and is more than ``DELTA_RATIO`` times
  the largest delta of an earlier text against the same baseline.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics import style
from scribetree.core import audit
from scribetree.integrity.similarity import readable, viewed_entry
from scribetree.integrity.similarity_schemas import StyleDriftRead, StyleMeasure
from scribetree.tenancy.context import AuthContext

MIN_EARLIER = 2  # earlier texts needed
MIN_WORDS = 300  # words an earlier text needs to count
MIN_TARGET_WORDS = 150  # below this the submission's own measures are too noisy
MAX_EARLIER = 10  # the most recent earlier texts used
Z_SHIFT = 3.0
REL_SHIFT = 0.35
SPREAD_FLOOR = 0.15
FW_SPREAD_FLOOR = 0.3  # of a function word's mean frequency
FW_ABS_FLOOR = 0.002  # two per thousand words
DELTA_SHIFT = 1.5
DELTA_RATIO = 1.5

_FUNCTION_WORDS_TEXT = (
    "a about above after again against all also although am among an and another any are as at be because been "
    "before being below between both but by can could did do does doing down during each either enough even "
    "every few for from further had has have having he her here hers him his how however i if in into is it its "
    "itself just may me might more most much must my neither no nor not of off on once one only or other our out "
    "over own same she should since so some such than that the their them then there these they this those "
    "though through thus to too under until up upon us very was we were what when where whether which while who "
    "whom whose why will with within without would yet you your"
)
FUNCTION_WORDS: tuple[str, ...] = tuple(_FUNCTION_WORDS_TEXT.split(" "))


@dataclass(frozen=True)
class _Scalar:
    name: str
    label: str
    unit: str
    digits: int


_SCALARS = (
    _Scalar("sentence_length_mean", "sentence length", " words", 1),
    _Scalar("sentence_length_variety", "sentence variety (spread ÷ mean of sentence lengths)", "", 2),
    _Scalar("mtld", "vocabulary diversity (MTLD)", "", 0),
    _Scalar("syllables_per_word", "word length", " syllables per word", 2),
)


def profile(words: Sequence[str]) -> list[float]:
    """Relative frequency of each of ``FUNCTION_WORDS`` among ``words``."""
    counts = Counter(w.lower() for w in words)
    n = max(1, len(words))
    return [counts[f] / n for f in FUNCTION_WORDS]


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def burrows_delta(target: Sequence[float], baseline: Sequence[Sequence[float]]) -> float:
    """Mean absolute z-score of ``target``'s function-word frequencies against ``baseline`` (floored spreads)."""
    total = 0.0
    for i, value in enumerate(target):
        mean, sd = _mean_sd([b[i] for b in baseline])
        total += abs(value - mean) / max(sd, FW_SPREAD_FLOOR * mean, FW_ABS_FLOOR)
    return total / len(target)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / (na * nb) if na and nb else 0.0


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def compare(text: str, earlier: Sequence[str], whose: str = "your") -> dict[str, object]:
    """The comparison itself (pure): measures, deltas and observations for ``text`` against ``earlier``."""
    now = style.measure(text)
    before = [style.measure(t) for t in earlier]
    measures: list[StyleMeasure] = []
    observations: list[str] = []
    for s in _SCALARS:
        value = getattr(now, s.name)
        base = [v for v in (getattr(b, s.name) for b in before) if v is not None]
        if value is None or len(base) < MIN_EARLIER:
            continue
        mean, sd = _mean_sd(base)
        spread = max(sd, SPREAD_FLOOR * abs(mean))
        z = (value - mean) / spread if spread else None
        shifted = z is not None and abs(z) >= Z_SHIFT and abs(value - mean) >= REL_SHIFT * abs(mean)
        said = (
            f"{s.label.capitalize()}: {_fmt(value, s.digits)}{s.unit} here; "
            f"{_fmt(mean, s.digits)} ± {_fmt(sd, s.digits)} in {whose} earlier writing ({len(base)} texts)."
        )
        measures.append(
            StyleMeasure(
                name=s.name,
                label=s.label,
                value=round(value, 3),
                baseline_mean=round(mean, 3),
                baseline_sd=round(sd, 3),
                z=round(z, 2) if z is not None else None,
                shifted=shifted,
                observation=said,
            )
        )
        if shifted:
            observations.append(said)
    target_profile = profile(style.words(text))
    earlier_profiles = [profile(style.words(t)) for t in earlier]
    delta = burrows_delta(target_profile, earlier_profiles)
    own = max(burrows_delta(p, earlier_profiles) for p in earlier_profiles)
    mean_profile = [sum(col) / len(col) for col in zip(*earlier_profiles, strict=True)]
    cos = cosine(target_profile, mean_profile)
    fw_shifted = delta > DELTA_SHIFT and delta > DELTA_RATIO * own
    said = (
        f"Function-word profile: distance {delta:.2f} from {whose} earlier writing (the earlier texts themselves "
        f"lie within {own:.2f} of it); cosine similarity {cos:.2f}."
    )
    measures.append(
        StyleMeasure(
            name="function_word_delta",
            label="function-word profile (Burrows' delta)",
            value=round(delta, 3),
            baseline_mean=round(own, 3),
            baseline_sd=0.0,
            z=None,
            shifted=fw_shifted,
            observation=said,
        )
    )
    if fw_shifted:
        observations.append(said)
    return {
        "words": now.words,
        "measures": measures,
        "delta": round(delta, 3),
        "cosine": round(cos, 3),
        "observations": observations,
    }


NOTE = (
    "Style changes for many reasons: a different kind of assignment, a new topic, feedback taken on board, "
    "growing as a writer. This is an observation to talk about, not a finding."
)


async def style_drift(
    session: AsyncSession,
    ctx: AuthContext,
    submission_id: uuid.UUID,
    *,
    audit_session: AsyncSession | None = None,
) -> StyleDriftRead:
    """The style comparison of one submission with its author's earlier submissions (404 ``SubmissionNotFound``
    for anyone who may not read it; a staff member's view is audited through ``audit_session``)."""
    repo, me, da = await readable(session, ctx, submission_id)
    if da.is_staff and audit_session is not None:
        await audit.record(audit_session, viewed_entry(ctx, me, "style_drift"))
    words = len(style.words(me.text))

    def empty(status: str, message: str, earlier: int = 0, earlier_words: int = 0) -> StyleDriftRead:
        return StyleDriftRead(
            submission_id=submission_id,
            status=status,  # type: ignore[arg-type]
            message=message,
            words=words,
            earlier_texts=earlier,
            earlier_words=earlier_words,
            measures=[],
            function_word_distance=None,
            function_word_cosine=None,
            observations=[],
        )

    if me.author_user_id is None:
        return empty("not_applicable", "Group work has no single author's earlier writing to compare with.")
    candidates = await repo.earlier_of_author(me.author_user_id, me.submitted_at, MAX_EARLIER * 3)
    earlier = [s.text for s in candidates if s.document_id != me.document_id]
    earlier = [t for t in earlier if len(style.words(t)) >= MIN_WORDS][:MAX_EARLIER]
    earlier_words = sum(len(style.words(t)) for t in earlier)
    if len(earlier) < MIN_EARLIER:
        return empty(
            "not_enough_earlier_writing",
            f"Not enough earlier writing: style is compared with at least {MIN_EARLIER} earlier submissions of "
            f"{MIN_WORDS} words or more on Scribe Tree ({len(earlier)} so far).",
            len(earlier),
            earlier_words,
        )
    if words < MIN_TARGET_WORDS:
        return empty(
            "too_short",
            f"This submission has {words} words; style is compared from {MIN_TARGET_WORDS} words.",
            len(earlier),
            earlier_words,
        )
    whose = "the student's" if da.is_staff else "your"
    result = compare(me.text, earlier, whose)
    observations: list[str] = result["observations"]  # type: ignore[assignment]
    message = (
        f"{len(observations)} large shift(s) from {whose} earlier writing. {NOTE}"
        if observations
        else f"No large shift from {whose} earlier writing."
    )
    return StyleDriftRead(
        submission_id=submission_id,
        status="ok",
        message=message,
        words=words,
        earlier_texts=len(earlier),
        earlier_words=earlier_words,
        measures=result["measures"],  # type: ignore[arg-type]
        function_word_distance=result["delta"],  # type: ignore[arg-type]
        function_word_cosine=result["cosine"],  # type: ignore[arg-type]
        observations=observations,
    )


async def report_section(session: AsyncSession, ctx: AuthContext, report: Any) -> dict[str, Any] | None:
    """The style-drift section of the integrity report (``integrity.service.SECTION_MODULES``), for a submitted
    report only. The report's own view is audited by the integrity service."""
    if getattr(report, "submission_id", None) is None:
        return None
    return (await style_drift(session, ctx, report.submission_id)).model_dump(mode="json")
