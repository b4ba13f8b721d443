"""The validator: every answer from every provider (the built-in engine included) passes here or is replaced.

Rules (each failure is a machine reason code):

* 1-3 items (``no_questions``, ``too_many_questions``, ``duplicate_questions``); each item is one
  interrogative sentence ending in "?" (``not_a_question``, ``multiple_sentences``, ``not_interrogative``,
  ``list_or_outline``) of at most 40 words (``question_too_long``).
* Quoting: text in double quotation marks must be the student's own words (draft, question, title or
  instructions; ``quote_not_from_student``), at most 12 words (``quote_too_long``), at most two per item
  (``too_many_quotes``). Everything else is "unquoted" and must be the partner's own question words.
* Nothing pasteable: no wording offered to the student (``suggests_wording``: "here is", "you could write",
  "thesis:", "something like", ...), no embedded statement longer than 12 words after "that/whether/if/mean"
  (``smuggled_statement``), no run of 6 of the student's words unquoted (``copies_student_text``), no near
  copy of a student sentence with edits (``rewrites_student_sentence``: several 3-grams with content words
  shared with the draft, or most of a sentence's content words, stemmed), no overlap with the end of the
  student's last sentence (``completes_student_sentence``).
* No proposed content: "What if your thesis argued that ...?", "Could your conclusion say that ...?"
  (``proposes_content``).
* Grounded: besides the vocabulary of talking about writing (``banks.QUESTION_VOCABULARY``) and the
  student's own words, a question may bring in at most two content words (``introduces_new_content``): a
  question that brings more is supplying the content ("Does it disrupt sleep, which lowers grades?").
* Appropriate: the question's Bloom level (from its verbs) is at most ``max_bloom`` (``bloom_too_high``); the
  kind is allowed (``kind_not_allowed``) and suits the stage when a suitable kind was allowed
  (``kind_not_for_stage``); a refusal is one of the fixed refusal sentences (``refusal_not_standard``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from scribetree.ai_partner.engine.analysis import (
    MAX_QUOTE_WORDS,
    STOPWORDS,
    analysis_window,
    normalise,
    split_sentences,
    words,
)
from scribetree.ai_partner.engine.banks import QUESTION_VOCABULARY, REFUSAL_TEXTS, STAGE_KINDS
from scribetree.ai_partner.engine.types import HelpKind, PartnerRequest, Verdict, bloom_rank

MAX_ITEMS = 3
MAX_QUESTION_WORDS = 40
MAX_EMBEDDED_WORDS = 12
MAX_QUOTES_PER_ITEM = 2
MAX_ITEM_CHARS = 400
MAX_NEW_CONTENT_WORDS = 2

QUOTE_RE = re.compile(
    r'"([^"\n]{0,600})"|\u201c([^\u201d\n]{0,600})\u201d|\u00ab([^\u00bb\n]{0,600})\u00bb|\u201e([^\u201c\u201d\n]{0,600})[\u201c\u201d]'
)
_QUOTE_CHARS = '"\u201c\u201d\u00ab\u00bb\u201e'
INTERROGATIVES = frozenset(
    [
        "what",
        "why",
        "how",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "have",
        "has",
        "had",
        "might",
        "may",
        "am",
        "isn't",
        "aren't",
        "don't",
        "doesn't",
        "didn't",
        "can't",
        "couldn't",
        "wouldn't",
        "shouldn't",
        "won't",
    ]
)
LEAD_WORDS = frozenset(
    [
        "if",
        "in",
        "when",
        "for",
        "looking",
        "after",
        "before",
        "thinking",
        "reading",
        "compared",
        "at",
        "since",
        "as",
        "given",
        "besides",
        "beyond",
        "of",
        "on",
        "with",
        "without",
        "to",
        "from",
        "within",
        "across",
        "between",
        "during",
        "once",
    ]
)
_TERMINATORS_RE = re.compile(r"[.!?;:\u2026\u3002\uff01\uff1f\n\r\t]")
_LIST_RE = re.compile(r"(^|\s)([-*\u2022\u25aa\u25cf\u25e6]|\d+[.)]|[ivxIVX]+[.)]|[a-hA-H][.)])\s")
_WORDING_RE = re.compile(
    r"\b(here is|here's|here are|heres|thesis:|thesis statement (is|could|would|might)|your thesis (is|could)|"
    r"you (could|might|can|should) (write|say|put|use the sentence|start with|begin with|end with|add)|"
    r"try (writing|saying|something like|this)|something like|such as:|for example:|e\.g\.|sentence like|"
    r"could read|would read|should read|a better (sentence|version|word|phrase)|rewrite|rewritten|rephrase|"
    r"revised version|corrected|correction|the correct (form|version|sentence)|should be written|"
    r"replace .{0,40} with|change .{0,40} to|instead of .{0,40} (write|say|use)|outline:|conclusion:|"
    r"introduction:|paragraph:|as follows|the answer is|i would write|i'd write|let me write|i wrote|"
    r"how about:|what about:|consider this:|consider writing|like this)\b|:\s*$",
    re.IGNORECASE,
)
_NUDGE_RE = re.compile(
    r"\b(why not|would it help to|have you (thought about|considered)|did you consider|what about|how about|"
    r"maybe|perhaps|you might|you may want to|consider)\s+(open|start|begin|end|say|writ|use|using|add|put|mention|"
    r"stat|argu|includ|conclud)\w*",
    re.IGNORECASE,
)
_PROPOSES_RE = re.compile(
    r"\b(thesis|conclusion|introduction|intro|topic sentence|opening|first sentence|last sentence|next sentence|"
    r"claim|argument|point|essay|paragraph)\s+((could|might|should|would|will|must|can)\s+)?(be|say|says|said|"
    r"argue|argues|argued|state|states|stated|read|reads|claim|claims|claimed|were|was|is|become|go|goes)\s+"
    r"(that|something|like|:)",
    re.IGNORECASE,
)
_EMBED_RE = re.compile(r"\b(that|whether|what if|if|mean|means|meant|saying|say|claim|argue|argues)\b", re.IGNORECASE)

_BLOOM_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "create",
        re.compile(
            r"\b(design|invent|propose|imagine|create|compose|construct|come up with|what new|"
            r"how might you change|devise|formulate)\b"
        ),
    ),
    (
        "evaluate",
        re.compile(
            r"\b(convinc\w*|justify|justif\w*|strongest|weakest|most important|judge|assess|"
            r"agree|persuad\w*|best supports?|how well|worth|hardest|evaluate)\b"
        ),
    ),
    (
        "analyse",
        re.compile(
            r"\b(why|compare|contrast|connect\w*|relate\w*|relationship|difference|cause\w*|"
            r"assumption\w*|analy[sz]e|lose track|disagree)\b"
        ),
    ),
    ("apply", re.compile(r"\b(apply|use|using|example from|how could you check|how would you use)\b")),
    (
        "understand",
        re.compile(
            r"\b(mean|means|explain|in other words|main idea|summari[sz]e|describe|"
            r"what job|holds together|need to know)\b"
        ),
    ),
)


def classify_bloom(question: str) -> str:
    """The highest Bloom level a question's verbs ask for ("remember" when no cue is found)."""
    low = normalise(QUOTE_RE.sub(" ", question))
    for level, pattern in _BLOOM_CUES:
        if pattern.search(low):
            return level
    return "remember"


