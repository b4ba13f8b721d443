"""A serve process on SQLite does not load what only some requests, or another database, need.

Each of these is imported on first use instead of at start, and each costs the process resident memory it would hold
for its whole life (``python -X importtime`` and ``/proc/self/status`` before and after the import, 2026-12-07):
cryptography's Rust and OpenSSL bindings (~6 MB, stored AI provider keys and integrity exports), PyJWT (LTI, OIDC),
psycopg and SQLAlchemy's PostgreSQL dialects (~9 and ~2 MB, PostgreSQL only), markdown-it (the first rendered
instructions), the MCP SDK (mcp/lazy.py), httpx (external AI providers) and alembic (migrations run in a child).
The probe runs in a fresh interpreter, builds the app and opens a connection to a new SQLite database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

LAZY = (
    "alembic",
    "cryptography",
    "httpx",
    "jwt",
    "markdown_it",
    "mcp",
    "psycopg",
    "sqlalchemy.dialects.postgresql",
)

PROBE = f"""
import asyncio, json, sys
from sqlalchemy import text
from scribetree.app import create_app
from scribetree.core.db import dispose_engines, unit_of_work

create_app()

async def connect():
    async with unit_of_work(write=False) as session:
        await session.execute(text("SELECT 1"))
    await dispose_engines()

asyncio.run(connect())
print(json.dumps(sorted(m for m in {LAZY!r} if m in sys.modules)))
"""


def test_building_the_app_on_sqlite_loads_none_of_the_lazy_modules() -> None:
    data = tempfile.mkdtemp(prefix="scribetree-imports-")
    env = {**os.environ, "SCRIBETREE_DATA_DIR": data, "SCRIBETREE_DATABASE_URL": ""}
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []
