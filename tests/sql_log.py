"""The SQL statements any engine sends while a block runs, for tests that count or compare them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent on any engine inside the block, whitespace collapsed. Listens on the Engine class:
    the SQLite batch path runs its write transaction through a sync engine lent the writer's connection
    (core.db.run_in_transaction), besides the app's read and write engines."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
