"""bench.similarity --quick runs and reports sane numbers (a real index on a scratch SQLite file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "similarity.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.similarity", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [c["index_size"] for c in result["checkpoints"]] == [30, 60]
    assert result["fingerprints"] > 60 * 150 * 0.2  # winnowing keeps about 2 / (w + 1) of the k-grams
    assert result["matches"] > 0  # the corpus copies passages: the index must find some
    for c in result["checkpoints"]:
        assert (
            c["submissions_per_s"] > 0 and c["words_per_s"] > c["submissions_per_s"] and c["cpu_ms_per_submission"] > 0
        )
        assert 0 < c["index_ms_p50"] <= c["index_ms_p95"]
        assert 0 < c["lookup_ms_p50"] <= c["lookup_ms_p95"]
        assert 0 < c["new_submission_ms_p50"] <= c["new_submission_ms_p95"]
