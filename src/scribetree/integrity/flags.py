"""Flags with published thresholds, computed from :class:`~scribetree.integrity.evidence.Evidence`.

A flag is an observation about the writing *process* that an educator may want to look at, with the measured
value, the threshold it crossed, links to the evidence and what would clear it. It never claims who or what
wrote the text. Assistive input (IME composition, dictation, autocorrect, drag and drop) counts as typing:
no flag reads it as pasting. Thresholds are the constants below and are published in ``docs/integrity.md``;
``tests/integrity/test_flags.py`` checks the two agree, and ``integrity/simulate.py`` measures their
detection and false-positive rates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scribetree.integrity.evidence import ASSISTIVE, EXTERNAL, LARGE_INSERT, Evidence

# Published thresholds (docs/integrity.md, "Flags").
MIN_WORDS = 150  # no flag on texts shorter than this: too little to read a process from
EXTERNAL_SHARE = 0.30  # share of the final text pasted from outside this document
LARGE_PASTE_CHARS = 300  # one outside paste of which this many characters are in the final text
RETYPING_REVISION_RATIO = 1.08  # typed ÷ final at or below this ...
RETYPING_LINEARITY = 0.95  # ... with this share of the text written at its end ...
RETYPING_PAUSES_PER_100_WORDS = 4.0  # ... and fewer pauses (≥ 2 s) than this per 100 words
RHYTHM_MIN_KEYSTROKES = 500  # the rhythm flag needs this many timed keystrokes
RHYTHM_WORD_START_RATIO = 1.12  # word-initial keystrokes are no slower than within-word ones ...
RHYTHM_LOG_SD = 0.42  # ... and intervals vary less than this (SD of log intervals)
FOCUS_INSERT_CHARS = 2 * LARGE_INSERT  # characters of one insertion right after the writer came back
FAST_MINUTES_PER_100_WORDS = 1.5  # active minutes per 100 final words below this


@dataclass
class Flag:
    code: str
    title: str
    measured: float | int | None
    threshold: float | int
    comparison: str  # how measured relates to threshold when the flag is raised: ">=", "<=", "<"
    explanation: str
    clears: str  # what would clear it
    evidence: list[dict[str, Any]] = field(default_factory=list)  # [{"kind": "paste"|"moment", ...}]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FLAG_CODES = (
    "external_paste_share",
    "large_external_paste",
    "retyping_pattern",
    "uniform_rhythm",
    "focus_loss_large_insert",
    "fast_for_length",
)


def evaluate(ev: Evidence) -> list[Flag]:
    """The flags ``ev`` raises (an empty list for most submissions)."""
    if ev.final_words < MIN_WORDS or not ev.consistent:
        return []
    flags: list[Flag] = []
    p = ev.process
    external = [x for x in ev.pastes if x.kind == EXTERNAL and x.remaining]
    share = ev.composition_share.get(EXTERNAL, 0.0)
    if share >= EXTERNAL_SHARE:
        flags.append(
            Flag(
                code="external_paste_share",
                title="Much of the final text was pasted from outside",
                measured=round(share, 3),
                threshold=EXTERNAL_SHARE,
                comparison=">=",
                explanation=(
                    f"{share:.0%} of the final text arrived by pasting text that had not appeared in this document "
                    f"({len(external)} paste(s)). Assistive input (voice typing, IME, autocorrect) is not counted."
                ),
                clears=(
                    "The pasted passages are quotations with citations, or text the student wrote themselves "
                    "elsewhere (an earlier draft, notes) and can show; the student can say so in a response."
                ),
                evidence=[_paste_ref(x) for x in external],
            )
        )
    big = [x for x in external if x.remaining >= LARGE_PASTE_CHARS]
    if big:
        flags.append(
            Flag(
                code="large_external_paste",
                title="A long passage was pasted from outside",
                measured=max(x.remaining for x in big),
                threshold=LARGE_PASTE_CHARS,
                comparison=">=",
                explanation=(
                    f"{len(big)} paste(s) from outside left {LARGE_PASTE_CHARS} or more characters in the final "
                    "text (the longest is measured)."
                ),
                clears="The passage is a marked quotation with its source, or the student's own earlier writing.",
                evidence=[_paste_ref(x) for x in big],
            )
        )
    ratio, lin, ppw = p.get("revision_ratio"), p.get("linearity"), p.get("pauses_per_100_words")
    typed_share = ev.composition_share.get("typed", 0.0) + ev.composition_share.get(ASSISTIVE, 0.0)
    if (
        ratio is not None
        and lin is not None
        and ppw is not None
        and typed_share >= 0.8
        and ratio <= RETYPING_REVISION_RATIO
        and lin >= RETYPING_LINEARITY
        and ppw < RETYPING_PAUSES_PER_100_WORDS
    ):
        flags.append(
            Flag(
                code="retyping_pattern",
                title="Typed start to finish with almost no revision or pauses",
                measured=ratio,
                threshold=RETYPING_REVISION_RATIO,
                comparison="<=",
                explanation=(
                    f"Typed ÷ final characters is {ratio} (at most {RETYPING_REVISION_RATIO}), {lin:.0%} of the text "
                    f"was written at its end (at least {RETYPING_LINEARITY:.0%}) and there were {ppw} pauses of "
                    f"2 s or more per 100 words (fewer than {RETYPING_PAUSES_PER_100_WORDS}). That is how text "
                    "looks when it is copied by typing from another source."
                ),
                clears=(
                    "Earlier drafts or notes (on paper or elsewhere) the student typed up, or a conversation in which "
                    "the student explains the text's ideas and choices."
                ),
                evidence=_session_refs(p),
            )
        )
    r = ev.rhythm
    if (
        r.get("keystrokes", 0) >= RHYTHM_MIN_KEYSTROKES
        and r.get("word_start_ratio") is not None
        and r["word_start_ratio"] < RHYTHM_WORD_START_RATIO
        and r["log_interval_sd"] < RHYTHM_LOG_SD
    ):
        flags.append(
            Flag(
                code="uniform_rhythm",
                title="Keystroke rhythm unlike human typing",
                measured=r["word_start_ratio"],
                threshold=RHYTHM_WORD_START_RATIO,
                comparison="<",
                explanation=(
                    f"People type the first letter of a word more slowly than the letters inside it; here the ratio "
                    f"is {r['word_start_ratio']} (below {RHYTHM_WORD_START_RATIO}), and intervals between keys vary "
                    f"little (SD of log intervals {r['log_interval_sd']}, below {RHYTHM_LOG_SD}), over "
                    f"{r['keystrokes']} keystrokes. Automatic typing tools produce this pattern."
                ),
                clears=(
                    "A typing aid or accessibility tool that types for the student (it should be named in a response), "
                    "or writing the next piece of work with a comparable rhythm in a supervised setting."
                ),
                evidence=_session_refs(p),
            )
        )
    focus = [x for x in ev.pastes if x.after_focus_loss and x.kind != ASSISTIVE and x.size >= FOCUS_INSERT_CHARS]
    if focus:
        flags.append(
            Flag(
                code="focus_loss_large_insert",
                title="Large insertion right after leaving the page",
                measured=max(x.size for x in focus),
                threshold=FOCUS_INSERT_CHARS,
                comparison=">=",
                explanation=(
                    f"{len(focus)} time(s) the writer left the page and, within a minute of coming back, "
                    f"{FOCUS_INSERT_CHARS} or more characters were inserted at once."
                ),
                clears="The inserted text was the student's own (notes, an earlier draft) or a cited quotation.",
                evidence=[_paste_ref(x) for x in focus],
            )
        )
    mpw = p.get("active_minutes_per_100_words")
    if mpw is not None and mpw < FAST_MINUTES_PER_100_WORDS:
        flags.append(
            Flag(
                code="fast_for_length",
                title="Little writing time for the length",
                measured=mpw,
                threshold=FAST_MINUTES_PER_100_WORDS,
                comparison="<",
                explanation=(
                    f"{p['active_seconds'] // 60} active minutes for {ev.final_words} words: {mpw} minutes per "
                    f"100 words (below {FAST_MINUTES_PER_100_WORDS}). Time spent writing elsewhere is not seen."
                ),
                clears="Drafts or notes written elsewhere (the student can say so), or pastes explained above.",
                evidence=_session_refs(p),
            )
        )
    return flags


def _paste_ref(x: Any) -> dict[str, Any]:
    return {
        "kind": "paste",
        "paste": x.id,
        "t": x.t,
        "size": x.size,
        "remaining": x.remaining,
        "spans": [list(s) for s in x.spans],
    }


def _session_refs(p: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"kind": "moment", "t": start, "until": end} for start, end in p.get("session_spans", [])[:20]]
