"""bench.batch_costs runs end to end (tiny loops): its figures are quoted in bench/RESULTS.md."""

from __future__ import annotations

import json

import pytest

from bench import batch_costs


def test_the_batch_costs_benchmark_runs_and_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    batch_costs.main(["--calls", "20", "--rounds", "2"])
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"insert", "session", "text"}
    assert out["insert"]["connection_execute_us"] > 0 and out["insert"]["prepared_cursor_us"] > 0
    assert out["session"]["commit_and_close_us"] > out["session"]["made_only_us"] > 0
    assert out["text"]["chars"] > 100_000 and out["text"]["content_hash_us"] > 0
