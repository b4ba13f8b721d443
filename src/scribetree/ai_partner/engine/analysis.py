"""Deterministic analysis of a student's draft: no network, no models, linear in the draft's length.

It finds what a Socratic question can point at: claims without support, vague words, paragraphs that drift
from their first sentence, paragraphs that start without a transition, words repeated often, and how much
sentence lengths vary. Everything it returns is the student's own words (short spans) or counts.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?\u2026\u3002\uff01\uff1f])[\"'\u201d\u2019)\]]*\s+")
_DIGIT_RE = re.compile(r"\d")
_COUNT_RE = re.compile(r"\w+")  # cheaper than WORD_RE, good enough for sentence lengths
_PARAGRAPH_RE = re.compile(r"\n\s*\n|\r\n\s*\r\n")

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "one",
        "many",
        "much",
        "may",
        "might",
        "must",
        "shall",
        "us",
        "upon",
        "like",
        "even",
        "still",
        "well",
    ]
)

CLAIM_MARKERS = (
    "clearly",
    "obviously",
    "always",
    "never",
    "everyone",
    "everybody",
    "nobody",
    "no one",
    "all people",
    "proves",
    "prove that",
    "shows that",
    "must",
    "should",
    "definitely",
    "undoubtedly",
    "certainly",
    "without a doubt",
    "the best",
    "the worst",
    "the most",
    "i believe",
    "i think",
    "in my opinion",
    "is important",
    "is essential",
    "is harmful",
    "is beneficial",
    "causes",
    "leads to",
    "is better",
    "is worse",
)
EVIDENCE_MARKERS = (
    "according to",
    "for example",
    "for instance",
    "such as",
    "study",
    "studies",
    "research",
    "survey",
    "data",
    "percent",
    "%",
    "statistics",
    "found that",
    "reported",
    "report",
    "source",
    "evidence",
    "quoted",
    "cited",
    "author",
    "article",
    "journal",
    "experiment",
    "interview",
    "(",
    "\u201c",
    '"',
)
VAGUE_WORDS = (
    "thing",
    "things",
    "stuff",
    "good",
    "bad",
    "nice",
    "very",
    "really",
    "a lot",
    "lots",
    "interesting",
    "kind of",
    "sort of",
    "etc",
    "something",
    "somehow",
    "basically",
    "huge",
    "amazing",
    "great",
    "important",
)
TRANSITIONS = (
    "however",
    "therefore",
    "furthermore",
    "moreover",
    "in addition",
    "additionally",
    "first",
    "firstly",
    "second",
    "secondly",
    "third",
    "finally",
    "lastly",
    "next",
    "then",
    "also",
    "similarly",
    "likewise",
    "in contrast",
    "on the other hand",
    "consequently",
    "as a result",
    "thus",
    "hence",
    "for example",
    "for instance",
    "in conclusion",
    "to conclude",
    "overall",
    "meanwhile",
    "although",
    "while",
    "despite",
    "because",
    "since",
    "another",
    "besides",
    "nevertheless",
    "nonetheless",
    "instead",
    "in fact",
    "indeed",
    "to begin",
    "after",
    "before",
    "later",
    "ultimately",
    "in summary",
    "this",
    "these",
    "that",
    "such",
)

MAX_QUOTE_WORDS = 12
_NOT_TOPICS = frozenset(m for m in (*CLAIM_MARKERS, *VAGUE_WORDS, *TRANSITIONS) if " " not in m) | frozenset(
    {"think", "know", "knows", "people", "because", "would", "could", "should", "about"}
)
# A very long draft is analysed on a bounded window: the head (the thesis usually lives there) and the tail
# (where the student is writing). This keeps every answer fast on 100,000-character drafts.
_HEAD_CHARS = 4_000
_TAIL_CHARS = 8_000


def normalise(text: str) -> str:
    """Case-folded, NFKC, apostrophes and quotes unified, whitespace collapsed: for comparing words."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(t.split())


