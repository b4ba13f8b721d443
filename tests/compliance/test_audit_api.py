"""GET /api/v1/audit and /api/v1/audit/verify: an institution's own trail, filtered and paged, and its
verification; other tenants' entries never show, and only roles with ``audit:read`` get in."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit
from scribetree.tenancy.models import Tenant
from tests.compliance.history import History, alter_details, chain_rows, make_history

ADMIN = pytest.mark.auth(role="institution_admin")


@pytest.fixture
async def history(anon: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, other_tenant: Tenant) -> History:
    """This tenant's five entries, and the same kinds of action in the other tenant."""
    await make_history(anon, session, other_tenant)
    return await make_history(anon, session, tenant)


async def listing(client: httpx.AsyncClient, **params: object) -> dict:
    r = await client.get("/api/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def seqs(page: dict) -> list[int]:
    return [item["seq"] for item in page["items"]]


class TestListing:
    @ADMIN
    async def test_only_this_tenants_entries_newest_first(
        self, client: httpx.AsyncClient, history: History, other_tenant: Tenant
    ) -> None:
        page = await listing(client)
        ours = {str(r.id) for r in history.rows}
        theirs = {str(r.id) for r in await chain_rows(audit.chain_for(other_tenant.id))}
        assert len(theirs) == 5
        assert {item["id"] for item in page["items"]} == ours
        assert seqs(page) == [5, 4, 3, 2, 1]
        assert page["next_before_seq"] is None
        assert page["items"][0]["hash"] == history.rows[-1].hash

    @ADMIN
    async def test_filters(self, client: httpx.AsyncClient, history: History) -> None:
        assert seqs(await listing(client, action="auth.")) == [2, 1]
        assert seqs(await listing(client, action="token.")) == [4, 3]
        assert seqs(await listing(client, outcome="failure")) == [1]
        assert seqs(await listing(client, outcome="success")) == [5, 4, 3, 2]
        local_part = history.admin.email.split("@")[0].upper()  # part of the email, any case
        assert seqs(await listing(client, actor=local_part)) == [5, 4, 3, 2, 1]
        assert seqs(await listing(client, actor="nobody-like-this")) == []
        third = history.rows[2].occurred_at
        assert seqs(await listing(client, since=third.isoformat())) == [5, 4, 3]
        assert seqs(await listing(client, until=third.isoformat())) == [2, 1]
        assert seqs(
            await listing(
                client, since=third.isoformat(), until=history.rows[4].occurred_at.isoformat(), action="token."
            )
        ) == [4, 3]
        later = (history.rows[-1].occurred_at + timedelta(hours=1)).isoformat()
        assert seqs(await listing(client, since=later)) == []

    @ADMIN
    async def test_like_wildcards_are_literal(self, client: httpx.AsyncClient, history: History) -> None:
        assert seqs(await listing(client, actor="%")) == []
        assert seqs(await listing(client, action="auth_")) == []
        assert seqs(await listing(client, action="%")) == []

    @ADMIN
    async def test_times_without_a_zone_are_refused(self, client: httpx.AsyncClient, history: History) -> None:
        r = await client.get("/api/v1/audit", params={"since": "2026-01-01T00:00:00"})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["field"] == "query.since"

    @ADMIN
    async def test_pages_by_sequence(self, client: httpx.AsyncClient, history: History) -> None:
        pages, params = [], {"limit": 2}
        while True:
            page = await listing(client, **params)
            pages.append(seqs(page))
            if page["next_before_seq"] is None:
                break
            params = {"limit": 2, "before_seq": page["next_before_seq"]}
        assert pages == [[5, 4], [3, 2], [1]]
        assert seqs(await listing(client, before_seq=3, action="auth.")) == [2, 1]

    @pytest.mark.auth(role="student")
    async def test_a_student_is_refused(self, client: httpx.AsyncClient, history: History) -> None:
        for path in ("/api/v1/audit", "/api/v1/audit/verify"):
            r = await client.get(path)
            assert r.status_code == 403, r.text
            assert history.rows[0].hash not in r.text

    @pytest.mark.auth(role="educator")
    async def test_an_educator_is_refused(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/audit")).status_code == 403


class TestVerify:
    @ADMIN
    async def test_ok_then_not_after_tampering(
        self, client: httpx.AsyncClient, session: AsyncSession, history: History, tenant: Tenant
    ) -> None:
        r = await client.get("/api/v1/audit/verify")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "chain": history.chain,
            "checked": 5,
            "ok": True,
            "first_bad_seq": None,
            "first_bad_id": None,
            "problem": None,
        }

        await alter_details(session, history.chain, 2, '{"reason": "rewritten"}')
        body = (await client.get("/api/v1/audit/verify")).json()
        assert (body["ok"], body["first_bad_seq"], body["checked"]) == (False, 2, 1)
        assert body["first_bad_id"] == str(history.rows[1].id)
        assert "altered" in body["problem"]

    @ADMIN
    async def test_verifies_only_its_own_chain(
        self, client: httpx.AsyncClient, session: AsyncSession, history: History, other_tenant: Tenant
    ) -> None:
        await alter_details(session, audit.chain_for(other_tenant.id), 1, '{"reason": "rewritten"}')
        body = (await client.get("/api/v1/audit/verify")).json()
        assert (body["ok"], body["chain"]) == (True, history.chain)