@dataclass
class DraftIndex:
    """Normalised views of the student's text, built once per request and shared by the checks."""

    draft: str
    extra: str = ""  # the student's question, the title and the instructions: quotable too
    window_sentences: list[str] | None = None  # the analysis's sentences, when it has already split them

    @cached_property
    def quotable(self) -> str:
        return self.draft_words + " ".join(words(self.extra)) + " "

    @cached_property
    def quotable_stems(self) -> frozenset[str]:
        unique = set(self.draft_word_list)
        unique.update(words(self.extra))
        return frozenset(_stem(w) for w in unique)

    @cached_property
    def draft_word_list(self) -> list[str]:
        return words(self.draft)

    @cached_property
    def draft_words(self) -> str:
        return " " + " ".join(self.draft_word_list) + " "

    @cached_property
    def sentence_stems(self) -> list[frozenset[str]]:
        """Content stems of each sentence (of the head and tail of a very long draft, as the analysis reads)."""
        sentences = self.window_sentences
        if sentences is None:
            sentences = split_sentences(analysis_window(self.draft))
        out = []
        for sentence in sentences:
            stems = _content_stems(words(sentence))
            if len(stems) >= 4:
                out.append(stems)
        return out

    @cached_property
    def tail_words(self) -> list[str]:
        return words(self.draft[-600:])[-20:]


