"""The real app under uvicorn (a subprocess on a free 127.0.0.1 port, against the test database) and Debian's
Chromium driven by Playwright. Never ``playwright install``: the browser is /usr/bin/chromium.

``_empty_tables`` is imported because ``tests.fixtures.db.__all__`` leaves it out (see tests/core/conftest.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from tests.fixtures.db import _empty_tables  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("SCRIBETREE_SCREENSHOTS", tempfile.gettempdir()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    """``uvicorn scribetree.app:create_app`` with the suite's cheap hashing, no worker, no rate limits."""
    port = _free_port()
    data = tempfile.mkdtemp(prefix="scribetree-browser-")
    env = {
        **os.environ,
        "SCRIBETREE_ENV": "testing",
        "SCRIBETREE_DATABASE_URL": database_url,
        "SCRIBETREE_DATA_DIR": data,
        "SCRIBETREE_ARGON2_MEMORY_KIB": "64",
        "SCRIBETREE_ARGON2_TIME_COST": "1",
        "SCRIBETREE_WORKER_IN_PROCESS": "false",
        "SCRIBETREE_RATE_LIMIT_ENABLED": "false",
        "SCRIBETREE_LOG_LEVEL": "WARNING",
        "SCRIBETREE_LOG_JSON": "false",
        "SCRIBETREE_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = Path(data) / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "scribetree.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start in time:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()
