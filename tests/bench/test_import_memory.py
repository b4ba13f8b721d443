"""bench/import_memory: the app's import-time memory by package, from a process of its own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_reports_the_apps_import_memory_by_package(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SCRIBETREE_DATA_DIR": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.import_memory"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    total = re.search(r"building the app: ([\d.]+) MB", out.stdout)
    assert total and float(total.group(1)) > 10
    allocations, _, code = out.stdout.partition("modules loaded: ")
    assert re.search(r"MB  sqlalchemy$", allocations, re.M)
    assert int(code.split(";")[0]) > 100
    assert re.search(r"MB  scribetree$", code, re.M)  # no .pyc written here: compiled to be measured
