"""Academic integrity from the writing process: evidence, replay, similarity, style drift, flags, responses."""
