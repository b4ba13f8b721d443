"""Writing analytics: metrics computed incrementally from the edit log, readability and style, learner profiles."""
