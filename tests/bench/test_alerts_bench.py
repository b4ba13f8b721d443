"""bench.alerts --quick runs end to end on a scratch SQLite database and reports sane figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_alerts_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "alerts.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.alerts", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert result["events"] == 50 and result["targets"] == 10
    assert result["alerts_created"] >= 1  # the student who pasted 80 words from outside
    assert result["events_per_s"] > 0 and result["rules_histories_per_s"] > 0
    assert result["median_seconds"] == result["run_seconds"][0]
