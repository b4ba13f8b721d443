"""The built-in Socratic engine: deterministic, no network.

1. Classify the student's question: a kind of help, or a request that the partner write for them (write,
   fix, rewrite, translate, continue, example; role-play and "ignore the rules" count as "other").
2. Analyse the draft (``analysis.analyse``).
3. Choose 1-3 templates from the bank for the kind, the stage, the access level and ``max_bloom``, fill their
   slots with short spans of the student's own words, keep only questions the validator accepts.

The same request always gives the same answer (choices use a hash of the request, never randomness).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from scribetree.ai_partner.engine.analysis import Analysis, analyse, short_span
from scribetree.ai_partner.engine.banks import (
    BANK_VERSION,
    DEFAULT_KINDS,
    LAST_RESORT,
    REFUSALS,
    SELF_HELP,
    STAGE_KINDS,
    TEMPLATES,
    Template,
)
from scribetree.ai_partner.engine.types import HelpKind, Level, PartnerAnswer, PartnerRequest, bloom_rank
from scribetree.ai_partner.engine.validator import DraftIndex, check_item, index_for, validate

MAX_QUESTION_CHARS = 2_000

# Requests to produce text for the student, checked in this order (the first match names the refusal).
_REQUEST_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "translate",
        re.compile(
            r"\b(translat\w*|in (english|spanish|french|german|chinese|arabic)|"
            r"\u00fcbersetz\w*|traduc\w*|tradu\w*)\b"
        ),
    ),
    (
        "continue",
        re.compile(
            r"\b(continue|finish (it|this|my|the)|complete (it|this|my|the)|carry on|keep going|"
            r"next sentence|what comes next|"
            r"end (of )?my (sentence|paragraph|essay)|rest of (my|the)|contin\u00faa|weiterschreib\w*)\b"
        ),
    ),
    (
        "example",
        re.compile(
            r"\b(example (paragraph|sentence|essay|thesis|intro\w*|conclusion)|"
            r"(an?|some) (sample|model|example)|for an example|show me (an?|how)|"
            r"sample (paragraph|essay|answer)|model answer)\b"
        ),
    ),
    (
        "fix",
        re.compile(
            r"\b(fix|correct (it|this|my|the|these|them|all|mistakes|errors)|proofread|edit (it|this|my)|"
            r"check my (grammar|spelling)|korrigier\w*|corrig\w*|"
            r"grammar check|spell ?check|make (it|this) (correct|right|better|perfect)|improve (it|this|my))\b"
        ),
    ),
    (
        "rewrite",
        re.compile(
            r"\b(rewrite|re-write|rephrase|paraphrase|reword|redo|polish|make it sound|"
            r"say it better|simplify (it|this|my)|shorten (it|this|my))\b"
        ),
    ),
    (
        "write",
        re.compile(
            r"\b((write|compose|draft) (it|this|me|my|an?|the|for me|some|one)|generate|give me (a|an|the|my|some)|"
            r"produce|create (a|an|the|my)|make (me )?(a|an|the) (thesis|outline|essay|paragraph|"
            r"conclusion|introduction|intro|summary)|outline for me|do my|do it for me|"
            r"can you (just )?do|type (it|this)|schreib\w*|escrib\w*|\u00e9cri\w*|r\u00e9dige\w*|redact\w*|scrivi\w*)\b"
        ),
    ),
    (
        "other",
        re.compile(
            r"\b(pretend|role[- ]?play|act as|you are now|you're now|ignore (all |the |your |previous |"
            r"prior )*(rules|instructions)|system prompt|jailbreak|developer mode|no rules|"
            r"forget (the|your) (rules|instructions)|disregard)\b"
        ),
    ),
)

_KIND_PATTERNS: tuple[tuple[HelpKind, re.Pattern[str]], ...] = (
    (
        HelpKind.grammar_explanation,
        re.compile(
            r"\b(grammar|comma|commas|tense|punctuat\w*|spelling|apostroph\w*|"
            r"semicolon|agreement|verb|noun|pronoun|capital\w*|run-on|fragment)\b"
        ),
    ),
    (
        HelpKind.evidence,
        re.compile(
            r"\b(evidence|support|source|sources|prove|proof|cite|citation|quote|argument|"
            r"reason|reasoning|convinc\w*|persuad\w*|claim|data|research)\b"
        ),
    ),
    (
        HelpKind.organisation,
        re.compile(
            r"\b(order|structure|organi[sz]\w*|paragraphs?|flow|outline|transition\w*|"
            r"intro\w*|conclusion|plan|section|sequence)\b"
        ),
    ),
    (
        HelpKind.clarity,
        re.compile(
            r"\b(clear|clarity|unclear|confus\w*|wordy|vague|make sense|understand|"
            r"sentence|sentences|word choice|readable|simple)\b"
        ),
    ),
    (
        HelpKind.brainstorming,
        re.compile(
            r"\b(idea|ideas|topic|start|begin|stuck|brainstorm\w*|think of|angle|"
            r"what to write|focus|interest\w*)\b"
        ),
    ),
)

# Which kinds to offer with a refusal, by what the student asked the partner to do.
_REFUSAL_KINDS: dict[str, tuple[HelpKind, ...]] = {
    "write": (HelpKind.brainstorming, HelpKind.organisation, HelpKind.evidence),
    "fix": (HelpKind.grammar_explanation, HelpKind.clarity),
    "rewrite": (HelpKind.clarity, HelpKind.grammar_explanation),
    "translate": (HelpKind.clarity, HelpKind.brainstorming),
    "continue": (HelpKind.organisation, HelpKind.evidence, HelpKind.brainstorming),
    "example": (HelpKind.evidence, HelpKind.brainstorming),
    "other": (),
}

_LEVEL_COUNT = {Level.restricted: 1, Level.basic: 2, Level.standard: 3, Level.advanced: 3}


@dataclass(frozen=True)
class Intent:
    kind: HelpKind | None  # the kind of help the student asked for, if named
    request: str | None  # "write", "fix", ... when the student asked the partner to produce text


def classify(question: str) -> Intent:
    low = " ".join((question or "")[:MAX_QUESTION_CHARS].casefold().split())
    # An attempt to change the rules wins over everything else; then the first kind of writing request named.
    patterns = sorted(_REQUEST_PATTERNS, key=lambda item: item[0] != "other")
    req = next((name for name, p in patterns if p.search(low)), None)
    # "How can I fix ...?" asks how to do it oneself: not a request that the partner write (unless it also
    # says "for me" or asks the partner to do it, or tries to change the rules).
    if req not in (None, "other") and _SELF_DIRECTED.search(low) and not _DELEGATED.search(low):
        req = None
    kind = next((k for k, p in _KIND_PATTERNS if p.search(low)), None)
    return Intent(kind=kind, request=req)


_SELF_DIRECTED = re.compile(
    r"\b(how (can|do|should|could|would|might) i|what (can|should|could) i|where (can|should|do) i|"
    r"how to|can i|should i|do i need to|how would i)\b"
)
_DELEGATED = re.compile(r"\b(for me|(can|could|will|would) you|you (write|fix|rewrite|do|give|make|finish))\b")


def _seed(request: PartnerRequest) -> int:
    h = hashlib.blake2b(digest_size=8)
    for part in (request.question, request.stage or "", request.level.value, request.draft[-2000:]):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return int.from_bytes(h.digest(), "big")


def choose_kind(request: PartnerRequest, intent: Intent) -> HelpKind | None:
    allowed = request.allowed
    if not allowed:
        return None
    stage_kinds = STAGE_KINDS.get(request.stage or "", DEFAULT_KINDS)
    named = [intent.kind] if intent.kind is not None else []
    for_request = list(_REFUSAL_KINDS.get(intent.request or "", ()))
    # "continue my sentence" names a sentence, not a wish for clarity questions: the request decides there.
    request_first = intent.request in ("continue", "translate", "example")
    preferred: list[HelpKind] = for_request + named if request_first else named + for_request
    # A named kind that suits the stage wins; then the stage's own order; then anything allowed.
    for k in preferred:
        if k in allowed and k in stage_kinds:
            return k
    for k in stage_kinds:
        if k in allowed:
            return k
    for k in preferred:
        if k in allowed:
            return k
    return next(k for k in DEFAULT_KINDS if k in allowed)


def _slots(t: Template, a: Analysis, pick: int) -> dict[str, str] | None:
    def quote_of(sentence: str) -> str | None:
        span = short_span(sentence, 8)
        for ch in '"\u201c\u201d\u00ab\u00bb\u201e':
            span = span.split(ch)[0]
        span = span.strip(" ,;:-\u2013\u2014'\u2019\u2018")
        return span if span and len(span.split()) >= 2 else None

    def one(seq: tuple, offset: int = 0):
        return seq[(pick + offset) % len(seq)] if seq else None

    match t.needs:
        case "none":
            return {}
        case "claim":
            s = one(a.unsupported_claims)
            q = quote_of(s) if s else None
            return {"quote": q} if q else None
        case "vague":
            pair = one(a.vague)
            return {"word": pair[0], "quote": quote_of(pair[1]) or ""} if pair else None
        case "drift" | "transition":
            idx = one(a.drifting_paragraphs if t.needs == "drift" else a.missing_transitions)
            if idx is None:
                return None
            para = next((p for p in a.paragraphs if p.index == idx), None)
            q = quote_of(para.sentences[0]) if para else None
            return {"quote": q} if q else None
        case "repeat":
            pair = one(a.repeated)
            return {"word": pair[0]} if pair else None
        case "long":
            s = one(a.long_sentences)
            q = quote_of(s) if s else None
            return {"quote": q} if q else None
        case "first" | "last":
            s = a.first_sentence if t.needs == "first" else a.last_sentence
            q = quote_of(s) if s else None
            return {"quote": q} if q else None
        case "topic":
            w = one(a.topic_words)
            return {"word": w} if w else None
    return None


def _candidates(request: PartnerRequest, kind: HelpKind, a: Analysis, seed: int) -> list[tuple[Template, str]]:
    stage = request.stage or ""
    max_rank = bloom_rank(request.max_bloom)
    usable = [
        t
        for t in TEMPLATES
        if t.kind == kind
        and (not stage or stage in t.stages)
        and bloom_rank(t.bloom) <= max_rank
        and request.level.rank >= t.min_level.rank
    ]
    # Grounded questions (with a slot the draft fills) first, then higher Bloom first, then a stable shuffle.
    usable.sort(
        key=lambda t: (
            t.needs == "none",
            -bloom_rank(t.bloom),
            hashlib.blake2b(f"{seed}:{t.id}".encode(), digest_size=4).digest(),
        )
    )
    out: list[tuple[Template, str]] = []
    for i, t in enumerate(usable):
        slots = _slots(t, a, seed + i)
        if slots is None:
            continue
        out.append((t, t.text.format(**slots)))
    return out


def _fits(text: str, request: PartnerRequest, index: DraftIndex) -> bool:
    return not check_item(text, request, index)


def build_answer(request: PartnerRequest, *, fell_back: bool = False, verdicts: tuple = ()) -> PartnerAnswer:
    """The built-in engine's answer (without latency, which ``answer`` measures). Always passes the validator."""
    request = _bounded(request)
    intent = classify(request.question)
    index = index_for(request)
    a = analyse(request.draft, word_count=len(index.draft_word_list))
    index.window_sentences = [s for p in a.paragraphs for s in p.sentences]
    seed = _seed(request)
    kind = choose_kind(request, intent)
    count = _LEVEL_COUNT.get(request.level, 1)

    chosen: list[str] = []
    if kind is not None:
        for _t, text in _candidates(request, kind, a, seed):
            if len(chosen) >= count:
                break
            if text not in chosen and _fits(text, request, index):
                chosen.append(text)
    if not chosen:
        pool = SELF_HELP.get(intent.request or "other", SELF_HELP["other"])
        for text in pool:
            if len(chosen) >= count:
                break
            if _fits(text, request, index) and (kind is None or kind in request.allowed):
                chosen.append(text)
    if not chosen:
        chosen = [next((q for q in LAST_RESORT if _fits(q, request, index)), LAST_RESORT[0])]
    refusal = REFUSALS[intent.request] if intent.request else None
    verdict = validate(tuple(chosen), request, kind=kind, refusal=refusal, index=index)
    if not verdict.ok:  # only possible for a hostile draft that contains our own questions: drop the kind
        chosen = [LAST_RESORT[0]]
        kind = None
        verdict = validate(tuple(chosen), request, kind=None, refusal=refusal, index=index)
    return PartnerAnswer(
        questions=tuple(chosen),
        refusal=refusal,
        kind=kind,
        provider="builtin",
        bank_version=BANK_VERSION,
        verdicts=(*verdicts, verdict),
        fell_back=fell_back,
        latency_ms=0.0,
    )


def _bounded(request: PartnerRequest) -> PartnerRequest:
    if len(request.question or "") <= MAX_QUESTION_CHARS:
        return request
    from dataclasses import replace

    return replace(request, question=request.question[:MAX_QUESTION_CHARS])
