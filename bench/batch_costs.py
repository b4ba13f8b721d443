"""Small costs inside one edit batch, timed in loops in one process (medians of repeated rounds, µs per call).

    .venv/bin/python -m bench.batch_costs [--calls N] [--rounds R]

- ``insert``: one INSERT of an edit batch row on SQLite through ``Connection.execute`` and through
  ``core.prepared`` (the DB-API cursor, the same SQL and values), and what the first costs more;
- ``session``: an ``AsyncSession`` nobody used, committed and closed, against only made (``core.db.untouched``);
- ``text``: on a 20,000-word text, the SHA-256 check of the whole text (``writing.ops.content_hash``) and one
  splice of a word into its middle: the in-memory work a batch on a long document does more than on a new one.

Figures in bench/RESULTS.md quote this command's output. Ratios within one run mean more than the absolute numbers
on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

import scribetree.models  # noqa: F401  (every table on Base.metadata)
from scribetree.core import clock
from scribetree.core.db import Base
from scribetree.core.prepared import prepared
from scribetree.writing import models, ops
from scribetree.writing.repository import _insert_statement, _python_defaults  # the batch path's own statement


def _median_us(fn: Callable[[], Any], calls: int, rounds: int) -> float:
    per_call = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter() - started) / calls * 1e6)
    return round(statistics.median(per_call), 2)


def insert_costs(calls: int, rounds: int) -> dict[str, float]:
    table = models.EditBatch.__table__
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'costs.db'}")
        Base.metadata.create_all(engine)  # every table (scribetree.models imports them all)
        now = clock.utcnow()

        def row() -> dict[str, Any]:
            values = {
                "tenant_id": uuid.UUID(int=1),
                "document_id": uuid.UUID(int=2),
                "session_id": uuid.uuid4(),
                "seq": 1,
                "base_revision": 0,
                "revision": 1,
                "content_hash": "0" * 64,
                "author_user_id": uuid.UUID(int=3),
                "ops": [{"kind": "insert", "pos": 0, "text": "word", "t": 1}],
                "chars_inserted": 4,
                "chars_deleted": 0,
                "received_at": now,
            }
            return _python_defaults(table, values, on_update=False)  # as BatchStore binds them (id: a new uuid7)

        statement = _insert_statement(table, frozenset(row()))
        with engine.begin() as conn:
            through_sqlalchemy = _median_us(lambda: conn.execute(statement, row()), calls, rounds)
            one = prepared(statement, conn.dialect)
            on_the_cursor = _median_us(lambda: one.execute(conn, row()), calls, rounds)
            building_the_row = _median_us(row, calls, rounds)
        engine.dispose()
    return {
        "connection_execute_us": round(through_sqlalchemy - building_the_row, 2),
        "prepared_cursor_us": round(on_the_cursor - building_the_row, 2),
        "saved_us": round(through_sqlalchemy - on_the_cursor, 2),
    }


def session_costs(calls: int, rounds: int) -> dict[str, float]:
    async def measure() -> dict[str, float]:
        engine = create_async_engine("sqlite+aiosqlite://")
        make = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        results: dict[str, float] = {}
        for name, steps in (("made_only", ()), ("commit_and_close", ("commit", "close"))):
            per_call = []
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(calls):
                    session = make()
                    for step in steps:
                        await getattr(session, step)()
                per_call.append((time.perf_counter() - started) / calls * 1e6)
            results[f"{name}_us"] = round(statistics.median(per_call), 2)
        await engine.dispose()
        results["saved_us"] = round(results["commit_and_close_us"] - results["made_only_us"], 2)
        return results

    return asyncio.run(measure())


def text_costs(calls: int, rounds: int) -> dict[str, float]:
    text = " ".join(f"word{i % 997}" for i in range(20_000))
    middle = len(text) // 2
    return {
        "chars": len(text),
        "content_hash_us": _median_us(lambda: ops.content_hash(text), calls, rounds),
        "splice_us": _median_us(lambda: text[:middle] + " more" + text[middle:], calls, rounds),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args(argv)
    out = {
        "insert": insert_costs(a.calls, a.rounds),
        "session": session_costs(a.calls, a.rounds),
        "text": text_costs(max(1, a.calls // 10), a.rounds),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
