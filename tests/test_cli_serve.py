"""`scribetree serve` migrates in a child process (cli.migrate_in_child): the schema is brought to the newest
migration before serving, and alembic never loads into the serving process. uvicorn.run is replaced by a probe that
reports what the process holds at the moment it would start serving."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
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
