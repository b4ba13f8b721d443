"""The hash-chained audit trail (core.audit): real actions make a valid chain; altering, deleting or
truncating rows in the database is found at the row where it happened; concurrent writers never fork a chain."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, db
from scribetree.tenancy.models import Tenant
from tests.compliance.history import ACTIONS, alter_details, chain_rows, make_history, reading, tamper, verify
from tests.factories.tenancy import PASSWORD, create_platform_user


class TestRecording:
    async def test_real_actions_make_a_valid_chain(
        self, anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        history = await make_history(anon, session, tenant)
        result = await verify(history.chain)
        assert (result.ok, result.checked, result.problem) == (True, 5, None)
        rows = history.rows
        assert rows[0].outcome == "failure" and rows[0].actor_user_id == history.admin.id
        assert rows[0].details == {"reason": "InvalidCredentials"}
        assert rows[1].outcome == "success" and rows[1].actor_label == history.admin.email
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
        assert all(r.tenant_id == tenant.id and r.ip == "127.0.0.1" and r.request_id for r in rows)
        assert await chain_rows(audit.chain_for(other_tenant.id)) == []  # nothing leaks into another chain

    async def test_platform_actions_go_to_the_platform_chain(
        self, anon: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        from scribetree.identity.models import PlatformRole

        operator = await create_platform_user(session, PlatformRole.operator)
        await session.commit()
        r = await anon.post("/api/v1/platform/session", json={"email": operator.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        rows = await chain_rows(audit.PLATFORM_CHAIN)
        assert [(row.action, row.tenant_id, row.details) for row in rows] == [
            ("auth.signin", None, {"area": "platform"})
        ]
        assert (await verify(audit.PLATFORM_CHAIN)).ok


class TestTampering:
    @pytest.mark.parametrize("seq", [1, 3, 5])
    async def test_altered_details_are_found_at_that_entry(
        self, anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, seq: int
    ) -> None:
        history = await make_history(anon, session, tenant)
        await alter_details(session, history.chain, seq, '{"reason": "nothing to see"}')
        result = await verify(history.chain)
        assert (result.ok, result.first_bad_seq, result.checked) == (False, seq, seq - 1)
        assert result.first_bad_id == history.rows[seq - 1].id
        assert "altered" in result.problem

    async def test_altered_actor_is_found_at_that_entry(
        self, anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        history = await make_history(anon, session, tenant)
        await tamper(
            session,
            "UPDATE audit_events SET actor_label = :who WHERE chain = :c AND seq = 2",
            who="someone.else@example.edu",
            c=history.chain,
        )
        result = await verify(history.chain)
        assert (result.ok, result.first_bad_seq) == (False, 2)
        assert "altered" in result.problem

    async def test_a_rehashed_forgery_breaks_the_next_link(
        self, anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        """Recomputing the altered row's own hash does not help: the next entry still points at the old one."""
        history = await make_history(anon, session, tenant)
        row = history.rows[2]
        row.actor_label = "someone.else@example.edu"
        await tamper(
            session,
            "UPDATE audit_events SET actor_label = :who, hash = :h WHERE chain = :c AND seq = 3",
            who=row.actor_label,
            h=audit.compute_hash(row),
            c=history.chain,
        )
        result = await verify(history.chain)
        assert (result.ok, result.first_bad_seq) == (False, 4)
        assert "does not link" in result.problem

    async def test_a_deleted_middle_entry_is_missing(
        self, anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        history = await make_history(anon, session, tenant)
        await tamper(session, "DELETE FROM audit_events WHERE chain = :c AND seq = 3", c=history.chain)
        result = await verify(history.chain)
        assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
        assert "missing" in result.problem

    async def test_a_deleted_last_entry_is_found_by_the_head(
        self, anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        history = await make_history(anon, session, tenant)
        await tamper(session, "DELETE FROM audit_events WHERE chain = :c AND seq = 5", c=history.chain)
        result = await verify(history.chain)
        assert (result.ok, result.first_bad_seq, result.checked) == (False, 5, 4)
        assert "removed from the end" in result.problem

    async def test_an_untouched_chain_stays_valid(
        self, anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        """Control for the tests above: the same history, not tampered with, verifies (twice)."""
        history = await make_history(anon, session, tenant)
        assert (await verify(history.chain)).ok and (await verify(history.chain)).ok
        assert [r.action for r in await chain_rows(history.chain)] == ACTIONS


class TestConcurrency:
    async def test_concurrent_writers_make_one_valid_chain(self, session: AsyncSession, tenant: Tenant) -> None:
        """20 units of work append at once to a chain that has no head yet (the head is created by the race)."""

        async def one(i: int) -> None:
            async with db.unit_of_work() as s:
                await audit.record(s, audit.Entry(action="test.concurrent", tenant_id=tenant.id, details={"i": i}))

        await asyncio.gather(*(one(i) for i in range(20)))
        chain = audit.chain_for(tenant.id)
        rows = await chain_rows(chain)
        assert [r.seq for r in rows] == list(range(1, 21))
        assert sorted(r.details["i"] for r in rows) == list(range(20))
        result = await verify(chain)
        assert (result.ok, result.checked) == (True, 20), result
        async with reading() as s:
            head = (
                await s.execute(select(audit.AuditChainHead).where(audit.AuditChainHead.chain == chain))
            ).scalar_one()
        assert (head.seq, head.last_hash) == (20, rows[-1].hash)

    async def test_a_rolled_back_unit_of_work_leaves_no_entry(self, tenant: Tenant) -> None:
        """The entry is written in the caller's transaction: a failed action leaves no trace and no gap."""
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as s:
                await audit.record(s, audit.Entry(action="test.rolled_back", tenant_id=tenant.id))
                raise RuntimeError("the action failed")
        async with db.unit_of_work() as s:
            await audit.record(s, audit.Entry(action="test.kept", tenant_id=tenant.id))
        rows = await chain_rows(audit.chain_for(tenant.id))
        assert [(r.seq, r.action) for r in rows] == [(1, "test.kept")]
        assert (await verify(audit.chain_for(tenant.id))).ok
