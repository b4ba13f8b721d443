"""Cache epochs (core.cache_epochs): a unit of work that changes what a cache holds bumps the cache's epoch row in
its own transaction (a rollback bumps nothing), and a process reads the epochs at most once per interval."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, delete, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import cache_epochs, db
from scribetree.core.audit import RequestMeta
from scribetree.core.cache_epochs import AUTH, EDIT_ACCESS, CacheEpoch
from scribetree.core.ids import uuid7
from scribetree.courses.models import CourseMember, CourseRole
from scribetree.identity.exceptions import InvalidCredentials
from scribetree.identity.service import identity
from scribetree.tenancy.models import Membership, MembershipStatus, Tenant
from tests.factories.courses import create_course, enroll
from tests.factories.tenancy import PASSWORD, create_member


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@contextmanager
def fake_epoch_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """The production interval (1 s) on a clock the test moves; what was read before is forgotten."""
    fake = FakeClock()
    monkeypatch.setattr(cache_epochs, "_now", fake)
    monkeypatch.setattr(cache_epochs, "CACHE_EPOCH_CHECK_SECONDS", 1.0)
    cache_epochs.reset()
    try:
        yield fake
    finally:
        cache_epochs.reset()


@pytest.fixture
def epoch_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    with fake_epoch_clock(monkeypatch) as fake:
        yield fake


@contextmanager
def epoch_reads() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT") and "FROM cache_epochs" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def epoch(engines: db.Engines, name: str) -> int:
    """The committed epoch, read on a connection of its own (0 when the row is missing)."""
    async with engines.read.connect() as conn:
        value = (await conn.execute(select(CacheEpoch.epoch).where(CacheEpoch.name == name))).scalar_one_or_none()
    return value or 0


async def bump_elsewhere(engines: db.Engines, name: str) -> None:
    """Another process's commit: a Core connection, so this process's session listeners see nothing."""
    async with engines.write.begin() as conn:
        await conn.execute(cache_epochs._BUMP, {"name": name})


class TestWritersBump:
    async def test_sign_out_everywhere_bumps_auth_in_its_transaction_and_a_rollback_bumps_nothing(
        self, session: AsyncSession, tenant: Tenant, engines: db.Engines
    ) -> None:
        user, _ = await create_member(session, tenant)
        await session.commit()
        before = await epoch(engines, "auth")
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as s:
                await identity.sign_out_everywhere(s, user.id)
                await s.flush()
                raise RuntimeError("the request failed")
        assert await epoch(engines, "auth") == before
        generation = AUTH.generation
        async with db.unit_of_work() as s:
            await identity.sign_out_everywhere(s, user.id)
            assert await epoch(engines, "auth") == before  # not before the commit
        assert await epoch(engines, "auth") == before + 1
        assert AUTH.generation == generation + 1  # and this process dropped its own cache at once

    async def test_sign_out_and_deactivation_bump_auth(
        self, session: AsyncSession, tenant: Tenant, engines: db.Engines
    ) -> None:
        user, membership = await create_member(session, tenant)
        token, _ = await identity.start_session(session, user=user, tenant_id=tenant.id, meta=RequestMeta())
        await session.commit()
        before = await epoch(engines, "auth")
        async with db.unit_of_work() as s:
            assert await identity.end_session(s, token) is not None  # sign-out: an ORM change of the row
        assert await epoch(engines, "auth") == before + 1
        async with db.unit_of_work() as s:
            await s.execute(
                update(Membership)
                .where(Membership.tenant_id == tenant.id, Membership.user_id == user.id)
                .values(status=MembershipStatus.deactivated)
            )
        assert await epoch(engines, "auth") == before + 2
        async with db.unit_of_work() as s:
            m = await s.get(Membership, membership.id)
            assert m is not None
            m.status = MembershipStatus.active  # reactivated; left for the commit's own flush
        assert await epoch(engines, "auth") == before + 3

    async def test_roster_changes_bump_edit_access_not_auth(
        self, session: AsyncSession, tenant: Tenant, engines: db.Engines
    ) -> None:
        course = await create_course(session, tenant)
        user, _ = await create_member(session, tenant)
        await session.commit()
        auth, access = await epoch(engines, "auth"), await epoch(engines, "edit_access")
        async with db.unit_of_work() as s:
            await enroll(s, course, user, CourseRole.student)  # a new roster row grants access
        assert await epoch(engines, "edit_access") == access + 1
        async with db.unit_of_work() as s:
            await s.execute(delete(CourseMember).where(CourseMember.user_id == user.id))
        assert await epoch(engines, "edit_access") == access + 2
        async with db.unit_of_work() as s:  # an INSERT statement (not a flushed object) counts too
            await s.execute(
                insert(CourseMember).values(
                    id=uuid7(), tenant_id=tenant.id, course_id=course.id, user_id=user.id, role=CourseRole.ta
                )
            )
        assert await epoch(engines, "edit_access") == access + 3
        assert await epoch(engines, "auth") == auth

    async def test_sign_ins_and_touches_bump_nothing(
        self, session: AsyncSession, tenant: Tenant, engines: db.Engines
    ) -> None:
        """A storm of sign-ins must not clear every process's cache: a new session row, the lockout counters and
        the last-seen time change no cached answer."""
        user, _ = await create_member(session, tenant, email="storm@example.edu")
        await session.commit()
        auth = await epoch(engines, "auth")
        async with db.unit_of_work() as s:
            with pytest.raises(InvalidCredentials):
                await identity.authenticate(s, s, "storm@example.edu", "wrong password")
        async with db.unit_of_work() as s:
            await identity.authenticate(s, s, "storm@example.edu", PASSWORD)
            _, row = await identity.start_session(s, user=user, tenant_id=tenant.id, meta=RequestMeta())
        async with db.unit_of_work() as s:
            await identity.touch_session(s, row.id)
        assert await epoch(engines, "auth") == auth

    async def test_a_change_in_a_released_savepoint_is_published_with_the_outer_commit_only(
        self, session: AsyncSession, tenant: Tenant, engines: db.Engines
    ) -> None:
        user, _ = await create_member(session, tenant)
        await session.commit()
        before, generation = await epoch(engines, "auth"), AUTH.generation
        s = db.make_session(write=True)
        try:
            async with s.begin_nested():
                await identity.sign_out_everywhere(s, user.id)
            assert AUTH.generation == generation  # released, not committed: the outer transaction may roll back
            await s.rollback()
            assert await epoch(engines, "auth") == before and AUTH.generation == generation
            async with s.begin_nested():
                await identity.sign_out_everywhere(s, user.id)
            await s.commit()
        finally:
            await s.close()
        assert await epoch(engines, "auth") > before and AUTH.generation == generation + 1

    async def test_a_missing_row_is_created_by_the_first_bump(
        self, session: AsyncSession, tenant: Tenant, engines: db.Engines
    ) -> None:
        user, _ = await create_member(session, tenant)
        await session.commit()
        async with engines.write.begin() as conn:
            await conn.execute(delete(CacheEpoch))
        async with db.unit_of_work() as s:
            await identity.sign_out_everywhere(s, user.id)
        assert await epoch(engines, "auth") == 1


class TestReaders:
    async def test_one_read_per_interval_for_the_whole_process(
        self, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        sessions = [db.make_session(write=False) for _ in range(4)]
        try:
            with epoch_reads() as reads:
                await asyncio.gather(*(cache_epochs.check(s) for s in sessions))  # at once: one does the read
            assert len(reads) == 1
            epoch_clock.t += 0.9
            with epoch_reads() as reads:
                for s in sessions:
                    await cache_epochs.check(s)
            assert reads == []
            epoch_clock.t += 0.2
            with epoch_reads() as reads:
                for s in sessions:
                    await cache_epochs.check(s)
            assert len(reads) == 1
        finally:
            for s in sessions:
                await s.close()

    async def test_a_bump_by_another_process_drops_that_cache_at_the_next_check(
        self, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        async with db.unit_of_work(write=False) as s:
            await cache_epochs.check(s)  # the first read
        auth, access = AUTH.generation, EDIT_ACCESS.generation
        await bump_elsewhere(engines, "edit_access")
        epoch_clock.t += 0.5
        async with db.unit_of_work(write=False) as s:
            await cache_epochs.check(s)
        assert (AUTH.generation, EDIT_ACCESS.generation) == (auth, access)  # not yet: within the interval
        epoch_clock.t += 0.6
        async with db.unit_of_work(write=False) as s:
            await cache_epochs.check(s)
        assert (AUTH.generation, EDIT_ACCESS.generation) == (auth, access + 1)
        epoch_clock.t += 1.1
        async with db.unit_of_work(write=False) as s:
            await cache_epochs.check(s)
        assert (AUTH.generation, EDIT_ACCESS.generation) == (auth, access + 1)  # nothing moved since

    async def test_the_first_read_drops_everything_and_settle_reads_once_per_transaction(
        self, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        auth, access = AUTH.generation, EDIT_ACCESS.generation
        async with db.unit_of_work(write=False) as s:
            with epoch_reads() as reads:
                assert await cache_epochs.settle(s, AUTH) is True
                assert await cache_epochs.settle(s, AUTH) is True
            assert len(reads) == 1
        assert (AUTH.generation, EDIT_ACCESS.generation) == (auth + 1, access + 1)
        async with db.unit_of_work(write=False) as s:
            with epoch_reads() as reads:
                assert await cache_epochs.settle(s, AUTH) is True  # a new transaction reads again
            assert len(reads) == 1

    async def test_settle_refuses_a_view_older_than_the_process(
        self, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        """A transaction that read the epochs before a newer read saw a change must not fill the cache."""
        old = db.make_session(write=False)
        try:
            assert await cache_epochs.settle(old, AUTH) is True
            await bump_elsewhere(engines, "auth")
            async with db.unit_of_work(write=False) as s:
                assert await cache_epochs.settle(s, AUTH) is True  # the newer read, applied
            assert await cache_epochs.settle(old, AUTH) is False
        finally:
            await old.close()
