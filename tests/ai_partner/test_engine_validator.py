"""The validator: reason codes on a table of bad answers, good answers pass, and property tests that it never
lets a non-question sentence longer than the quote limit through."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scribetree.ai_partner.engine import HelpKind, Level, PartnerRequest, validate
from scribetree.ai_partner.engine.banks import REFUSALS
from scribetree.ai_partner.engine.validator import classify_bloom

DRAFT = (
    "Social media is clearly harmful to teenagers. Everyone knows that it causes a lot of stress.\n\n"
    "Many teens use phones at night. The results shows that they sleeps less and their grades fall.\n\n"
    "Schools should ban phones. This would make things better for everyone because"
)


def _req(**kw) -> PartnerRequest:
    base = dict(
        question="How do I support my argument?",
        draft=DRAFT,
        stage="draft",
        level=Level.standard,
        allowed=frozenset(HelpKind),
        max_bloom="evaluate",
        assignment_title="Phones in schools",
        instructions="Argue for or against a ban.",
    )
    base.update(kw)
    return PartnerRequest(**base)


GOOD = [
    ("What evidence would convince a reader who doubts your main claim?",),
    ('Why should a reader accept "Social media is clearly harmful to teenagers"?',),
    ('What do you mean by "a lot" in that sentence?', "Who is the reader you are writing for?"),
    ("In your second paragraph, which sentence carries your main point?",),
    ("If a reader disagreed with you, what would they say first?",),
]


@pytest.mark.parametrize("questions", GOOD)
def test_good_answers_pass(questions: tuple[str, ...]) -> None:
    v = validate(questions, _req(), kind=HelpKind.evidence)
    assert v.ok, v.reasons


@pytest.mark.parametrize(
    ("questions", "reason"),
    [
        ((), "no_questions"),
        (("Why?", "How?", "What?", "Where?"), "too_many_questions"),
        (("What is your point?", "what is your point?"), "duplicate_questions"),
        (("",), "empty_item"),
        (("Social media harms teenagers because it replaces sleep.",), "not_a_question"),
        (("Social media harms teenagers because it replaces sleep?",), "not_interrogative"),
        (("Here is your thesis: social media is bad. Does it work?",), "multiple_sentences"),
        (("Here is your thesis: social media harms teens?",), "suggests_wording"),
        (("What do you think?\nWhat else?",), "list_or_outline"),
        (("1. What is the introduction about?",), "list_or_outline"),
        (("What about - intro - body - conclusion?",), "list_or_outline"),
        (("Why " + "really " * 45 + "?",), "question_too_long"),
        (
            ('Does "Social media is clearly harmful to teenagers. Everyone knows that it causes a" fit?',),
            "quote_too_long",
        ),
        (('Does "phones keep teens awake until the early hours" capture it?',), "quote_not_from_student"),
        (('Did you mean "The results show that they sleep less"?',), "quote_not_from_student"),
        (("Why not say the results shows that they sleeps less and their grades fall?",), "copies_student_text"),
        (("Did you mean the results show that they sleep less?",), "rewrites_student_sentence"),
        (
            (
                "Could you add that it makes things better for everyone because phones distract pupils in "
                "lessons every single day?",
            ),
            "smuggled_statement",
        ),
        (("Is it because phones distract pupils during lessons and break concentration?",), "introduces_new_content"),
        (("Why would it make things better for everyone?",), "completes_student_sentence"),
        (("How might you design a new study of sleep?",), "bloom_too_high"),
        (('Does "a" "lot" "of" fit here?',), "too_many_quotes"),
        (('What does "a lot mean?',), "unbalanced_quotes"),
        (("What could you write instead, something like this?",), "suggests_wording"),
        (("What if your thesis argued that phones at night cost teens sleep and grades?",), "proposes_content"),
        (("Could your conclusion say that schools should ban phones?",), "proposes_content"),
        (("Why not open with the idea that social media harms teenagers?",), "suggests_wording"),
        (("Would it help to mention that teens lose sleep?",), "suggests_wording"),
        (("Have you considered arguing that a ban helps?",), "suggests_wording"),
        (("Would the next sentence be like phones harm teens?",), "proposes_content"),
    ],
)
def test_bad_answers_fail_with_a_reason(questions: tuple[str, ...], reason: str) -> None:
    v = validate(questions, _req(), kind=HelpKind.evidence)
    assert not v.ok
    assert reason in v.reasons, v.reasons


def test_huge_items_are_rejected_quickly() -> None:
    huge = ("that " * 40_000) + "?"
    started = time.perf_counter()
    v = validate((huge, huge, huge), _req(), kind=HelpKind.evidence)
    assert time.perf_counter() - started < 0.5
    assert not v.ok and "question_too_long" in v.reasons


def test_kind_and_refusal_rules() -> None:
    q = ("What is your main point?",)
    assert (
        "kind_not_allowed" in validate(q, _req(allowed=frozenset({HelpKind.clarity})), kind=HelpKind.evidence).reasons
    )
    early = _req(stage="brainstorm", allowed=frozenset(HelpKind))
    assert "kind_not_for_stage" in validate(q, early, kind=HelpKind.grammar_explanation).reasons
    only_grammar = _req(stage="brainstorm", allowed=frozenset({HelpKind.grammar_explanation}))
    assert validate(q, only_grammar, kind=HelpKind.grammar_explanation).ok  # the educator chose it
    assert "refusal_not_standard" in validate(q, _req(), kind=None, refusal="Sure! Here it is: ...").reasons
    assert validate(q, _req(), kind=None, refusal=REFUSALS["write"]).ok


@pytest.mark.parametrize(
    ("question", "level"),
    [
        ("What is your main point?", "remember"),
        ("What do you mean by that?", "understand"),
        ("Which example from your reading could you use?", "apply"),
        ("Why does this paragraph come first?", "analyse"),
        ("How convincing is your second reason?", "evaluate"),
        ("How might you design a test of your claim?", "create"),
    ],
)
def test_bloom_classification(question: str, level: str) -> None:
    assert classify_bloom(question) == level


# --- property tests ----------------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "the",
        "a",
        "students",
        "phones",
        "sleep",
        "grades",
        "school",
        "because",
        "therefore",
        "teenagers",
        "night",
        "social",
        "media",
        "harms",
        "focus",
        "friends",
        "learning",
        "teachers",
        "rules",
        "every",
        "day",
        "is",
        "are",
        "was",
        "were",
        "it",
        "they",
        "we",
        "you",
        "your",
        "reader",
        "what",
        "why",
        "how",
        "which",
        "argument",
        "evidence",
        "claim",
        "paragraph",
    ]
)
_QUOTED = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')


def _non_question_sentences(item: str) -> list[str]:
    plain = _QUOTED.sub(" Q ", item)
    return [s for s in re.split(r"(?<=[.!?;:])\s+|\n+", plain) if s.strip() and not s.strip().endswith("?")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prose=st.lists(WORDS, min_size=13, max_size=45),
    end=st.sampled_from([".", "!", ";", ":", "\n", ". ", "..."]),
    wrapper=st.sampled_from(
        [
            "{p}",
            "{p} What do you think?",
            "What do you think? {p}",
            "Why {p} why?",
            "{p} Does that help?",
            '"{p}"?',
            "What if {p}?",
            "Is it true that {p}?",
        ]
    ),
)
def test_a_non_question_sentence_longer_than_the_quote_limit_never_passes(prose, end, wrapper) -> None:
    sentence = " ".join(prose).capitalize() + end
    item = wrapper.format(p=sentence)
    v = validate((item,), _req(), kind=HelpKind.evidence)
    assert not v.ok, item


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(
        st.text(alphabet=st.sampled_from(list('abc xyz.,?!;:"\u201c\u201d\n-1')), max_size=200)
        | st.lists(WORDS, max_size=50).map(" ".join).map(lambda s: s + st_end(s)),
        min_size=1,
        max_size=3,
    )
)
def test_whatever_passes_has_no_long_non_question_sentence(items: list[str]) -> None:
    v = validate(tuple(items), _req(), kind=HelpKind.evidence)
    if v.ok:
        for item in items:
            for s in _non_question_sentences(item):
                assert len(s.split()) <= 12, (item, s)


def st_end(s: str) -> str:
    return "?" if len(s) % 3 else "."