def words(text: str) -> list[str]:
    """The words of a text, case-folded, curly apostrophes made straight."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return WORD_RE.findall(folded)


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 3 and w not in STOPWORDS}


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        for part in _SENTENCE_END_RE.split(line.strip()):
            part = part.strip()
            if part and WORD_RE.search(part):
                out.append(part)
    return out


def short_span(sentence: str, max_words: int = 8) -> str:
    """The first ``max_words`` words of a sentence exactly as the student wrote them (never more than 12)."""
    max_words = min(max_words, MAX_QUOTE_WORDS)
    matches = list(WORD_RE.finditer(sentence))
    if not matches:
        return ""
    end = matches[min(max_words, len(matches)) - 1].end()
    start = matches[0].start()
    return sentence[start:end]


def _marker_re(markers: tuple[str, ...]) -> re.Pattern[str]:
    worded = sorted((m for m in markers if m[0].isalnum()), key=len, reverse=True)
    other = [m for m in markers if not m[0].isalnum()]
    parts = []
    if worded:
        parts.append(r"(?<!\w)(?:" + "|".join(re.escape(m) for m in worded) + r")(?!\w)")
    if other:
        parts.append("|".join(re.escape(m) for m in other))
    return re.compile("|".join(parts))


_MARKER_RES: dict[int, re.Pattern[str]] = {}


def _has_marker(lowered: str, markers: tuple[str, ...]) -> str | None:
    pattern = _MARKER_RES.get(id(markers))
    if pattern is None:
        pattern = _MARKER_RES[id(markers)] = _marker_re(markers)
    m = pattern.search(lowered)
    return m.group(0) if m else None


@dataclass(frozen=True)
class Paragraph:
    index: int
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Analysis:
    word_count: int
    paragraphs: tuple[Paragraph, ...]
    unsupported_claims: tuple[str, ...] = ()  # sentences (student's words) with a claim marker and no evidence
    vague: tuple[tuple[str, str], ...] = ()  # (vague word, sentence it is in)
    drifting_paragraphs: tuple[int, ...] = ()  # paragraphs whose later sentences share no words with the first
    missing_transitions: tuple[int, ...] = ()  # paragraphs (after the first) that open without a transition
    repeated: tuple[tuple[str, int], ...] = ()  # content words used unusually often, most frequent first
    long_sentences: tuple[str, ...] = ()
    sentence_length_mean: float = 0.0
    sentence_length_stdev: float = 0.0
    first_sentence: str = ""
    last_sentence: str = ""
    last_sentence_complete: bool = True
    topic_words: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return self.word_count == 0


def analysis_window(draft: str) -> str:
    if len(draft) <= _HEAD_CHARS + _TAIL_CHARS:
        return draft
    return draft[:_HEAD_CHARS] + "\n\n" + draft[-_TAIL_CHARS:]


def analyse(draft: str, *, word_count: int | None = None) -> Analysis:
    """Analyse a draft. ``word_count`` may be passed when the caller has already split the draft into words."""
    draft = (draft or "").replace("\x00", "")
    if word_count is None:
        word_count = len(WORD_RE.findall(draft))
    if word_count == 0:
        return Analysis(word_count=0, paragraphs=())
    text = analysis_window(draft)
    paragraphs = tuple(
        Paragraph(i, tuple(ss))
        for i, ss in enumerate(s for s in (split_sentences(p) for p in _PARAGRAPH_RE.split(text)) if s)
    )
    sentences = [s for p in paragraphs for s in p.sentences]

    unsupported: list[str] = []
    vague: list[tuple[str, str]] = []
    lowered = [s.casefold() for s in sentences]
    for i, (s, low) in enumerate(zip(sentences, lowered, strict=True)):
        if _has_marker(low, CLAIM_MARKERS):
            nearby = " ".join(lowered[max(0, i - 1) : i + 2])
            if not _has_marker(nearby, EVIDENCE_MARKERS) and not _DIGIT_RE.search(nearby):
                unsupported.append(s)
        v = _has_marker(low, VAGUE_WORDS)
        if v:
            vague.append((v, s))

    drifting: list[int] = []
    missing: list[int] = []
    for p in paragraphs:
        if len(p.sentences) >= 3:
            head = content_words(p.sentences[0])
            rest = content_words(" ".join(p.sentences[1:]))
            if head and rest and not (head & rest):
                drifting.append(p.index)
        if p.index > 0:
            opening = p.sentences[0].casefold().lstrip("\"'\u201c\u2018(")
            if not _has_marker(opening[:40], TRANSITIONS):
                missing.append(p.index)

    window_words = words(text)
    counts = Counter(w for w in window_words if len(w) > 3 and w not in STOPWORDS)
    threshold = max(4, len(window_words) // 60)
    repeated = tuple((w, c) for w, c in counts.most_common(5) if c >= threshold)

    lengths = [len(_COUNT_RE.findall(s)) for s in sentences]
    mean = statistics.fmean(lengths) if lengths else 0.0
    stdev = statistics.pstdev(lengths) if len(lengths) > 1 else 0.0
    long_sentences = tuple(s for s, n in zip(sentences, lengths, strict=True) if n >= 35)

    last = sentences[-1] if sentences else ""
    complete = bool(re.search(r"[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019)\]]*\s*$", draft.rstrip()))
    return Analysis(
        word_count=word_count,
        paragraphs=paragraphs,
        unsupported_claims=tuple(unsupported[:20]),
        vague=tuple(vague[:20]),
        drifting_paragraphs=tuple(drifting),
        missing_transitions=tuple(missing),
        repeated=repeated,
        long_sentences=long_sentences[:10],
        sentence_length_mean=mean,
        sentence_length_stdev=stdev,
        first_sentence=sentences[0] if sentences else "",
        last_sentence=last,
        last_sentence_complete=complete,
        topic_words=tuple(w for w, _ in counts.most_common(20) if w not in _NOT_TOPICS and not w.endswith("ly"))[:8],
    )
