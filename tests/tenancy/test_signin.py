from __future__ import annotations

import pytest

from tests.factories.tenancy import PASSWORD, create_member


class TestSignIn:
    async def test_signs_in_and_reads_me(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        r = await anon.post(f"/api/v1/tenants/{tenant.slug}/session", json={"email": user.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert "st_session" in r.cookies
        me = await anon.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["email"] == user.email
