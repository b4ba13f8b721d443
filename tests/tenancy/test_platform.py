from __future__ import annotations

from datetime import timedelta

import pytest

from scribetree.core import clock
from tests.factories.tenancy import PASSWORD, create_member, create_platform_user
from tests.fixtures.auth import make_client
from tests.tenancy.mailbox import last_link


class TestOperators:
    @pytest.mark.auth(platform_role="operator")
    async def test_create_institution_with_first_admin(self, client, anon):
        r = await client.post(
            "/api/v1/platform/tenants",
            json={
                "slug": "lakeside",
                "name": "Lakeside School District",
                "type": "k12",
                "region": "eu",
                "admin_email": "head@lakeside.example.org",
            },
        )
        assert r.status_code == 201, r.text
        t = r.json()
        assert t["status"] == "onboarding" and t["region"] == "eu"
        token = await last_link("head@lakeside.example.org", "invite")
        r = await anon.post(
            "/api/v1/invitation-links/accept", json={"token": token, "display_name": "Head", "password": PASSWORD}
        )
        assert r.status_code == 200 and r.json()["role"] == "institution_admin"
        r = await client.post("/api/v1/platform/tenants", json={"slug": "lakeside", "name": "Dup", "type": "k12"})
        assert r.status_code == 409
        r = await client.post("/api/v1/platform/tenants", json={"slug": "Bad Slug!", "name": "x", "type": "k12"})
        assert r.status_code == 422

    @pytest.mark.auth(platform_role="operator")
    async def test_suspend_blocks_sessions_and_tokens(self, app, client, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        async with await make_client(app, session, user, tenant) as member:
            assert (await member.get("/api/v1/me")).status_code == 200
            r = await client.patch(f"/api/v1/platform/tenants/{tenant.id}", json={"status": "suspended"})
            assert r.status_code == 200 and r.json()["status"] == "suspended"
            assert (await member.get("/api/v1/me")).status_code == 401
            await client.patch(f"/api/v1/platform/tenants/{tenant.id}", json={"status": "active"})
            assert (await member.get("/api/v1/me")).status_code == 200

    @pytest.mark.auth(role="institution_admin")
    async def test_institution_admins_are_not_operators(self, client):
        assert (await client.get("/api/v1/platform/tenants")).status_code == 403


class TestSupportAccess:
    async def test_time_boxed_reasoned_read_only_and_visible(self, app, session, tenant):
        support = await create_platform_user(session, "support")
        admin, _ = await create_member(session, tenant, role="institution_admin")
        await session.commit()
        async with await make_client(app, session, support, None) as sc:
            r = await sc.post(
                "/api/v1/platform/support-access", json={"tenant_slug": tenant.slug, "reason": "short", "minutes": 30}
            )
            assert r.status_code == 422  # a reason must say something
            r = await sc.post(
                "/api/v1/platform/support-access",
                json={"tenant_slug": tenant.slug, "reason": "Ticket 4411: admin cannot see invitations", "minutes": 30},
            )
            assert r.status_code == 201, r.text
            sc.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            sc.cookies.set("st_session", r.cookies["st_session"])
            me = (await sc.get("/api/v1/me")).json()
            assert me["support_session"] is True and me["tenant"]["slug"] == tenant.slug
            assert (await sc.get("/api/v1/members")).status_code == 200  # may read
            r = await sc.post("/api/v1/invitations", json={"email": "x@example.edu"})
            assert r.status_code == 403  # may not change
            assert (await sc.post("/api/v1/me/tokens", json={"name": "x"})).status_code == 403
            with clock.travel(timedelta(minutes=31)):
                assert (await sc.get("/api/v1/me")).status_code == 401  # the grant ran out
        async with await make_client(app, session, admin, tenant) as ac:
            grants = (await ac.get("/api/v1/support-grants")).json()
            assert grants[0]["support_email"] == support.email and "4411" in grants[0]["reason"]
            actions = [e["action"] for e in (await ac.get("/api/v1/audit?action=support.")).json()["items"]]
            assert "support.access_started" in actions

    async def test_support_session_can_be_ended(self, app, session, tenant):
        support = await create_platform_user(session, "support")
        await session.commit()
        async with await make_client(app, session, support, None) as sc:
            r = await sc.post(
                "/api/v1/platform/support-access",
                json={"tenant_slug": tenant.slug, "reason": "Ticket 4412: checking roles", "minutes": 15},
            )
            sc.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            sc.cookies.set("st_session", r.cookies["st_session"])
            assert (await sc.post("/api/v1/support-access/end")).status_code == 204
            sc.cookies.set("st_session", r.cookies["st_session"])
            assert (await sc.get("/api/v1/me")).status_code == 401

    @pytest.mark.auth(platform_role="operator")
    async def test_operators_cannot_enter_tenants(self, client, tenant):
        r = await client.post(
            "/api/v1/platform/support-access",
            json={"tenant_slug": tenant.slug, "reason": "Ticket 1: curiosity is not a reason", "minutes": 15},
        )
        assert r.status_code == 403
