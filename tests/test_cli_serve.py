"""`scribetree serve` migrates in a child process (cli.migrate_in_child): the schema is brought to the newest
migration before serving, and alembic never loads into the serving process. uvicorn.run is replaced by a probe that
reports what the process holds at the moment it would start serving."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scribetree.ops.service import migration_head

PROBE = """
import json, sys
import uvicorn
def run(*args, **kwargs):
    loaded = sorted(m for m in sys.modules if m == "alembic" or m.startswith("alembic."))
    print("@@serve " + json.dumps({"alembic": loaded, "app": args[0] if args else None}), flush=True)
uvicorn.run = run
from scribetree.cli import main
sys.argv = ["scribetree", "serve", "--port", "8999"]
main()
"""


def serve(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict[str, object] | None]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env={**os.environ, **env}, timeout=180
    )
    lines = [line for line in r.stdout.splitlines() if line.startswith("@@serve ")]
    return r, (json.loads(lines[0].removeprefix("@@serve ")) if lines else None)


def test_serve_migrates_a_new_database_without_loading_alembic() -> None:
    data = Path(tempfile.mkdtemp(prefix="scribetree-serve-"))
    r, seen = serve({"SCRIBETREE_DATA_DIR": str(data), "SCRIBETREE_DATABASE_URL": ""})
    assert r.returncode == 0, r.stderr
    assert seen == {"alembic": [], "app": "scribetree.app:create_app"}
    with sqlite3.connect(data / "scribetree.db") as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == migration_head()


def test_serve_on_the_migrated_test_database(database_url: str) -> None:
    r, seen = serve({"SCRIBETREE_DATABASE_URL": database_url})
    assert r.returncode == 0, r.stderr
    assert seen == {"alembic": [], "app": "scribetree.app:create_app"}


def test_serve_stops_when_the_migration_fails() -> None:
    missing = Path(tempfile.mkdtemp(prefix="scribetree-serve-")) / "no" / "such" / "folder" / "x.db"
    r, seen = serve({"SCRIBETREE_DATABASE_URL": f"sqlite+aiosqlite:///{missing}"})
    assert r.returncode == 1
    assert seen is None  # never served
    assert "The migration did not complete" in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(sock: socket.socket) -> bytes:
    """GET /healthz on an open keep-alive connection and read the whole answer; b"" when the server has closed it."""
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            if not (part := sock.recv(65536)):
                return answer
            answer += part
        head, _, body = answer.partition(b"\r\n\r\n")
        length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))
        while len(body) < length:
            if not (part := sock.recv(65536)):
                break
            body += part
        return head + b"\r\n\r\n" + body
    except ConnectionError:
        return b""


def test_serve_keeps_an_idle_connection_for_the_configured_time() -> None:
    """uvicorn closes an idle connection after 5 s unless told otherwise; a balancer in front that keeps it 60 s
    then sends requests on connections being closed. `serve` passes HTTP_KEEP_ALIVE_SECONDS to uvicorn."""
    port = _free_port()
    data = tempfile.mkdtemp(prefix="scribetree-serve-")
    env = {
        **os.environ,
        "SCRIBETREE_DATA_DIR": data,
        "SCRIBETREE_DATABASE_URL": "",
        "SCRIBETREE_HTTP_KEEP_ALIVE_SECONDS": "2",
        "SCRIBETREE_WORKER_IN_PROCESS": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "scribetree.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        with sock:
            assert _get(sock).startswith(b"HTTP/1.1 200")
            time.sleep(1)  # idle, under the setting: the same connection still answers
            assert _get(sock).startswith(b"HTTP/1.1 200")
            time.sleep(3.5)  # idle, over it: the server has closed the connection
            assert _get(sock) == b""
    finally:
        proc.terminate()
        proc.wait(timeout=30)
