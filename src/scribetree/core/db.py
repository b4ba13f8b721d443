"""Engines, sessions and the unit of work (STYLE T1-T4, T7).

Two engines: reads and writes. On PostgreSQL both point at the primary today (reads can move to a
replica by configuration later). On SQLite the write engine holds a single connection and begins
every transaction with ``BEGIN IMMEDIATE``: writers queue in the pool instead of failing with
``SQLITE_BUSY`` when a deferred read transaction tries to upgrade, and readers (WAL) never wait.

A unit of work commits once, then runs the after-commit hooks (event delivery, pub/sub). Services
and repositories never commit (T2).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, Uuid, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    declared_attr,
    mapped_column,
)
from sqlalchemy.pool import StaticPool

from scribetree.core import clock, sqlite_driver
from scribetree.core.config import settings
from scribetree.core.ids import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC; hands back aware UTC on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column; use core.clock.utcnow()")
        return clock.as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else clock.as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, uuid.UUID: Uuid, str: String}


class RecordMixin:
    """Time-ordered UUID key and creation/modification times."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow, nullable=False)
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=clock.utcnow, nullable=True)


class TenantScoped:
    """Every tenant-owned table mixes this in (STYLE N1); an architecture test checks the rest."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        from sqlalchemy import ForeignKey

        return mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)


# ---- engines -------------------------------------------------------------------------------------------


@dataclass
class Engines:
    read: AsyncEngine
    write: AsyncEngine
    url: str
    lane: _WriterLane | None = None  # SQLite: the group commit of run_committed, made on first use

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


_engines: Engines | None = None
SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long a connection waits for another's write lock before "database is locked"


def _sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=1 if writer else 5,
        max_overflow=0 if writer else 5,
        pool_timeout=60,
        connect_args={"timeout": 30},
        module=sqlite_driver.engine_module(),  # one trip to the connection's thread per statement
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy pysqlite recipe)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def create_engines(url: str | None = None) -> Engines:
    url = url or settings.database_url
    if url.startswith("sqlite"):
        if ":///" in url:
            path = url.split(":///", 1)[1]
            if path and path != ":memory:":
                from pathlib import Path

                Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Engines(read=_sqlite_engine(url, writer=False), write=_sqlite_engine(url, writer=True), url=url)
    # Most recently returned first: a quiet spell leaves the extra connections idle (pinged before use,
    # _ping_when_idle) while the warm ones serve.
    engine = create_async_engine(url, pool_size=settings.DATABASE_POOL_SIZE, max_overflow=0, pool_use_lifo=True)
    _ping_when_idle(engine)
    return Engines(read=engine, write=engine, url=url)


PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for a connection that sat in the pool longer than PING_AFTER_IDLE_SECONDS.

    ``pool_pre_ping`` pings at every checkout: one more round trip for every request on PostgreSQL, each a few trips
    through a busy event loop. A connection handed back a moment ago is as alive as a ping would show, so only
    one that waited longer is pinged (a pool such as HikariCP does the same, within 500 ms). A connection the
    database dropped (a restart, a failover) has waited in the pool since: its ping fails, SQLAlchemy replaces it
    and marks the pool's older connections invalid, as with ``pool_pre_ping``.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new, or back in the pool a moment ago
        dialect = engine.sync_engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                # as pool_pre_ping does: this connection and every older one in the pool are replaced
                raise InvalidatePoolError("the pooled connection is gone") from exc
            raise


def engines() -> Engines:
    global _engines
    if _engines is None:
        _engines = create_engines()
    return _engines


async def dispose_engines() -> None:
    global _engines
    if _engines is not None:
        await _engines.write.dispose()
        if _engines.read is not _engines.write:
            await _engines.read.dispose()
        _engines = None


def use_engines(new: Engines | None) -> None:
    """Point the process at other engines (tests, `scribetree` commands with --database)."""
    global _engines
    _engines = new


class TrackedSession(Session):
    """Knows whether its current transaction has written, so ``release`` can refuse to end one that has."""


@event.listens_for(TrackedSession, "do_orm_execute")
def _note_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


@event.listens_for(TrackedSession, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    session.info["wrote"] = True


@event.listens_for(TrackedSession, "after_transaction_end")
def _forget_writes(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop("wrote", None)


def make_session(*, write: bool) -> AsyncSession:
    eng = engines()
    factory = async_sessionmaker(
        eng.write if write else eng.read, expire_on_commit=False, autoflush=False, sync_session_class=TrackedSession
    )
    return factory()


async def release(session: AsyncSession) -> None:
    """End a transaction that has only read, handing its connection back to the pool; loaded objects stay usable.

    For a slow step in the middle of a request (a password hash takes ~50 ms of CPU): holding a pooled
    connection through it starves the pool under a sign-in storm. The session starts a new transaction
    on its next query. Refuses (a programming error) when the transaction has written.
    """
    if not session.in_transaction():
        return
    if session.info.get("wrote"):
        raise RuntimeError("release() would commit writes in the middle of a unit of work")
    await session.commit()


# ---- a transaction script in one step ---------------------------------------------------------------------

T = TypeVar("T")


class _InTransaction:
    """The write connection's sqlite3 connection, lent to a sync engine: commit and rollback belong to the async
    session that began the transaction, so here they do nothing (and closing does not close it)."""

    def __init__(self, dbapi_connection: Any) -> None:
        self._dbapi = dbapi_connection

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dbapi, name)


def _sync_engine_for(driver: Any) -> Engine:
    """A sync SQLAlchemy engine over the aiosqlite connection's sqlite3 connection, made once and kept on the
    driver connection (so it lives and goes with it); used on that connection's own thread only."""
    engine: Engine | None = getattr(driver, "_scribetree_sync_engine", None)
    if engine is None:
        lent = _InTransaction(driver._conn)
        engine = create_engine("sqlite://", creator=lambda: lent, poolclass=StaticPool, pool_reset_on_return=None)
        driver._scribetree_sync_engine = engine
    return engine


