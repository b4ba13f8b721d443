"""core/sqlite_driver: a statement on SQLite is one trip to the connection's thread, with DB-API results intact.

These run on a SQLite file of their own whatever SCRIBETREE_TEST_DATABASE says: the driver is SQLite's alone.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from scribetree.core import db


@pytest.fixture
async def own(tmp_path: Path) -> AsyncIterator[db.Engines]:
    made = db.create_engines(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with made.write.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield made
    await made.write.dispose()
    await made.read.dispose()


class Trips:
    """Counts the calls an aiosqlite connection runs on its thread, and on which threads they ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[int] = set()

    async def watch(self, conn: AsyncConnection) -> None:
        driver = (await conn.get_raw_connection()).driver_connection
        real = driver._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            def on_thread() -> Any:
                self.threads.add(threading.get_ident())
                return fn(*args, **kwargs)

            self.calls += 1
            return await real(on_thread)

        driver._execute = counted


async def test_a_read_transaction_is_one_trip_per_statement(own: db.Engines) -> None:
    async with own.write.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')"))
    trips = Trips()
    async with own.read.connect() as conn:
        await trips.watch(conn)
        async with conn.begin():  # BEGIN (the engine's own, a statement too)
            first = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
            count = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
            await conn.rollback()  # aiosqlite's rollback: one trip of its own
    assert first == ["a", "b", "c"] and count == 3
    # BEGIN + 2 SELECTs + ROLLBACK, and none for the pool's rollback when the connection came back (nothing open);
    # SQLAlchemy's cursor over aiosqlite made 3 + 4 + 4 + 1 + 1 = 13 trips
    assert trips.calls == 4
    assert threading.get_ident() not in trips.threads  # the statements ran on the connection's thread


def _dbapi(sync_conn: Any) -> Any:
    return sync_conn.connection.dbapi_connection  # the adapted connection, used as SQLAlchemy does: in its greenlet


async def test_cursor_results_are_those_of_sqlite3(own: db.Engines) -> None:
    def check(sync_conn: Any) -> None:
        cur = _dbapi(sync_conn).cursor()
        cur.execute("INSERT INTO t (name) VALUES (?)", ("x",))
        assert cur.rowcount == 1 and cur.lastrowid == 1 and cur.description is None
        cur.executemany("INSERT INTO t (name) VALUES (?)", [("y",), ("z",), ("w",)])
        assert cur.rowcount == 3
        cur.execute("UPDATE t SET name = name || '!' WHERE id > ?", (2,))
        assert cur.rowcount == 2
        cur.execute("SELECT id, name FROM t ORDER BY id")
        assert [d[0] for d in cur.description] == ["id", "name"]
        assert cur.fetchone() == (1, "x")
        assert cur.fetchmany(2) == [(2, "y"), (3, "z!")]
        assert cur.fetchall() == [(4, "w!")]
        assert cur.fetchone() is None and cur.fetchall() == [] and cur.fetchmany() == []
        cur.execute("SELECT name FROM t WHERE id < 3 ORDER BY id")
        assert list(cur) == [("x",), ("y",)]
        cur.close()

    async with own.write.connect() as conn:
        await conn.run_sync(check)
        await conn.rollback()


async def test_emoji_and_every_script_come_back_byte_for_byte(own: db.Engines) -> None:
    name = "👩🏽‍🏫 e\u0301 مرحبا 漢字 \x00 end"
    async with own.write.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), {"n": name})
    async with own.read.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t"))).scalar_one() == name


async def test_errors_are_sqlalchemys_and_leave_the_connection_usable(own: db.Engines) -> None:
    async with own.write.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('same')"))
    async with own.write.connect() as conn:
        with pytest.raises(IntegrityError):
            async with conn.begin():
                await conn.execute(text("INSERT INTO t (name) VALUES ('same')"))
        with pytest.raises(OperationalError, match="no such table"):
            await conn.execute(text("SELECT * FROM missing"))
        await conn.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1


async def test_a_closed_connection_answers_with_operational_error(own: db.Engines) -> None:
    def check(sync_conn: Any) -> None:
        raw = _dbapi(sync_conn)
        raw.close()
        with pytest.raises(sqlite3.OperationalError, match="no active connection"):  # DB-API's, as aiosqlite's
            raw.cursor().execute("SELECT 1")

    async with own.read.connect() as conn:
        await conn.run_sync(check)
        await conn.invalidate()


async def test_streamed_results_still_come_row_by_row(own: db.Engines) -> None:
    async with own.write.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')"))
    async with own.read.connect() as conn:
        result = await conn.stream(text("SELECT name FROM t ORDER BY id"))
        assert [name async for (name,) in result] == ["a", "b", "c"]