def _stem(word: str) -> str:
    return word[:5]


_VOCAB_STEMS = frozenset(_stem(w) for w in QUESTION_VOCABULARY)


_SUFFIXES = ("ing", "ed", "es", "s")
_NOT_CONTENT = frozenset({"mean", "means", "meant", "quoted", "would", "could", "should", "what", "which"})


def _content_stems(ws: list[str]) -> frozenset[str]:
    out = set()
    for w in ws:
        if w in STOPWORDS or w in _NOT_CONTENT or len(w) < 3:
            continue
        for suf in _SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                w = w[: -len(suf)]
                break
        out.add(w)
    return frozenset(out)


def _unquoted(item: str) -> tuple[str, list[str]]:
    quotes = [next(g for g in m.groups() if g is not None) for m in QUOTE_RE.finditer(item)]
    return QUOTE_RE.sub(" QUOTED ", item), quotes


def _ngrams(ws: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]


def _is_content(w: str) -> bool:
    return len(w) > 3 and w not in STOPWORDS and w != "quoted"


def check_item(item: str, request: PartnerRequest, index: DraftIndex) -> list[str]:
    reasons: list[str] = []
    text = (item or "").strip()
    if not text:
        return ["empty_item"]
    if len(text) > MAX_ITEM_CHARS:  # nothing that long is a question; do not spend time on the other checks
        return ["question_too_long"]
    if not text.endswith("?"):
        reasons.append("not_a_question")
    if "\n" in item.strip() or _LIST_RE.search(text):
        reasons.append("list_or_outline")
    unquoted, quotes = _unquoted(text)
    if any(ch in unquoted for ch in _QUOTE_CHARS):
        reasons.append("unbalanced_quotes")
    if _TERMINATORS_RE.search(unquoted.rstrip("?").rstrip()):
        reasons.append("multiple_sentences")
    all_words = words(text)
    if len(all_words) > MAX_QUESTION_WORDS:
        reasons.append("question_too_long")
    own = [w for w in words(unquoted) if w != "quoted"]
    # Interrogative: starts with a question word, or with a short leading phrase then one ("In your X, what ...?").
    first = own[0] if own else ""
    if first not in INTERROGATIVES:
        head, _, rest = unquoted.partition(",")
        head_words = words(head)
        rest_words = [w for w in words(rest) if w != "quoted"]
        if not (
            head_words
            and head_words[0] in LEAD_WORDS
            and len(head_words) <= 10
            and rest_words
            and rest_words[0] in INTERROGATIVES
        ):
            reasons.append("not_interrogative")
    if len(quotes) > MAX_QUOTES_PER_ITEM:
        reasons.append("too_many_quotes")
    for q in quotes:
        qw = words(q)
        if len(qw) > MAX_QUOTE_WORDS:
            reasons.append("quote_too_long")
        if qw and (" " + " ".join(qw) + " ") not in index.quotable:
            reasons.append("quote_not_from_student")
    if _WORDING_RE.search(unquoted):
        reasons.append("suggests_wording")
    if _NUDGE_RE.search(unquoted) and "suggests_wording" not in reasons:
        reasons.append("suggests_wording")
    if _PROPOSES_RE.search(unquoted):
        reasons.append("proposes_content")
    low_unquoted = unquoted.casefold()
    for m in _EMBED_RE.finditer(low_unquoted):
        after = [w for w in words(low_unquoted[m.end() :]) if w != "quoted"]
        if len(after) > MAX_EMBEDDED_WORDS:
            reasons.append("smuggled_statement")
            break
    novel = {w for w in own if _is_content(w) and _stem(w) not in _VOCAB_STEMS and _stem(w) not in index.quotable_stems}
    if len(novel) > MAX_NEW_CONTENT_WORDS:
        reasons.append("introduces_new_content")
    if len(own) >= 6:
        for gram in _ngrams(own, 6):
            if (" " + " ".join(gram) + " ") in index.draft_words:
                reasons.append("copies_student_text")
                break
    grams3 = [g for g in _ngrams(own, 3) if any(_is_content(w) for w in g)]
    if grams3:
        hits = sum(1 for g in grams3 if (" " + " ".join(g) + " ") in index.draft_words)
        if hits >= 3 and hits >= 0.3 * len(grams3):
            reasons.append("rewrites_student_sentence")
    own_stems = _content_stems(own)
    if len(own_stems) >= 4 and "rewrites_student_sentence" not in reasons:
        for stems in index.sentence_stems:
            shared = len(own_stems & stems)
            if shared >= 4 and shared >= 0.6 * len(stems):
                reasons.append("rewrites_student_sentence")
                break
    tail = index.tail_words
    if len(tail) >= 3 and own:
        tail_grams = {g for g in _ngrams(tail, 3) if sum(_is_content(w) for w in g) >= 2}
        tail_grams |= set(_ngrams(tail, 4))
        own_grams = set(_ngrams(own, 3)) | set(_ngrams(own, 4))
        if tail_grams & own_grams:
            reasons.append("completes_student_sentence")
    if bloom_rank(classify_bloom(text)) > bloom_rank(request.max_bloom):
        reasons.append("bloom_too_high")
    return reasons


