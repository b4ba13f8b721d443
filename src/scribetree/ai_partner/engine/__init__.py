"""The Socratic engine, providers and the validator (owned by helper H2; this placeholder keeps lint-imports green)."""
