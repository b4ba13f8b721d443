"""bench.run's reading of the server's own latency histogram (the share of batches within 50 ms, the p95 bound)."""

from __future__ import annotations

from bench.run import gc_window, server_latency


def test_server_latency_from_two_histogram_snapshots() -> None:
    start = {"0.025": 10.0, "0.05": 10.0, "0.1": 10.0, "+Inf": 10.0}
    end = {"0.025": 80.0, "0.05": 100.0, "0.1": 108.0, "+Inf": 110.0}  # 100 batches in the window, 90 within 50 ms
    result = server_latency({"measure-start": {"batch_hist": start}, "measure-end": {"batch_hist": end}})
    assert result == {"batches": 100, "within_50ms": 0.9, "p95_ms_at_most": 100.0}


def test_no_batch_before_the_window_and_none_at_all() -> None:
    end = {"0.025": 96.0, "0.05": 100.0, "+Inf": 100.0}
    assert server_latency({"measure-start": {"batch_hist": {}}, "measure-end": {"batch_hist": end}}) == {
        "batches": 100,
        "within_50ms": 1.0,
        "p95_ms_at_most": 25.0,
    }
    assert server_latency({"measure-start": {}, "measure-end": {"batch_hist": {}}}) is None


def test_gc_figures_of_the_window_from_two_metrics_snapshots() -> None:
    def snap(full: float, pauses: tuple[float, float, float], longest: float) -> dict[str, float]:
        out = {f'scribetree_gc_pause_seconds{{generation="{g}"}}': p for g, p in enumerate(pauses)}
        out |= {
            'scribetree_gc_collections{generation="2"}': full,
            'scribetree_gc_longest_pause_seconds{generation="2"}': longest,
            "scribetree_gc_frozen_objects": 214037.0,
        }
        return out

    marks = {
        "measure-start": {"gc": snap(3, (0.1, 0.2, 0.3), 0.05)},
        "measure-end": {"gc": snap(8, (0.4, 0.3, 0.8), 0.1)},
    }
    assert gc_window(marks) == {
        "full_collections": 5,
        "paused_ms": 900.0,
        "longest_full_ms": 100.0,
        "frozen_objects": 214037,
    }
    assert gc_window({"measure-start": {}, "measure-end": {"gc": {}}}) is None