async def run_in_transaction(session: AsyncSession, script: Callable[[Connection], T]) -> T:
    """Run ``script`` (sync SQLAlchemy Core on the given Connection) inside ``session``'s transaction.

    SQLite: in ONE step on the write connection's own thread (aiosqlite's). Through the async driver every
    statement costs a trip through the event loop (``core.sqlite_driver``), and while the loop is busy with other
    requests the single writer stays held between them; in one step the writer is held for the statements' own
    time. PostgreSQL: through ``run_sync``, statement by statement (no single writer there).
    Commit and rollback stay with the unit of work (T1); ``script`` must not commit.
    """
    if not engines().is_sqlite:
        return await session.run_sync(lambda s: script(s.connection()))
    conn = await session.connection()  # begins the transaction (BEGIN IMMEDIATE on the writer)
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # aiosqlite.Connection: a thread that owns a sqlite3 connection
    engine = _sync_engine_for(driver)

    def step() -> T:
        with engine.connect() as sync:
            return script(sync)

    session.info["wrote"] = True
    return await driver._execute(step)  # aiosqlite's own queue: the script runs on the connection's thread


async def run_committed(session: AsyncSession, script: Callable[[Connection], T]) -> T:
    """Run ``script`` as its own transaction, committed when this returns (the batch path of the editor).

    SQLite: through the writer lane, a group commit: scripts that arrive while the writer is busy run together
    in ONE step, each in its own savepoint (a script that raises rolls back only its own statements and gets its
    exception), then one COMMIT. The writer is held for the scripts' own time, never across trips through a busy
    event loop. The step runs on the event loop's own thread when SQLite's write lock is free (see ``_WriterLane``),
    else on the write connection's thread.
    After-commit hooks added to ``session`` afterwards run at its unit of work's commit as usual.
    When ``session`` is already in a transaction (on SQLite that transaction holds the writer, which the lane
    would wait for) and on PostgreSQL (no single writer), the script runs in ``session``'s transaction
    instead, committed by its unit of work; on PostgreSQL a script may commit it itself with its last writes
    (``core.prepared.send_and_commit``: the batch path's ``BatchStore(commit=True)``, one round trip for both), and the
    unit of work's commit then finds nothing left to do.
    """
    eng = engines()
    if not eng.is_sqlite or session.in_transaction():
        return await run_in_transaction(session, script)
    return await _lane(eng).submit(script)


async def commit_now(script: Callable[[Connection], T]) -> T:
    """A small write in a transaction of its own (bookkeeping such as a credential's last use), committed when this
    returns: on SQLite through the writer lane (see ``run_committed``; an ORM unit of work would hold the single
    writer across several trips through a busy event loop), elsewhere in a unit of work of its own."""
    eng = engines()
    if eng.is_sqlite:
        return await _lane(eng).submit(script)
    async with unit_of_work() as session:
        return await run_in_transaction(session, script)


def _lane(eng: Engines) -> _WriterLane:
    if eng.lane is None:
        eng.lane = _WriterLane(eng.write)
    return eng.lane


