"""The partner's engine: the built-in Socratic engine, external providers, the validator."""

from scribetree.ai_partner.engine.types import (
    BLOOM_LEVELS,
    HelpKind,
    Level,
    PartnerAnswer,
    PartnerRequest,
    ProviderConfig,
    Verdict,
    bloom_rank,
)

__all__ = [
    "BLOOM_LEVELS",
    "HelpKind",
    "Level",
    "PartnerAnswer",
    "PartnerRequest",
    "ProviderConfig",
    "Verdict",
    "bloom_rank",
]
