"""AI partner rules: settings, the reflection gate, access levels, budget and the exchange log (filled in next)."""