class _WriterLane:
    """FIFO group commit on SQLite's single writer (see ``run_committed``).

    A group runs on the event loop's thread, synchronously, when SQLite's write lock is free (the usual case: this
    process's writer connection is the only writer). On the connection's own thread each statement lets go of the
    GIL and may have to win it back from the busy event loop, which keeps it up to the interpreter's switch interval
    (5 ms): under the class-writing load groups took up to a second for a few milliseconds of statements, while the
    CPU was half idle, and p95 went 70 -> 39 ms with groups on the loop (bench/RESULTS.md, "Class writing: the
    stalls found and removed"). On the loop a group costs its statements' time, during which the loop waits, so a
    group is at most ``GROUP_MAX`` scripts and the loop is handed back between groups. When another connection or
    process holds the write lock, waiting for it (``busy_timeout``) must not stop the loop: that group runs on the
    connection's thread as before.
    """

    GROUP_MAX = 64

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.waiting: Lane = []
        self.draining: asyncio.Task[None] | None = None

    async def submit(self, script: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self.waiting.append((script, future))
        if self.draining is None or self.draining.done() or self.draining.get_loop() is not loop:
            self.draining = loop.create_task(self._drain(), name="sqlite-writer-lane")
        return await asyncio.shield(future)  # a cancelled caller does not cancel the group it is part of

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self.waiting:
            group, self.waiting = self.waiting[: self.GROUP_MAX], self.waiting[self.GROUP_MAX :]
            # Callers of a loop that ended (a test's) are gone: their scripts are dropped unrun, nobody to answer.
            group = [(script, future) for script, future in group if future.get_loop() is loop]
            if not group:
                continue
            try:
                async with self.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver = raw.driver_connection
                    engine = _sync_engine_for(driver)
                    outcomes = _run_group_if_free(driver._conn, engine, group)
                    if outcomes is None:  # another connection writes: wait for it on the connection's thread
                        outcomes = await driver._execute(functools.partial(_run_group, driver._conn, engine, group))
            except BaseException as exc:  # the group could not run or commit: nothing of it was kept
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("writer lane stopped"))
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            await asyncio.sleep(0)  # the loop serves what arrived meanwhile before the next group


Lane = list[tuple[Callable[[Connection], Any], Any]]


def _run_group_if_free(dbapi: Any, engine: Engine, group: Lane) -> list[tuple[bool, Any]] | None:
    """``_run_group`` now, on the calling thread, if SQLite's write lock can be taken without waiting; else None
    (nothing done)."""
    dbapi.execute("PRAGMA busy_timeout=0")
    try:
        dbapi.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return None
    finally:
        dbapi.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return _run_group(dbapi, engine, group, begun=True)


def _run_group(dbapi: Any, engine: Engine, group: Lane, *, begun: bool = False) -> list[tuple[bool, Any]]:
    """BEGIN IMMEDIATE (unless ``begun``), each script in a savepoint, COMMIT (all or, on error, nothing)."""
    outcomes: list[tuple[bool, Any]] = []
    if not begun:
        dbapi.execute("BEGIN IMMEDIATE")
    try:
        for script, _ in group:
            dbapi.execute("SAVEPOINT lane")
            try:
                with engine.connect() as sync:
                    outcomes.append((True, script(sync)))
            except Exception as exc:
                dbapi.execute("ROLLBACK TO lane")
                outcomes.append((False, exc))
            dbapi.execute("RELEASE lane")
        dbapi.execute("COMMIT")
    except BaseException:
        if dbapi.in_transaction:
            dbapi.execute("ROLLBACK")
        raise
    return outcomes


# ---- unit of work -------------------------------------------------------------------------------------

AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run ``hook`` once this session's unit of work has committed; dropped on rollback (T4)."""
    session.info.setdefault("after_commit", []).append(hook)


def untouched(session: AsyncSession) -> bool:
    """Nothing begun, loaded or pending: committing, rolling back or closing it would do nothing. (The editor's
    batch route makes a session for its access check, which its caches usually answer, and one whose only use is
    its after-commit hooks: committing and closing such a session cost ~50 µs of the loop for nothing, see
    ``python -m bench.batch_costs``.)"""
    return not (session.in_transaction() or session.identity_map or session.new or session.deleted)


async def commit(session: AsyncSession) -> None:
    """Commit and run after-commit hooks. Only unit-of-work owners call this (T1, T2)."""
    if not untouched(session):
        await session.commit()
    hooks: list[AfterCommit] = session.info.pop("after_commit", [])
    for hook in hooks:
        await hook()


async def rollback(session: AsyncSession) -> None:
    session.info.pop("after_commit", None)
    if not untouched(session):
        await session.rollback()


async def close(session: AsyncSession) -> None:
    if not untouched(session):
        await session.close()


@contextlib.asynccontextmanager
async def unit_of_work(*, write: bool = True) -> AsyncIterator[AsyncSession]:
    """One job, one CLI command or one MCP call: commits once on success, rolls back on error."""
    session = make_session(write=write)
    try:
        yield session
        if write:
            await commit(session)
        else:
            await rollback(session)
    except BaseException:
        await rollback(session)
        raise
    finally:
        await close(session)
