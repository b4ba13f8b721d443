"""Scribe Tree: a writing platform that keeps the whole writing process, with a bounded AI partner."""

__version__ = "0.1.0"
