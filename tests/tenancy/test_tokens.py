from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from scribetree.core import clock
from scribetree.identity.models import ApiToken
from scribetree.identity.service import identity
from scribetree.tenancy.exceptions import TenantRequired
from scribetree.tenancy.service import access
from tests.factories.tenancy import create_member


class TestApiTokens:
    @pytest.mark.auth(role="educator")
    async def test_created_token_is_shown_once_and_stored_hashed(self, client, anon, session):
        r = await client.post(
            "/api/v1/me/tokens", json={"name": "grading script", "scopes": ["read"], "expires_in_days": 30}
        )
        assert r.status_code == 201, r.text
        secret = r.json()["token"]
        assert secret.startswith("st_") and r.json()["prefix"] == secret[:10]
        stored = (await session.execute(select(ApiToken))).scalar_one()
        assert stored.token_hash != secret and secret not in stored.token_hash
        listed = (await client.get("/api/v1/me/tokens")).json()
        assert len(listed) == 1 and "token" not in listed[0]
        me = await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200 and me.json()["via"] == "token" and me.json()["scopes"] == ["read"]

    @pytest.mark.auth(role="educator")
    async def test_revoked_and_expired_tokens_stop_working(self, client, anon):
        created = (await client.post("/api/v1/me/tokens", json={"name": "t", "expires_in_days": 1})).json()
        headers = {"Authorization": f"Bearer {created['token']}"}
        with clock.travel(timedelta(days=1, seconds=1)):
            r = await anon.get("/api/v1/me", headers=headers)
            assert r.status_code == 401 and "expired or revoked" in r.json()["detail"]
        assert (await anon.get("/api/v1/me", headers=headers)).status_code == 200
        assert (await client.delete(f"/api/v1/me/tokens/{created['id']}")).json()["revoked_at"]
        assert (await anon.get("/api/v1/me", headers=headers)).status_code == 401

    @pytest.mark.auth(role="student")
    async def test_role_limits_the_scopes_a_token_may_carry(self, client):
        r = await client.post("/api/v1/me/tokens", json={"name": "t", "scopes": ["admin"]})
        assert r.status_code == 422 and r.json()["error"] == "ScopeNotAllowed"
        r = await client.post("/api/v1/me/tokens", json={"name": "t", "scopes": ["superuser"]})
        assert r.status_code == 422 and "Unknown scope" in r.json()["detail"]
        assert (await client.get("/api/v1/me/tokens")).json() == []

    @pytest.mark.auth(role="institution_admin", scopes=["read"])
    async def test_read_scope_cannot_write(self, token_client):
        assert (await token_client.get("/api/v1/members")).status_code == 200
        r = await token_client.post("/api/v1/invitations", json={"email": "new@example.edu", "role": "student"})
        assert r.status_code == 403

    @pytest.mark.auth(role="educator")
    async def test_someone_elses_token_cannot_be_revoked(self, client, session, tenant, app):
        from tests.factories.tenancy import create_member
        from tests.fixtures.auth import make_client

        other, _ = await create_member(session, tenant)
        await session.commit()
        async with await make_client(app, session, other, tenant) as oc:
            tid = (await oc.post("/api/v1/me/tokens", json={"name": "mine"})).json()["id"]
        r = await client.delete(f"/api/v1/me/tokens/{tid}")
        assert r.status_code == 404
        row = (await session.execute(select(ApiToken).where(ApiToken.name == "mine"))).scalar_one()
        assert row.revoked_at is None


class TestPlatformAccountsHaveNoTokens:
    """Tokens belong to a membership: a signed-in operator is refused (403), not told to sign in (401)."""

    @pytest.mark.auth(platform_role="operator")
    async def test_create_is_forbidden(self, client, session):
        r = await client.post("/api/v1/me/tokens", json={"name": "ops script", "scopes": ["read"]})
        assert r.status_code == 403 and r.json()["error"] == "Forbidden", r.text
        assert "Sign in to an institution" in r.json()["detail"]
        assert (await session.execute(select(ApiToken))).scalars().all() == []

    @pytest.mark.auth(platform_role="support")
    async def test_revoke_is_forbidden_and_changes_nothing(self, client, session, tenant):
        owner, _ = await create_member(session, tenant)
        _, row = await identity.create_token(
            session, tenant_id=tenant.id, user_id=owner.id, name="theirs", scopes=["read"], expires_in_days=30
        )
        await session.commit()
        r = await client.delete(f"/api/v1/me/tokens/{row.id}")
        assert r.status_code == 403 and r.json()["error"] == "Forbidden", r.text
        await session.refresh(row)
        assert row.revoked_at is None

    @pytest.mark.auth(platform_role="operator")
    async def test_the_service_refuses_a_platform_context_with_a_domain_error(self, auth_ctx, session):
        with pytest.raises(TenantRequired) as caught:
            await access.revoke_token(session, auth_ctx, uuid.uuid4())
        assert caught.value.status_code == 403
        assert await access.list_tokens(session, auth_ctx) == []
