"""The batch path's two caches (sign-in, edit access) under changes committed by ANOTHER process: seen after the
epoch check interval, never served beyond it; and a cached sign-in never outlives its session's clock limits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import cache_epochs, clock, db
from scribetree.core.audit import RequestMeta
from scribetree.core.config import settings
from scribetree.courses.models import CourseMember
from scribetree.identity.models import PlatformRole, UserSession
from scribetree.tenancy import auth
from scribetree.tenancy.models import SupportAccessGrant, Tenant
from scribetree.writing.access import check_edit
from tests.core.test_cache_epochs import FakeClock, fake_epoch_clock
from tests.factories.tenancy import create_platform_user
from tests.fixtures.auth import make_client
from tests.sql_log import statements
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_auth_cache import Typist, session_reads, typist
from tests.writing.test_documents_api import open_doc
from tests.writing.test_edit_access_cache import access_reads


@pytest.fixture
def epoch_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    with fake_epoch_clock(monkeypatch) as fake:
        yield fake


async def other_process(engines: db.Engines, *stmts: object) -> None:
    """Commit ``stmts`` the way another process would: on a connection of its own, outside any ORM session of this
    process (whose listeners would clear this process's caches at once)."""
    async with engines.write.begin() as conn:
        for stmt in stmts:
            await conn.execute(stmt)  # type: ignore[call-overload]


def bump(name: str) -> object:
    return cache_epochs._BUMP.bindparams(name=name)


class TestAnotherProcess:
    async def test_a_sign_out_is_seen_after_the_check_interval(
        self, klass: Klass, client_for: ClientFor, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        t = await typist(klass, client_for)
        await other_process(
            engines,
            update(UserSession).where(UserSession.user_id == klass.student.id).values(revoked_at=clock.utcnow()),
            bump("auth"),
        )
        epoch_clock.t += 0.5
        with statements() as seen:
            assert await t.type("two ") == 200  # within the interval the cache still answers, asking nothing
        assert session_reads(seen) == [] and not [s for s in seen if "cache_epochs" in s], seen
        epoch_clock.t += 0.6
        assert await t.type("three") == 401
        assert await t.type("four") == 401

    async def test_a_roster_removal_is_seen_after_the_check_interval(
        self, klass: Klass, client_for: ClientFor, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        t = await typist(klass, client_for)
        with statements() as seen:
            assert await t.type("two ") == 200
        assert access_reads(seen) == [], seen  # answered from the cache
        await other_process(
            engines,
            delete(CourseMember).where(
                CourseMember.course_id == klass.course.id, CourseMember.user_id == klass.student.id
            ),
            bump("edit_access"),
        )
        epoch_clock.t += 0.9
        assert await t.type("three ") == 200
        epoch_clock.t += 0.2
        assert await t.type("four") == 404
        assert t.text == "One two three "

    async def test_without_a_bump_the_change_waits_for_the_ttl(
        self, klass: Klass, client_for: ClientFor, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        """Control: the epoch is what ends the stale answer above, not something else on the way."""
        t = await typist(klass, client_for)
        await other_process(
            engines,
            update(UserSession).where(UserSession.user_id == klass.student.id).values(revoked_at=clock.utcnow()),
        )
        epoch_clock.t += 5
        assert await t.type("two ") == 200


class TestSessionLimits:
    async def test_a_cached_sign_in_ends_with_the_sessions_expiry(
        self, klass: Klass, client_for: ClientFor, engines: db.Engines
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        # the session was issued to end in 30 s (as signed in, not a change: no epoch bump)
        ends = clock.utcnow() + timedelta(seconds=30)
        await other_process(
            engines, update(UserSession).where(UserSession.user_id == klass.student.id).values(expires_at=ends)
        )
        t = Typist(c, await open_doc(c, klass.assignment.id))  # the sign-in is cached here
        with clock.travel(timedelta(seconds=20)), statements() as seen:
            assert await t.type("One ") == 200
        assert session_reads(seen) == [], seen  # from the cache
        with clock.travel(timedelta(seconds=31)):
            assert await t.type("two") == 401  # the cache's 60 s would have kept it

    async def test_a_cached_sign_in_is_checked_again_at_the_idle_limit(
        self, klass: Klass, client_for: ClientFor, engines: db.Engines
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
        last_seen = clock.utcnow() - idle + timedelta(seconds=30)  # idle for all but 30 s of the limit
        await other_process(
            engines,
            update(UserSession).where(UserSession.user_id == klass.student.id).values(last_seen_at=last_seen),
        )
        t = Typist(c, await open_doc(c, klass.assignment.id))  # cached (and the session touched: seen now)
        with clock.travel(timedelta(seconds=20)), statements() as seen:
            assert await t.type("One ") == 200
        assert session_reads(seen) == [], seen
        with clock.travel(timedelta(seconds=31)), statements() as seen:
            assert await t.type("two ") == 200  # still live (the touch), but asked again, not from the cache
        assert session_reads(seen), seen

    async def test_the_ttl_is_a_minute(self, klass: Klass, client_for: ClientFor) -> None:
        t = await typist(klass, client_for)
        with clock.travel(timedelta(seconds=59)), statements() as seen:
            assert await t.type("two ") == 200
        assert session_reads(seen) == [], seen
        with clock.travel(timedelta(seconds=61)), statements() as seen:
            assert await t.type("three ") == 200
        assert session_reads(seen), seen

    async def test_a_cached_support_sign_in_ends_with_its_grant(
        self, app: FastAPI, session: AsyncSession, tenant: Tenant, engines: db.Engines
    ) -> None:
        support = await create_platform_user(session, PlatformRole.support)
        await session.commit()
        async with await make_client(app, session, support, None) as sc:
            r = await sc.post(
                "/api/v1/platform/support-access",
                json={"tenant_slug": tenant.slug, "reason": "Ticket 4411: admin cannot see invitations", "minutes": 30},
            )
            assert r.status_code == 201, r.text
            sc.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            sc.cookies.set("st_session", r.cookies["st_session"])
            # the grant was given for 30 s (as entered, not a change: no epoch bump); the session runs 30 minutes
            ends = clock.utcnow() + timedelta(seconds=30)
            await other_process(engines, update(SupportAccessGrant).values(expires_at=ends))
            assert (await sc.get("/api/v1/me")).status_code == 200  # cached here
            with clock.travel(timedelta(seconds=20)), statements() as seen:
                assert (await sc.get("/api/v1/me")).status_code == 200
            assert session_reads(seen) == [], seen
            with clock.travel(timedelta(seconds=31)):
                assert (await sc.get("/api/v1/me")).status_code == 401


class TestNotKept:
    """What is read under epochs older than the process's is answered but not cached, and neither is a sign-in
    whose limits have passed or whose rows are gone."""

    async def test_answers_read_under_older_epochs_are_not_cached(
        self, klass: Klass, client_for: ClientFor, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        doc_id = uuid.UUID((await open_doc(c, klass.assignment.id))["id"])
        seen = await answer_under_older_epochs(engines, c.cookies["st_session"], doc_id, "auth", "edit_access")
        assert session_reads(seen) and access_reads(seen), seen  # neither answer was kept

    async def test_a_sign_in_without_its_rows_gets_no_time_in_the_cache(
        self, klass: Klass, client_for: ClientFor
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        cookie = c.cookies["st_session"]
        async with db.unit_of_work(write=False) as s:
            ctx = await auth._session_context(s, cookie, RequestMeta())
            assert ctx is not None
            ttl_end = clock.utcnow().timestamp() + 60
            assert await auth._valid_until(s, ctx, ttl_end) == ttl_end
            assert await auth._valid_until(s, replace(ctx, session_id=uuid.uuid4()), ttl_end) == 0
            support = replace(ctx, support_grant_id=uuid.uuid4())
            assert await auth._valid_until(s, support, ttl_end) == 0


async def answer_under_older_epochs(engines: db.Engines, cookie: str, doc_id: uuid.UUID, *moved: str) -> list[str]:
    """A sign-in and an edit-access answer read in a transaction that read the epochs before a newer read saw
    ``moved`` change; returns the statements a later request needs for the same two answers (none when both were
    kept)."""
    old = db.make_session(write=False)
    try:
        assert await cache_epochs.settle(old, cache_epochs.AUTH) is True  # this transaction read the epochs ...
        await other_process(engines, *(bump(name) for name in moved))
        async with db.unit_of_work(write=False) as s:
            assert await cache_epochs.settle(s, cache_epochs.AUTH) is True  # ... then a newer read saw them move
        for cache in cache_epochs.WATCHED:  # the older transaction may not fill the caches whose epoch moved
            assert await cache_epochs.settle(old, cache) is (cache.name not in moved), cache.name
        ctx = await auth._session_context(old, cookie, RequestMeta())
        assert ctx is not None
        await check_edit(old, ctx, doc_id)
    finally:
        await old.close()
    with statements() as seen:
        async with db.unit_of_work(write=False) as s:
            ctx = await auth._session_context(s, cookie, RequestMeta())
            assert ctx is not None
            await check_edit(s, ctx, doc_id)
    return seen


class TestKeptWhileAnotherCacheMoves:
    async def test_answers_are_kept_when_only_another_caches_epoch_moved(
        self, klass: Klass, client_for: ClientFor, engines: db.Engines, epoch_clock: FakeClock
    ) -> None:
        """Students opening documents move the submission lists' epoch again and again: a sign-in or an edit-access
        answer read meanwhile is still kept (it was not, and the caches stayed empty until the openings stopped)."""
        c = await client_for(klass.student, klass.tenant)
        doc_id = uuid.UUID((await open_doc(c, klass.assignment.id))["id"])
        cache_epochs.AUTH.invalidate()  # empty, so what is cached below is what the older transaction read
        cache_epochs.EDIT_ACCESS.invalidate()
        seen = await answer_under_older_epochs(engines, c.cookies["st_session"], doc_id, "submission_lists")
        assert not session_reads(seen) and not access_reads(seen), seen  # both answers were kept