def validate(
    questions: tuple[str, ...] | list[str],
    request: PartnerRequest,
    *,
    kind: HelpKind | None,
    refusal: str | None = None,
    index: DraftIndex | None = None,
) -> Verdict:
    """Check a whole answer. ``ok`` only when there is no reason at all."""
    index = index or DraftIndex(request.draft, _extra(request))
    reasons: list[str] = []
    items = [q if isinstance(q, str) else "" for q in questions]
    if not items:
        reasons.append("no_questions")
    if len(items) > MAX_ITEMS:
        reasons.append("too_many_questions")
    if len({normalise(q) for q in items}) < len(items):
        reasons.append("duplicate_questions")
    for q in items[: MAX_ITEMS + 2]:
        reasons.extend(check_item(q, request, index))
    if kind is not None:
        if kind not in request.allowed:
            reasons.append("kind_not_allowed")
        suitable = STAGE_KINDS.get(request.stage or "")
        if suitable and kind not in suitable and set(suitable) & set(request.allowed):
            reasons.append("kind_not_for_stage")
    if refusal is not None and refusal not in REFUSAL_TEXTS:
        reasons.append("refusal_not_standard")
    unique = tuple(dict.fromkeys(reasons))
    return Verdict(ok=not unique, reasons=unique)


def _extra(request: PartnerRequest) -> str:
    return "\n".join((request.question or "", request.assignment_title or "", request.instructions or ""))


def index_for(request: PartnerRequest) -> DraftIndex:
    return DraftIndex(request.draft or "", _extra(request))
