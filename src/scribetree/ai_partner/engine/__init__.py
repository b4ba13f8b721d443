"""The partner's engine: the built-in Socratic engine, external providers, the validator.

``answer(request, config)`` is the one entry point. It never raises for provider trouble, and the answer it
returns always passes the validator: external answers are validated, retried once, then replaced by the
built-in engine's (which are validated too).
"""

from __future__ import annotations

import time
from dataclasses import replace

from scribetree.ai_partner.engine.banks import BANK_VERSION
from scribetree.ai_partner.engine.builtin import build_answer
from scribetree.ai_partner.engine.providers import EXTERNAL, ask_external
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
from scribetree.ai_partner.engine.validator import validate

__all__ = [
    "BANK_VERSION",
    "BLOOM_LEVELS",
    "HelpKind",
    "Level",
    "PartnerAnswer",
    "PartnerRequest",
    "ProviderConfig",
    "Verdict",
    "answer",
    "answer_builtin",
    "bloom_rank",
    "validate",
]


def answer_builtin(request: PartnerRequest) -> PartnerAnswer:
    """The built-in engine, synchronously (no network, deterministic)."""
    started = time.perf_counter()
    result = build_answer(request)
    return replace(result, latency_ms=(time.perf_counter() - started) * 1000)


async def answer(request: PartnerRequest, config: ProviderConfig | None = None) -> PartnerAnswer:
    config = config or ProviderConfig()
    started = time.perf_counter()
    if config.provider in EXTERNAL and config.external_allowed:
        try:
            result = await ask_external(request, config)
        except Exception:  # never let provider trouble reach the student; the built-in engine answers
            result = build_answer(request, fell_back=True, verdicts=(Verdict(ok=False, reasons=("provider_error",)),))
    else:
        result = build_answer(request)
    return replace(result, latency_ms=(time.perf_counter() - started) * 1000)
