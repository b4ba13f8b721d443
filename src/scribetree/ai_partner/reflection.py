"""Reflection scoring: deterministic, explained, and hard to game (docs/ai-partner.md, "Scoring").

Five dimensions, each 0-4 with the reason in plain words and how to improve:

- ``depth``: reasoning links (because, so, therefore, which means, ...), counted, capped by length;
- ``self_awareness``: families of self-observation (gaps, assumptions, own process, struggle);
- ``critical_engagement``: families of critical moves (alternatives, counter-arguments, weighing evidence,
  questioning);
- ``growth``: families of forward-looking moves (a plan, a concrete change, learning, a goal);
- ``specificity``: distinct content words shared with the student's own draft (or, with no draft yet, with the
  assignment's instructions), plus a quoted phrase that really is in the draft.

Authenticity flags (any of those marked *voids* makes the reflection count as gamed: it never raises the level
and does not open the gate): generic filler*, near-duplicate of an earlier reflection* (word 3-shingles,
Jaccard >= 0.6), pasted rather than typed* (client-reported paste share > 50%), implausible speed* (typed
characters per second above a fast typist's sustained rate), copied from the draft* (most of it is the
draft's own sentences), repetitive* (few distinct words), keyword stuffing* (the cue words the score counts,
strung together), too short (below the educator's minimum; not
gamed, just not enough).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DIMENSIONS = ("depth", "self_awareness", "critical_engagement", "growth", "specificity")
DIMENSION_LABELS = {
    "depth": "Depth of reasoning",
    "self_awareness": "Self-awareness",
    "critical_engagement": "Critical engagement",
    "growth": "Growth orientation",
    "specificity": "Specific to your draft",
}
MAX_SCORE = 4 * len(DIMENSIONS)  # 20

DUPLICATE_JACCARD = 0.6  # word 3-shingles shared with an earlier reflection
PASTED_SHARE = 0.5  # more than half of the characters pasted
MAX_TYPED_CHARS_PER_SECOND = 12.0  # ~140 words a minute, sustained: beyond a fast typist composing thoughts
MIN_SECONDS_CHECKED = 1  # below this the client sent nothing useful; speed is then checked against 1 s
COPIED_FROM_DRAFT_SHARE = 0.5  # share of the reflection's 5-word shingles found in the draft
REPETITIVE_TYPE_TOKEN = 0.3  # distinct words / words, for reflections of 20+ words
STUFFING_SHARE = 0.4  # scoring cue words per word: a list of cue words is not a reflection

_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ']+")
_STOP = """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
    now of off on once only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves think thing things
    really like want make made get got going one much many way well even still maybe something
    essay paper write writing draft think know"""
STOPWORDS = frozenset(_STOP.split())

# Each family is (name shown in the reason, pattern). Patterns are matched case-insensitively on the text.
_DEPTH_LINKS = re.compile(
    r"\b(because|therefore|thus|hence|since|so that|as a result|which means|this means|that means|"
    r"that is why|that's why|which is why|otherwise|consequently|in order to|leads? to|so i)\b",
    re.I,
)
_SELF_AWARENESS = (
    (
        "noticing a gap",
        re.compile(
            r"\b(i (?:do not|don't|didn't|did not) (?:know|understand)|unsure|not sure|"
            r"confus\w*|missing|gap in|i lack)\b",
            re.I,
        ),
    ),
    (
        "questioning your assumptions",
        re.compile(
            r"\b(i assumed|i had assumed|i reali[sz]ed|i thought .{0,40}\bbut\b|"
            r"i reconsidered|i was wrong|i took for granted)",
            re.I,
        ),
    ),
    (
        "describing your own process",
        re.compile(
            r"\b(i tend to|my process|my approach|when i write|how i|"
            r"i usually|i started by|i often)\b",
            re.I,
        ),
    ),
    ("naming a struggle", re.compile(r"\b(struggl\w*|difficult|hard for me|challenging|trouble with|stuck)\b", re.I)),
)
_CRITICAL = (
    (
        "weighing an alternative",
        re.compile(
            r"\b(instead|alternativ\w*|another way|on the other hand|"
            r"a different approach|could also|rather than)\b",
            re.I,
        ),
    ),
    (
        "answering a counter-argument",
        re.compile(
            r"\b(however|although|counter\w*|critics?|opponents?|"
            r"someone (?:might|could) (?:argue|say)|objection|disagree)\b",
            re.I,
        ),
    ),
    (
        "judging evidence",
        re.compile(
            r"\b(evidence|sources?|reliable|convincing|stronger|weaker|data|statistic\w*|"
            r"support(?:s|ed)? (?:my|the) (?:claim|point|argument))\b",
            re.I,
        ),
    ),
    ("asking questions of your own", re.compile(r"(\?|\bwhether\b|\bi wonder\b|\bi question\b)", re.I)),
)
_GROWTH = (
    (
        "a plan for what comes next",
        re.compile(
            r"\b(next,? i|i will|i'll|i plan to|i am going to|i'm going to|"
            r"next time|my next step)\b",
            re.I,
        ),
    ),
    (
        "a concrete change to your text",
        re.compile(
            r"\b(chang\w*|revis\w*|rewrit\w*|restructur\w*|reorder\w*|"
            r"add(?:ing)?|cut(?:ting)?|mov(?:e|ing)|expand\w*|"
            r"delet\w*)\b",
            re.I,
        ),
    ),
    ("what you are learning", re.compile(r"\b(learn\w*|understand\w*|improv\w*|practi[cs]\w*|develop\w*)\b", re.I)),
    ("a goal", re.compile(r"\b(goal|aim|want to|hope to|try to|so that my)\b", re.I)),
)
_FILLER = re.compile(
    r"(this was (?:very |really )?(?:helpful|useful|good|great|interesting)|"
    r"the (?:ai|questions?|partner) (?:helped|made) me (?:think|realise|realize|understand)|"
    r"i learned a lot|it made me think|very (?:helpful|useful|interesting)|"
    r"i (?:think|thought) it (?:is|was) (?:good|fine|ok|okay)|overall it (?:is|was) good|"
    r"nothing (?:else )?to (?:add|say)|i have no (?:idea|comment)s?|no comment|"
    r"lorem ipsum|asdf|blah|\[insert[^\]]*\]|\betc\.? etc|"
    r"in conclusion,? this (?:reflection|exercise)|i am reflecting on my reflection)",
    re.I,
)
_QUOTES = "\"'\u2018\u2019\u201c\u201d"
_QUOTE = re.compile(f"[{_QUOTES}]([^{_QUOTES}]{{8,200}})[{_QUOTES}]")


@dataclass(frozen=True)
class DimensionScore:
    score: int  # 0-4
    reason: str  # why, in plain words
    improve: str  # how to do better ("" at 4)


@dataclass(frozen=True)
class Flag:
    code: str  # generic_filler | near_duplicate | pasted | implausible_speed | copied_from_draft | repetitive
    #            | keyword_stuffing | too_short
    message: str
    voids: bool  # a gaming signal: the reflection never raises the level and does not open the gate


@dataclass(frozen=True)
class Scored:
    scores: dict[str, DimensionScore]
    flags: tuple[Flag, ...]
    total: int  # 0-20
    word_count: int
    typed_ratio: float
    gamed: bool
    accepted: bool  # enough words and not gamed: it counts for the gate
    summary: str

    def scores_json(self) -> dict[str, dict[str, object]]:
        return {
            k: {"score": v.score, "reason": v.reason, "improve": v.improve, "label": DIMENSION_LABELS[k]}
            for k, v in self.scores.items()
        }

    def flags_json(self) -> list[dict[str, object]]:
        return [{"code": f.code, "message": f.message, "voids": f.voids} for f in self.flags]


@dataclass(frozen=True)
class ReflectionInput:
    text: str
    seconds_spent: int
    pasted_chars: int
    min_words: int
    draft: str = ""
    instructions: str = ""
    earlier: Sequence[str] = field(default_factory=tuple)  # the student's earlier reflections, newest first


def words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(text) if w.strip("'")]


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if len(w) >= 4 and w not in STOPWORDS}


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    ws = words(text)
    if len(ws) < n:
        return {tuple(ws)} if ws else set()
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _families(text: str, families: Iterable[tuple[str, re.Pattern[str]]]) -> list[str]:
    return [name for name, pattern in families if pattern.search(text)]


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _depth(text: str, n_words: int) -> DimensionScore:
    links = len(_DEPTH_LINKS.findall(text))
    score = 0 if links == 0 else 1 if links == 1 else 2 if links == 2 else 3 if links <= 4 else 4
    capped = False
    if n_words < 40 and score > 2:
        score, capped = 2, True
    if links == 0:
        reason = "You say what you think, but not why: no reasoning words such as 'because', 'so' or 'which means'."
    else:
        reason = f"You link ideas to their reasons {links} time{'s' if links != 1 else ''} ('because', 'so', ...)."
    if capped:
        reason += " The reflection is short, so the score is capped at 2."
    improve = "" if score == 4 else "Explain why: follow a statement about your draft with 'because ...' or 'so ...'."
    return DimensionScore(score, reason, improve)


def _family_score(text: str, families: tuple[tuple[str, re.Pattern[str]], ...], what: str, tip: str) -> DimensionScore:
    found = _families(text, families)
    score = len(found)
    reason = f"You show {what} by {_listing(found)}." if found else f"There is no sign yet of {what}."
    missing = [name for name, _ in families if name not in found]
    improve = "" if score == 4 else f"{tip} Try {missing[0]}."
    return DimensionScore(score, reason, improve)


def _specificity(text: str, draft: str, instructions: str) -> DimensionScore:
    source = draft if draft.strip() else instructions
    shared = sorted(content_words(text) & content_words(source))
    n = len(shared)
    score = 0 if n == 0 else 1 if n <= 2 else 2 if n <= 5 else 3 if n <= 9 else 4
    quoted = [q for q in _QUOTE.findall(text) if len(words(q)) >= 3 and q.strip().lower() in source.lower()]
    if quoted and score < 4:
        score += 1
    what = "your draft" if draft.strip() else "the assignment (your draft is still empty)"
    if n == 0:
        reason = f"Nothing in the reflection points at {what}."
    else:
        sample = ", ".join(f"'{w}'" for w in shared[:4])
        reason = f"You refer to {what} with {n} of its own word{'s' if n != 1 else ''} ({sample}"
        reason += ", ...)." if n > 4 else ")."
    if quoted:
        reason += " You quote a passage that really is in it."
    improve = (
        ""
        if score == 4
        else "Name the paragraph, the claim or the sentence you mean, or quote a few of your own words in quotes."
    )
    return DimensionScore(score, reason, improve)


def _cue_count(text: str) -> int:
    patterns = [_DEPTH_LINKS] + [p for _, p in (*_SELF_AWARENESS, *_CRITICAL, *_GROWTH)]
    return sum(len(p.findall(text)) for p in patterns)


def _flags(inp: ReflectionInput, n_words: int, typed_ratio: float) -> list[Flag]:
    text = inp.text
    found: list[Flag] = []
    filler = _FILLER.findall(text)
    filler_words = sum(len(words(f)) for f in filler)
    if len(filler) >= 2 or (filler and filler_words * 3 >= max(n_words, 1)):
        found.append(
            Flag(
                "generic_filler",
                "Much of this could be said about any essay ('this was helpful', 'it made me think'). "
                "Say what you actually thought about your own text.",
                True,
            )
        )
    mine = shingles(text)
    for earlier in inp.earlier:
        if jaccard(mine, shingles(earlier)) >= DUPLICATE_JACCARD:
            found.append(
                Flag(
                    "near_duplicate",
                    "This is almost the same as one of your earlier reflections. Write about where you are now.",
                    True,
                )
            )
            break
    chars = max(len(text), 1)
    if inp.pasted_chars / chars > PASTED_SHARE:
        found.append(
            Flag("pasted", "Most of this reflection was pasted in. Type your reflection here, in your own words.", True)
        )
    typed_chars = max(len(text) - inp.pasted_chars, 0)
    seconds = max(inp.seconds_spent, MIN_SECONDS_CHECKED)
    if typed_chars >= 40 and typed_chars / seconds > MAX_TYPED_CHARS_PER_SECOND:
        found.append(
            Flag(
                "implausible_speed",
                f"{typed_chars} characters in {inp.seconds_spent} seconds is faster than anyone types while thinking. "
                "Take the time to write it yourself.",
                True,
            )
        )
    if inp.draft.strip():
        five = shingles(text, 5)
        if five and len(five & shingles(inp.draft, 5)) / len(five) >= COPIED_FROM_DRAFT_SHARE:
            found.append(
                Flag(
                    "copied_from_draft",
                    "Most of this is copied from your draft. "
                    "A reflection is about your thinking, not the essay itself.",
                    True,
                )
            )
    ws = words(text)
    if len(ws) >= 20 and len(set(ws)) / len(ws) < REPETITIVE_TYPE_TOKEN:
        found.append(Flag("repetitive", "The same few words are repeated. Write full thoughts.", True))
    if n_words >= 12 and _cue_count(text) / n_words > STUFFING_SHARE:
        found.append(
            Flag(
                "keyword_stuffing",
                "This reads like a list of the words the score looks for rather than sentences about your thinking.",
                True,
            )
        )
    if n_words < inp.min_words:
        found.append(
            Flag(
                "too_short",
                f"{n_words} word{'s' if n_words != 1 else ''}; your teacher asks for at least {inp.min_words}.",
                False,
            )
        )
    return found


def score_reflection(inp: ReflectionInput) -> Scored:
    """Score a reflection. Pure and deterministic: the same input always gives the same result."""
    text = inp.text
    n_words = len(words(text))
    typed_ratio = round(1 - min(inp.pasted_chars, len(text)) / max(len(text), 1), 3)
    scores = {
        "depth": _depth(text, n_words),
        "self_awareness": _family_score(
            text, _SELF_AWARENESS, "self-awareness", "Say what you noticed about your own thinking or writing."
        ),
        "critical_engagement": _family_score(
            text, _CRITICAL, "critical engagement", "Question your own ideas or the partner's questions."
        ),
        "growth": _family_score(text, _GROWTH, "a growth orientation", "Say what you will do next and why."),
        "specificity": _specificity(text, inp.draft, inp.instructions),
    }
    flags = tuple(_flags(inp, n_words, typed_ratio))
    total = sum(s.score for s in scores.values())
    gamed = any(f.voids for f in flags)
    accepted = not gamed and n_words >= inp.min_words
    if gamed:
        summary = "This reflection does not count: " + " ".join(f.message for f in flags if f.voids)
    elif not accepted:
        summary = f"Not long enough yet: {n_words} of at least {inp.min_words} words. Your score so far: {total}/20."
    else:
        summary = f"Thank you. Your reflection scores {total} of {MAX_SCORE}."
    return Scored(
        scores=scores,
        flags=flags,
        total=total,
        word_count=n_words,
        typed_ratio=typed_ratio,
        gamed=gamed,
        accepted=accepted,
        summary=summary,
    )
