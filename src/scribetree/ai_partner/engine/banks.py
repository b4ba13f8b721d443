"""Versioned question banks: by help kind, stage, Bloom level and access level.

A template is one question. Slots are filled from the draft analysis: ``{quote}`` is a short span (at most
12 words, usually 8) of the student's OWN words, ``{word}`` one word the student used; both are put in
quotation marks by the template. A template with a slot is used only when the analysis found something to
fill it with. Change ``BANK_VERSION`` whenever a template is added, removed or reworded: answers record it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scribetree.ai_partner.engine.types import HelpKind, Level

BANK_VERSION = "2026-11-26.2"

ALL_STAGES = frozenset({"brainstorm", "outline", "draft", "revise", "edit"})
EARLY = frozenset({"brainstorm", "outline"})
DRAFTING = frozenset({"draft", "revise", "edit"})

# Which kinds of help suit each stage, most useful first (used when the student's question names none).
STAGE_KINDS: dict[str, tuple[HelpKind, ...]] = {
    "brainstorm": (HelpKind.brainstorming, HelpKind.organisation, HelpKind.evidence),
    "outline": (HelpKind.organisation, HelpKind.evidence, HelpKind.brainstorming),
    "draft": (
        HelpKind.evidence,
        HelpKind.organisation,
        HelpKind.clarity,
        HelpKind.brainstorming,
        HelpKind.grammar_explanation,
    ),
    "revise": (
        HelpKind.evidence,
        HelpKind.organisation,
        HelpKind.clarity,
        HelpKind.grammar_explanation,
        HelpKind.brainstorming,
    ),
    "edit": (HelpKind.clarity, HelpKind.grammar_explanation, HelpKind.organisation),
}
DEFAULT_KINDS: tuple[HelpKind, ...] = (
    HelpKind.evidence,
    HelpKind.organisation,
    HelpKind.clarity,
    HelpKind.brainstorming,
    HelpKind.grammar_explanation,
)


@dataclass(frozen=True)
class Template:
    id: str
    kind: HelpKind
    bloom: str  # the highest Bloom level the question asks for
    needs: str  # the analysis feature that fills the slots: claim vague drift transition repeat long first last
    #             topic, or "none"
    text: str
    stages: frozenset[str] = ALL_STAGES
    min_level: Level = Level.restricted


BRAIN, ORG, EVID, CLAR, GRAM = (
    HelpKind.brainstorming,
    HelpKind.organisation,
    HelpKind.evidence,
    HelpKind.clarity,
    HelpKind.grammar_explanation,
)

TEMPLATES: tuple[Template, ...] = (
    # brainstorming
    Template("b01", BRAIN, "remember", "none", "What first made you curious about this topic?"),
    Template("b02", BRAIN, "remember", "none", "Which words in the assignment question do you want to focus on?"),
    Template("b03", BRAIN, "understand", "first", 'What do you mean when you write "{quote}"?'),
    Template(
        "b04", BRAIN, "understand", "topic", 'What do you already know about "{word}", and where did you learn it?'
    ),
    Template("b05", BRAIN, "apply", "none", "What experience of your own could you use to explore this topic?"),
    Template("b06", BRAIN, "analyse", "first", 'Why might someone disagree with "{quote}"?', min_level=Level.basic),
    Template("b07", BRAIN, "analyse", "topic", 'What questions about "{word}" can you not answer yet?'),
    Template(
        "b08",
        BRAIN,
        "evaluate",
        "none",
        "Which of your ideas so far would be hardest for a reader to accept?",
        min_level=Level.standard,
    ),
    Template(
        "b09",
        BRAIN,
        "create",
        "none",
        "What new angle on this topic would surprise your reader?",
        min_level=Level.advanced,
    ),
    # organisation
    Template("o01", ORG, "remember", "none", "What is the one main point your whole piece is about?"),
    Template("o02", ORG, "understand", "none", "How would you explain the order of your ideas to a friend?"),
    Template("o03", ORG, "understand", "first", 'What job does your opening, "{quote}", do for the reader?'),
    Template(
        "o04",
        ORG,
        "analyse",
        "transition",
        'How does the paragraph beginning "{quote}" connect to the one before it?',
        stages=DRAFTING,
    ),
    Template(
        "o05",
        ORG,
        "understand",
        "drift",
        'What single idea holds together the paragraph beginning "{quote}"?',
        stages=DRAFTING,
    ),
    Template("o06", ORG, "understand", "last", 'What do you want the reader to know after "{quote}"?'),
    Template(
        "o07",
        ORG,
        "evaluate",
        "none",
        "Which part of your plan best supports your main point, and why?",
        min_level=Level.standard,
    ),
    Template(
        "o08",
        ORG,
        "create",
        "none",
        "If you could keep only three parts, how might you change the order?",
        min_level=Level.advanced,
    ),
    # evidence and reasoning
    Template("e01", EVID, "remember", "none", "Where did the information in your draft come from?"),
    Template("e02", EVID, "understand", "claim", 'What would a reader need to know to believe "{quote}"?'),
    Template("e03", EVID, "apply", "claim", 'Which example from your reading could you use to back up "{quote}"?'),
    Template("e04", EVID, "analyse", "claim", 'Why should a reader accept "{quote}"?', min_level=Level.basic),
    Template("e05", EVID, "analyse", "claim", 'What assumption sits behind "{quote}"?', min_level=Level.basic),
    Template(
        "e06",
        EVID,
        "evaluate",
        "claim",
        'How convincing would "{quote}" be to someone who disagrees?',
        min_level=Level.standard,
    ),
    Template(
        "e07",
        EVID,
        "evaluate",
        "none",
        "Which of your sources is the strongest, and what makes it so?",
        min_level=Level.standard,
    ),
    Template(
        "e08", EVID, "create", "claim", 'How might you design a small test of "{quote}"?', min_level=Level.advanced
    ),
    Template("e09", EVID, "understand", "none", "What do you mean by the main claim of your draft?"),
    # clarity
    Template("c01", CLAR, "understand", "vague", 'What exactly do you mean by "{word}" in that sentence?'),
    Template("c02", CLAR, "remember", "none", "Who is the reader you are writing for?"),
    Template("c03", CLAR, "understand", "long", 'What is the main idea of the sentence that begins "{quote}"?'),
    Template(
        "c04",
        CLAR,
        "analyse",
        "long",
        'Where could a reader lose track in the sentence that begins "{quote}"?',
        min_level=Level.basic,
    ),
    Template(
        "c05",
        CLAR,
        "analyse",
        "repeat",
        'Why does the word "{word}" appear so often in your draft?',
        min_level=Level.basic,
    ),
    Template(
        "c06",
        CLAR,
        "evaluate",
        "none",
        "Which of your sentences would a reader find hardest to follow?",
        min_level=Level.standard,
    ),
    Template("c07", CLAR, "apply", "none", "How could you check that each of your sentences says one thing?"),
    Template("c08", CLAR, "understand", "vague", 'What more precise word could stand in for "{word}"?'),
    # grammar explanations (about rules, never a corrected sentence)
    Template(
        "g01", GRAM, "remember", "long", 'How many separate ideas are joined in the sentence that begins "{quote}"?'
    ),
    Template(
        "g02",
        GRAM,
        "understand",
        "long",
        'What is the subject of the sentence that begins "{quote}", and what is its verb?',
    ),
    Template("g03", GRAM, "understand", "none", "What does a comma do in a sentence that a full stop does not?"),
    Template("g04", GRAM, "apply", "none", "Which rule about verb tenses could you use to check your last paragraph?"),
    Template(
        "g05",
        GRAM,
        "analyse",
        "last",
        'Why might a reader pause at the punctuation in "{quote}"?',
        min_level=Level.basic,
    ),
    Template(
        "g06",
        GRAM,
        "evaluate",
        "none",
        "Which sentence would you check first for agreement between subject and verb, and why?",
        min_level=Level.standard,
    ),
    Template("g07", GRAM, "remember", "none", "Which grammar rule are you least sure about in this draft?"),
)

# Asked when the student wanted the partner to write for them: questions that help them do it themselves.
SELF_HELP: dict[str, tuple[str, ...]] = {
    "write": (
        "What is the one idea you want this part to get across?",
        "What do you already know that you could start from?",
        "Who are you writing for, and what do they need first?",
    ),
    "fix": (
        "Which sentence do you feel least sure about?",
        "What happens to the meaning when you read that sentence aloud?",
        "Which rule would you check first?",
    ),
    "rewrite": (
        "What do you want that sentence to do for your reader?",
        "Which word in it carries the most meaning?",
        "How would you say the same idea to a friend?",
    ),
    "translate": (
        "Which idea are you trying to express in your own words?",
        "Which word do you still need in the language you are writing in?",
        "How would you describe that idea to a classmate?",
    ),
    "continue": (
        "What do you want your next sentence to show the reader?",
        "Where is this paragraph heading?",
        "What would a reader ask after your last sentence?",
    ),
    "example": (
        "Which moment from your own reading or life fits this point?",
        "What would a good example need to show?",
        "Where could you look for an example?",
    ),
    "other": (
        "What part of your own writing are you working on right now?",
        "What do you want your reader to understand?",
        "What is the next step you could take yourself?",
    ),
}

REFUSALS: dict[str, str] = {  # each at most 12 words: a refusal is never a pasteable sentence
    "write": "I won't write this for you; these questions may help instead.",
    "fix": "I won't correct your text; these questions may help you do it.",
    "rewrite": "I won't rewrite your sentences; these questions may help you rework them.",
    "translate": "I won't translate your text; these questions may help you say it.",
    "continue": "I won't continue your writing; these questions may help you go on.",
    "example": "I won't write an example; these questions may help you find one.",
    "other": "I can only ask questions about your own writing.",
}
REFUSAL_TEXTS = frozenset(REFUSALS.values())

# The last resort: short, generic, and too short to be pasted anywhere.
LAST_RESORT = ("What do you want to try next?", "What is your main point?", "What will you do next?")

# Words a question may use besides the student's own: the banks' words and the vocabulary of talking about
# writing. A question that brings in more than a couple of other content words is supplying content.
WRITING_WORDS = frozenset(
    [
        "reader",
        "readers",
        "audience",
        "paragraph",
        "paragraphs",
        "sentence",
        "sentences",
        "evidence",
        "claim",
        "claims",
        "argument",
        "arguments",
        "source",
        "sources",
        "thesis",
        "point",
        "points",
        "idea",
        "ideas",
        "example",
        "examples",
        "draft",
        "essay",
        "writing",
        "topic",
        "question",
        "questions",
        "assignment",
        "introduction",
        "conclusion",
        "opening",
        "ending",
        "body",
        "section",
        "part",
        "parts",
        "word",
        "words",
        "phrase",
        "meaning",
        "reason",
        "reasons",
        "reasoning",
        "support",
        "supports",
        "supporting",
        "explain",
        "describe",
        "compare",
        "contrast",
        "connect",
        "relate",
        "mean",
        "think",
        "believe",
        "know",
        "show",
        "prove",
        "convince",
        "persuade",
        "strongest",
        "weakest",
        "important",
        "clear",
        "unclear",
        "confusing",
        "order",
        "structure",
        "organise",
        "organize",
        "flow",
        "transition",
        "transitions",
        "focus",
        "purpose",
        "goal",
        "main",
        "central",
        "first",
        "last",
        "next",
        "before",
        "after",
        "change",
        "add",
        "remove",
        "keep",
        "check",
        "rule",
        "rules",
        "grammar",
        "comma",
        "commas",
        "tense",
        "tenses",
        "verb",
        "verbs",
        "subject",
        "noun",
        "nouns",
        "punctuation",
        "spelling",
        "agreement",
        "style",
        "tone",
        "voice",
        "detail",
        "details",
        "specific",
        "general",
        "vague",
        "precise",
        "assumption",
        "assumptions",
        "counterargument",
        "disagree",
        "agree",
        "perspective",
        "perspectives",
        "viewpoint",
        "opinion",
        "fact",
        "facts",
        "data",
        "research",
        "study",
        "studies",
        "quote",
        "quotes",
        "cite",
        "citation",
        "citations",
        "notes",
        "plan",
        "outline",
        "step",
        "steps",
        "answer",
        "expect",
        "expects",
        "skeptical",
        "sceptical",
        "doubt",
        "doubts",
        "convincing",
        "persuasive",
        "clarify",
        "clearer",
        "define",
        "definition",
        "meant",
        "saying",
        "says",
        "focus",
        "aloud",
        "read",
        "reading",
        "instead",
        "notice",
        "noticed",
        "sure",
        "unsure",
        "least",
        "most",
        "already",
        "learn",
        "learned",
        "understand",
        "better",
        "worse",
        "stronger",
        "weaker",
        "whole",
        "start",
        "begin",
        "end",
        "middle",
        "title",
        "instructions",
        "prompt",
        "criteria",
        "rubric",
    ]
)


def _bank_words() -> frozenset[str]:
    import re

    texts = [t.text for t in TEMPLATES] + [q for qs in SELF_HELP.values() for q in qs] + list(LAST_RESORT)
    return frozenset(w.lower() for t in texts for w in re.findall(r"[A-Za-z']+", t))


QUESTION_VOCABULARY = WRITING_WORDS | _bank_words()
