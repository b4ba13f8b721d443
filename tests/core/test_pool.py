"""A request never holds one pooled connection while waiting for another.

With a full pool that wait is a deadlock: under a sign-in storm every request holds its connection and
asks for a second one, nobody gets it, and the pool timeout turns them all into 500s. These tests run the
app on a pool of exactly one connection, where any such wait fails within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from scribetree.core import db
from scribetree.core.config import settings
from scribetree.identity.models import ApiToken, User, UserSession
from tests.factories.tenancy import PASSWORD, create_member


@pytest.fixture
async def one_connection(engines: db.Engines, database_url: str) -> AsyncIterator[db.Engines]:
    if engines.is_sqlite:  # the SQLite writer is one connection already; readers have their own pool
        tight = db.create_engines(database_url)
    else:
        engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=3)
        tight = db.Engines(read=engine, write=engine, url=database_url)
    async with in_use(tight, instead_of=engines):
        yield tight


@contextlib.asynccontextmanager
async def in_use(fresh: db.Engines, *, instead_of: db.Engines) -> AsyncIterator[None]:
    """The app on ``fresh`` engines for the block, then back on ``instead_of``, ``fresh`` disposed."""
    db.use_engines(fresh)
    try:
        yield
    finally:
        db.use_engines(instead_of)
        await fresh.write.dispose()
        if fresh.read is not fresh.write:
            await fresh.read.dispose()


async def test_signin_and_credential_use_work_on_a_single_connection_pool(app, session, tenant, one_connection):
    user, _ = await create_member(session, tenant)
    await session.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.post(f"/api/v1/tenants/{tenant.slug}/session", json={"email": user.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        me = await c.get("/api/v1/me")  # the session's last-use touch runs after the request's session closed
        assert me.status_code == 200, me.text
        created = await c.post("/api/v1/me/tokens", json={"name": "t"}, headers={"X-CSRF-Token": csrf})
        assert created.status_code == 201, created.text
        bearer = {"Authorization": f"Bearer {created.json()['token']}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anon:
        assert (await anon.get("/api/v1/me", headers=bearer)).status_code == 200

    used = (await session.execute(select(ApiToken.last_used_at))).scalar_one()
    assert used is not None, "the token's last use was not recorded"
    seen = (await session.execute(select(UserSession.last_seen_at))).scalars().all()
    assert len(seen) == 1 and seen[0] is not None


async def test_release_hands_the_connection_back_and_keeps_loaded_rows(engines, session, tenant):
    user, _ = await create_member(session, tenant)
    await session.commit()
    s = db.make_session(write=False)
    try:
        loaded = (await s.execute(select(User).where(User.id == user.id))).scalar_one()
        assert s.in_transaction()
        await db.release(s)
        assert not s.in_transaction()
        assert loaded.email == user.email  # still usable without a round trip
    finally:
        await s.close()


async def test_release_refuses_a_transaction_that_wrote(engines, session, tenant):
    user, _ = await create_member(session, tenant)
    await session.commit()
    s = db.make_session(write=True)
    try:
        await s.execute(update(User).where(User.id == user.id).values(display_name="Changed"))
        with pytest.raises(RuntimeError, match="commit writes"):
            await db.release(s)
    finally:
        await db.rollback(s)
        await s.close()
    name = (await session.execute(select(User.display_name).where(User.id == user.id))).scalar_one()
    assert name != "Changed"


# ---- PostgreSQL: a pooled connection is pinged only after it sat idle (core.db._ping_when_idle) ---------------


@pytest.fixture
async def own_pool(engines: db.Engines, database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[int]]:
    """The app's PostgreSQL engines, made afresh for the test; yields the pings sent so far (one entry each)."""
    if engines.is_sqlite:
        pytest.skip("SQLite has no network connection to lose and no ping")
    fresh = db.create_engines(database_url)
    dialect = fresh.write.sync_engine.dialect
    pings: list[int] = []
    real = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    async with in_use(fresh, instead_of=engines):
        yield pings


async def _drop(pid: int, database_url: str) -> None:
    """What a database restart or failover does to a pooled connection, done from a connection of another pool."""
    admin = create_async_engine(database_url)
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)


async def _backend_pid() -> int:
    async with db.unit_of_work(write=False) as s:
        return int((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged(own_pool: list[int]) -> None:
    first = await _backend_pid()
    for _ in range(5):
        assert await _backend_pid() == first  # the same connection, again and again
    assert own_pool == []


async def test_a_connection_the_database_dropped_while_idle_is_replaced_unseen(
    own_pool: list[int], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as after a long idle
    dropped = await _backend_pid()
    await _drop(dropped, database_url)
    assert await _backend_pid() != dropped  # pinged, found gone, replaced: the caller saw nothing
    assert own_pool != []


async def test_without_the_ping_a_dropped_connection_fails_its_next_user(
    own_pool: list[int], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the ping is for (and why one used again within the second is not pinged: it was alive a moment ago)."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    dropped = await _backend_pid()
    await _drop(dropped, database_url)
    with pytest.raises(DBAPIError):
        await _backend_pid()
    assert await _backend_pid() != dropped  # SQLAlchemy replaced it after the failure


async def test_one_failed_ping_replaces_every_older_connection_of_the_pool(
    own_pool: list[int], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart every pooled connection is gone: the first failed ping has the pool replace them all, so
    the others are not pinged one by one (as with pool_pre_ping)."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    gate = asyncio.Event()

    async def hold() -> int:
        async with db.unit_of_work(write=False) as s:
            pid = int((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            await gate.wait()  # both connections are out of the pool at once: two connections
            return pid

    holding = [asyncio.create_task(hold()) for _ in range(2)]
    await asyncio.sleep(0.5)
    gate.set()
    dropped = {await t for t in holding}
    assert len(dropped) == 2
    for pid in dropped:
        await _drop(pid, database_url)
    own_pool.clear()
    gate.clear()
    pool = db.engines().write.sync_engine.pool
    holding = []
    for n in (1, 2):  # one after the other, the first still held: the second cannot take the first's connection
        holding.append(asyncio.create_task(hold()))
        while pool.checkedout() < n:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # its ping (if any) and query are done
    gate.set()
    now = {await t for t in holding}
    assert len(now) == 2 and not now & dropped
    assert len(own_pool) == 1, own_pool  # the first checkout pinged; the second got a new connection unpinged


async def test_a_burst_reuses_the_connections_the_last_one_opened(own_pool: list[int]) -> None:
    """Connections opened for a burst stay in the pool for the next one. With overflow connections (the pool once
    kept 10 and opened 10 more when busy) every burst closed and reopened them: PostgreSQL c opened 174 backends in
    30 s, each with cold caches, and its slowest seconds queued behind them (bench/RESULTS.md)."""
    pool = db.engines().write.sync_engine.pool
    opened: list[int] = []
    event.listen(pool, "connect", lambda *_: opened.append(1))
    most = pool.size() + max(0, pool._max_overflow)  # every connection the pool may have out at once
    assert most >= settings.DATABASE_POOL_SIZE

    async def burst(n: int) -> set[int]:
        gate = asyncio.Event()

        async def hold() -> int:
            async with db.unit_of_work(write=False) as s:
                pid = int((await s.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                await gate.wait()
                return pid

        tasks = [asyncio.create_task(hold()) for _ in range(n)]
        while pool.checkedout() < n:
            await asyncio.sleep(0.01)
        gate.set()
        return {await t for t in tasks}

    first = await burst(most)
    assert len(first) == most and len(opened) == most
    for _ in range(3):
        assert await burst(most) == first  # the same backends each time
    assert len(opened) == most
