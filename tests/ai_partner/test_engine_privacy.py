"""What leaves for an external provider: names redacted as whole words; one circuit breaker per credential."""

from __future__ import annotations

from scribetree.ai_partner.engine.providers import BreakerRegistry
from scribetree.ai_partner.engine.redact import redact
from scribetree.ai_partner.engine.types import ProviderConfig


def test_names_are_redacted_as_whole_words_only():
    text = "Yesterday Ada said to adapt; ada's point is that Lovelace was right."
    assert redact(text, ("Ada Lovelace", "Ada", "Lovelace")) == (
        "Yesterday [name] said to adapt; [name]'s point is that [name] was right."
    )


def test_one_breaker_per_credential_not_per_vendor_address():
    registry = BreakerRegistry()
    url = "https://api.example.com/v1"
    mine = registry.get(ProviderConfig(provider="openai_compatible", base_url=url, api_key="key-of-northfield"))
    again = registry.get(ProviderConfig(provider="openai_compatible", base_url=url, api_key="key-of-northfield"))
    theirs = registry.get(ProviderConfig(provider="openai_compatible", base_url=url, api_key="key-of-southgate"))
    assert mine is again and mine is not theirs
