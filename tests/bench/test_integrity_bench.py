"""bench.integrity --quick runs end to end on a scratch SQLite database and reports sane figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_integrity_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "integrity.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.integrity", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert result["words"] >= 500 and result["events"] > 3000 and result["batches"] > 100
    assert len(result["report_runs_s"]) == 3
    assert 0 < result["compute_median_s"] < 5 and 0 < result["report_median_s"] < 5
