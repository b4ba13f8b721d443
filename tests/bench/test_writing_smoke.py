"""The class-writing benchmark runs end to end against the real server on SQLite (a few seconds, tiny sizes).

It guards the benchmark itself: if the writing API changes shape, this fails here instead of in a long run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.run import ROOT, VENV_BIN, Server, base_env, check, database


def test_class_writing_scenario_with_long_document_probe(tmp_path: Path) -> None:
    with database("sqlite", "smoke") as (data_dir, url):
        env = base_env(data_dir, url, {"SCRIBETREE_WORKER_IN_PROCESS": "false"})
        check([str(VENV_BIN / "scribetree"), "init"], env, "scribetree init")
        seeded = json.loads(check([sys.executable, "-m", "bench.seed", "--users", "6", "--slug", "bench", "--course",
                                   "--admin-every", "3", "--long-doc-words", "300", "--long-doc-events", "40"],
                                  env, "bench.seed").strip().splitlines()[-1])
        assert seeded["students"] == 4 and seeded["long_doc_events"] == 40 and seeded["long_doc_words"] == 300
        server = Server("smoke", [str(VENV_BIN / "scribetree"), "serve", "--host", "127.0.0.1", "--port", "{port}",
                                  "--no-migrate"], env, "/healthz", tmp_path / "server.log")
        server.start()
        out = tmp_path / "writing.json"
        try:
            run = subprocess.run(
                [sys.executable, "-m", "bench.loadgen", "--mode", "writing", "--base-url", server.url, "--users", "6",
                 "--admin-every", "3", "--duration", "2", "--think", "0.2", "--reload-every", "3",
                 "--assignment", seeded["assignment_id"], "--long-doc-email", seeded["long_doc_email"],
                 "--probe-batches", "5", "--out", str(out)],
                cwd=ROOT, capture_output=True, text=True, timeout=120,
            )
        finally:
            server.stop()
        assert run.returncode == 0, run.stderr + (tmp_path / "server.log").read_text()[-3000:]
    result = json.loads(out.read_text())
    assert result["students_writing"] == 4 and result["educators"] == 2
    ops = result["main"]["by_op"]
    assert ops["batch"]["requests"] > 0 and ops["batch"]["errors"] == {}, ops
    assert ops["reload"]["errors"] == {} and ops["list"]["errors"] == {}, ops
    probe = result["long_document_probe"]
    assert probe["long"]["ok"] == probe["new"]["ok"] == 5
    assert probe["long"]["chars"] > probe["new"]["chars"]  # the long document really is the long one
    assert probe["p50_ratio_long_over_new"] > 0
