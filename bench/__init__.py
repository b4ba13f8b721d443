"""Benchmarks for Scribe Tree (see bench/README.md). Nothing here is imported by the app."""
