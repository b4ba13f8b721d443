"""SQLite through aiosqlite with one trip to the connection's thread per statement.

aiosqlite runs each call on the connection's own thread and hands the result back through the event loop.
SQLAlchemy's cursor over it makes four such calls for a SELECT (open a cursor, execute, fetch the rows, close
the cursor) and three for any other statement. Each call costs a wake-up of the connection's thread, which must
win the GIL from the event loop (up to the interpreter's switch interval, 5 ms, while the loop is busy), and a
turn of the loop to hand the answer back. Under the class-writing load with no think time every request in
flight waits for its own turns: a document reload (BEGIN, two SELECTs, ROLLBACK: twelve calls) held its read
connection for ~200 ms and reloads waited ~1.2 s for one (bench/RESULTS.md).

Here a statement is one call: the thread opens a cursor, executes, fetches every row and closes the cursor,
and the cursor on this side serves the rows it brought back (SQLAlchemy's own adapter buffers every row too).
Commit and rollback are aiosqlite's own single calls, and none at all when no transaction is open (the pool
rolls back every connection that comes back to it, committed or not). Server-side cursors (``stream()``)
keep aiosqlite's cursor, row by row.

Built on two private parts, pinned in pyproject.toml: aiosqlite's ``Connection._execute`` (which
``core.db`` uses already) and SQLAlchemy's aiosqlite connection adapter, whose ``cursor()`` makes the class
named by ``_cursor_cls``. ``engine_module()`` is passed as ``module=`` to ``create_async_engine``.
"""

from __future__ import annotations

import collections
import functools
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util.concurrency import await_

Description = tuple[tuple[Any, ...], ...] | None


def _run(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Description, int, int | None, list[Any]]:
    """On the connection's thread: the statement, all its rows, and what the cursor knew; the cursor closed."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """A DB-API cursor over an aiosqlite connection: ``execute`` is one call on the connection's thread."""

    server_side = False
    __slots__ = ("_adapt", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        self._adapt = adapt_connection
        self._rows: collections.deque[Any] = collections.deque()
        self.arraysize = 1
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def _call(self, operation: str, parameters: Any, many: bool) -> None:
        aio = self._adapt._connection
        try:
            conn = aio._conn  # aiosqlite raises ValueError("no active connection") once closed
            self.description, self.rowcount, self.lastrowid, rows = await_(
                aio._execute(functools.partial(_run, conn, operation, parameters, many))
            )
        except Exception as error:
            self._adapt._handle_exception(error)
        self._rows = collections.deque(rows)

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._call(operation, parameters, many=False)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._call(operation, seq_of_parameters, many=True)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        n = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(n, len(self._rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio results ask the cursor to let go of the database: this one never held on."""

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def _idle(self) -> bool:
        """No transaction open (sqlite3's autocommit flag: a field read, made while no call of this connection
        runs on its thread, as the pool and the session only end a transaction between statements)."""
        aio = self._connection
        if aio._connection is None:
            return False  # closed: aiosqlite's own call reports it
        try:
            return not aio._connection.in_transaction
        except sqlite3.ProgrammingError:  # a Python whose sqlite3 checks the thread here too: ask on the thread
            return False

    def rollback(self) -> None:
        if not self._idle():  # the pool's rollback when a connection comes back after a COMMIT costs no trip
            super().rollback()

    def commit(self) -> None:
        if not self._idle():
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


@functools.cache
def engine_module() -> OneTripDBAPI:
    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
