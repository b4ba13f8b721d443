"""bench.loadgen runs, stops by itself, and reports sane numbers (against the hello app, on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["wire", "httpx"])
def test_loadgen_against_hello_app(tmp_path: Path, kind: str) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.hello_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while True:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else "hello app exited"
                try:
                    if client.get(f"http://127.0.0.1:{port}/").json() == {"ok": True}:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "hello app did not start"
                time.sleep(0.1)
        out = tmp_path / "result.json"
        run = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", "--mode", "hello", "--base-url", f"http://127.0.0.1:{port}",
             "--users", "2", "--duration", "1", "--client", kind, "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert "@@phase measure-start" in run.stdout
        result = json.loads(out.read_text())
    finally:
        server.terminate()
        server.wait(timeout=10)
    main = result["main"]
    assert result["client"] == kind
    assert result["rps"] > 0 and main["requests"] > 0
    assert main["errors"] == {}
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"] <= main["max_ms"]
    assert 0.9 <= main["window_s"] < 10
