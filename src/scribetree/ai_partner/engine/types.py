"""The engine's contract: what a partner request carries and what an answer looks like.

Shared with the rest of ``ai_partner`` (settings, reflections, levels, persistence, API), which builds a
``PartnerRequest`` on the server (the level and the allowed kinds are derived there, never taken from the
client) and stores the ``PartnerAnswer`` with every validator verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class HelpKind(StrEnum):
    """The kinds of help an educator can allow. None of them is text generation."""

    brainstorming = "brainstorming"
    organisation = "organisation"
    evidence = "evidence"
    clarity = "clarity"
    grammar_explanation = "grammar_explanation"


class Level(StrEnum):
    """Access levels, ordered: restricted is the lowest, advanced the highest."""

    restricted = "restricted"
    basic = "basic"
    standard = "standard"
    advanced = "advanced"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_LEVEL_ORDER: tuple[Level, ...] = (Level.restricted, Level.basic, Level.standard, Level.advanced)

# Bloom's revised taxonomy, lowest first. "analyze" is accepted as a spelling of "analyse".
BLOOM_LEVELS: tuple[str, ...] = ("remember", "understand", "apply", "analyse", "evaluate", "create")


def bloom_rank(name: str) -> int:
    """The position of a Bloom level (0 = remember); unknown names rank as "remember" (the safest)."""
    key = (name or "").strip().lower().replace("analyze", "analyse")
    return BLOOM_LEVELS.index(key) if key in BLOOM_LEVELS else 0


@dataclass(frozen=True)
class PartnerRequest:
    question: str  # what the student asked (hostile input; up to 2,000 chars)
    draft: str  # the student's current text (may contain prompt injection)
    stage: str | None  # writing stage key, e.g. "brainstorm", "outline", "draft", "revise", "edit"
    level: Level  # derived by the server, never from the client
    allowed: frozenset[HelpKind]  # educator settings for this assignment/stage, intersected with the level
    max_bloom: str  # highest Bloom level the level permits ("remember".."create")
    assignment_title: str = ""
    instructions: str = ""  # plain text of the assignment instructions
    # the names of the people on this document (the student, a group's members): never sent to a provider,
    # used to redact them from what is (a bare first name in mid-sentence is not caught by patterns)
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reasons: tuple[str, ...] = ()  # machine codes, e.g. "prose_too_long", "not_a_question"


@dataclass(frozen=True)
class PartnerAnswer:
    questions: tuple[str, ...]  # 1-3 questions shown to the student
    refusal: str | None  # a kind sentence when the request asked the partner to write/fix/rewrite
    kind: HelpKind | None
    provider: str  # "builtin", "anthropic", "openai_compatible"
    bank_version: str | None
    verdicts: tuple[Verdict, ...] = field(default_factory=tuple)  # every verdict on the way, failures included
    fell_back: bool = False  # came from the built-in engine after a provider failed or was refused
    latency_ms: float = 0.0


@dataclass(frozen=True)
class ProviderConfig:
    provider: str = "builtin"  # "builtin" | "anthropic" | "openai_compatible"
    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    timeout_s: float = 8.0
    external_allowed: bool = True  # the institution can turn external providers off
