from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.core.config import settings
from scribetree.identity.models import User, UserSession
from scribetree.tenancy.models import MembershipStatus, Role, TenantStatus
from tests.factories.tenancy import PASSWORD, create_member, create_platform_user


async def signin(anon, slug, email, password=PASSWORD):
    return await anon.post(f"/api/v1/tenants/{slug}/session", json={"email": email, "password": password})


async def audit_actions(session, tenant_id=None):
    stmt = select(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.chain, AuditEvent.seq)
    if tenant_id:
        stmt = stmt.where(AuditEvent.tenant_id == tenant_id)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


class TestSignIn:
    async def test_signs_in_and_reads_me(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.educator)
        await session.commit()
        r = await signin(anon, tenant.slug, user.email.upper())  # email is case-insensitive
        assert r.status_code == 200, r.text
        assert r.json()["role"] == "educator" and r.json()["csrf_token"]
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        me = await anon.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["email"] == user.email and me.json()["tenant"]["slug"] == tenant.slug
        assert ("auth.signin", "success") in await audit_actions(session, tenant.id)

    async def test_session_token_is_stored_hashed(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        r = await signin(anon, tenant.slug, user.email)
        token = r.cookies["st_session"]
        hashes = (await session.execute(select(UserSession.token_hash))).scalars().all()
        assert token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64

    @pytest.mark.parametrize("email,password", [("nobody@example.edu", PASSWORD), (None, "wrong password here")])
    async def test_wrong_credentials_get_the_same_answer(self, anon, session, tenant, email, password):
        user, _ = await create_member(session, tenant)
        await session.commit()
        r = await signin(anon, tenant.slug, email or user.email, password)
        assert r.status_code == 401
        assert r.json()["error"] == "InvalidCredentials"
        assert "do not match" in r.json()["detail"]
        assert "st_session" not in r.cookies
        assert ("auth.signin", "failure") in await audit_actions(session, tenant.id)

    async def test_member_of_another_tenant_cannot_sign_in_here(self, anon, session, tenant, other_tenant):
        user, _ = await create_member(session, other_tenant)
        await session.commit()
        r = await signin(anon, tenant.slug, user.email)
        assert r.status_code == 401 and r.json()["error"] == "InvalidCredentials"

    async def test_deactivated_member_cannot_sign_in(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, status=MembershipStatus.deactivated)
        await session.commit()
        assert (await signin(anon, tenant.slug, user.email)).status_code == 401

    async def test_suspended_tenant_cannot_sign_in(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        tenant.status = TenantStatus.suspended
        session.add(tenant)
        await session.commit()
        r = await signin(anon, tenant.slug, user.email)
        assert r.status_code == 403 and r.json()["error"] == "TenantSuspended"

    async def test_unknown_tenant_is_404(self, anon):
        r = await signin(anon, "no-such-place", "a@example.edu")
        assert r.status_code == 404 and r.json()["error"] == "TenantNotFound"

    async def test_bad_bodies_are_explained(self, anon, tenant):
        r = await anon.post(f"/api/v1/tenants/{tenant.slug}/session", json={"email": "a@example.edu"})
        assert r.status_code == 422
        assert any(f["field"] == "body.password" for f in r.json()["detail"])
        r = await anon.post(
            f"/api/v1/tenants/{tenant.slug}/session", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and r.json()["error"] == "MalformedJSON"


class TestLockout:
    async def test_repeated_failures_lock_with_growing_backoff(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        for _ in range(settings.LOCKOUT_THRESHOLD):
            assert (await signin(anon, tenant.slug, user.email, "wrong password here")).status_code == 401
        r = await signin(anon, tenant.slug, user.email)  # even the right password waits now
        assert r.status_code == 429 and r.json()["error"] == "AccountLocked"
        assert int(r.headers["retry-after"]) == settings.LOCKOUT_BASE_SECONDS
        with clock.travel(timedelta(seconds=settings.LOCKOUT_BASE_SECONDS + 1)):
            assert (await signin(anon, tenant.slug, user.email, "wrong password again")).status_code == 401
            r = await signin(anon, tenant.slug, user.email)
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) == 2 * settings.LOCKOUT_BASE_SECONDS  # doubled
        with clock.travel(timedelta(seconds=3 * settings.LOCKOUT_BASE_SECONDS + 2)):
            assert (await signin(anon, tenant.slug, user.email)).status_code == 200
        await session.refresh(user)
        assert user.failed_signins == 0 and user.locked_until is None

    async def test_per_address_rate_limit(self, anon, tenant, monkeypatch):
        monkeypatch.setattr(settings, "RATE_LIMIT_SIGNIN", "3/minute")
        codes = [(await signin(anon, tenant.slug, f"x{i}@example.edu")).status_code for i in range(4)]
        assert codes[:3] == [401, 401, 401] and codes[3] == 429


class TestSessions:
    async def test_sign_out_ends_the_session(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        csrf = (await signin(anon, tenant.slug, user.email)).json()["csrf_token"]
        assert (await anon.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})).status_code == 204
        assert (await anon.get("/api/v1/me")).status_code == 401

    async def test_sign_out_needs_the_csrf_token(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        await signin(anon, tenant.slug, user.email)
        r = await anon.delete("/api/v1/session", headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403 and r.json()["error"] == "CsrfFailed"
        assert (await anon.get("/api/v1/me")).status_code == 200

    async def test_idle_and_absolute_expiry(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        await signin(anon, tenant.slug, user.email)
        with clock.travel(timedelta(minutes=settings.SESSION_IDLE_MINUTES + 1)):
            assert (await anon.get("/api/v1/me")).status_code == 401
        await signin(anon, tenant.slug, user.email)
        with clock.travel(timedelta(hours=settings.SESSION_MAX_HOURS, minutes=1)):
            assert (await anon.get("/api/v1/me")).status_code == 401

    async def test_sign_out_everywhere(self, app, anon, session, tenant):
        import httpx

        user, _ = await create_member(session, tenant)
        await session.commit()
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        await signin(other, tenant.slug, user.email)
        csrf = (await signin(anon, tenant.slug, user.email)).json()["csrf_token"]
        token = (await anon.post("/api/v1/me/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": csrf})).json()
        r = await anon.post("/api/v1/session/signout-everywhere", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        assert (await other.get("/api/v1/me")).status_code == 401
        assert (await anon.get("/api/v1/me")).status_code == 401
        r = await other.get("/api/v1/me", headers={"Authorization": f"Bearer {token['token']}"})
        assert r.status_code == 401
        await other.aclose()

    async def test_deactivation_ends_existing_sessions(self, app, anon, session, tenant):
        from tests.fixtures.auth import make_client

        user, m = await create_member(session, tenant)
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        await session.commit()
        await signin(anon, tenant.slug, user.email)
        async with await make_client(app, session, admin, tenant) as admin_client:
            r = await admin_client.post(f"/api/v1/members/{m.id}/deactivate")
            assert r.status_code == 200 and r.json()["status"] == "deactivated"
        assert (await anon.get("/api/v1/me")).status_code == 401


class TestPlatformSignIn:
    async def test_operator_signs_in_outside_any_tenant(self, anon, session):
        op = await create_platform_user(session, "operator")
        await session.commit()
        r = await anon.post("/api/v1/platform/session", json={"email": op.email, "password": PASSWORD})
        assert r.status_code == 200 and r.json()["platform_role"] == "operator"
        me = (await anon.get("/api/v1/me")).json()
        assert me["tenant"] is None and "platform:tenants" in me["permissions"]

    async def test_people_without_a_platform_role_cannot(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.institution_admin)
        await session.commit()
        r = await anon.post("/api/v1/platform/session", json={"email": user.email, "password": PASSWORD})
        assert r.status_code == 401

    async def test_failed_attempt_counter_survives_the_error_response(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        await signin(anon, tenant.slug, user.email, "wrong password here")
        fresh = (
            await session.execute(select(User).where(User.id == user.id).execution_options(populate_existing=True))
        ).scalar_one()
        assert fresh.failed_signins == 1


class TestHostSignIn:
    async def test_the_host_name_chooses_the_institution(self, anon, session, tenant):
        tenant.hostname = "writing.northfield.example.edu"
        session.add(tenant)
        user, _ = await create_member(session, tenant)
        await session.commit()
        body = {"email": user.email, "password": PASSWORD}
        r = await anon.post("/api/v1/session", json=body, headers={"host": "writing.northfield.example.edu"})
        assert r.status_code == 200 and r.json()["tenant_slug"] == tenant.slug
        r = await anon.post("/api/v1/session", json=body, headers={"host": "unknown.example.edu"})
        assert r.status_code == 404


class TestPruning:
    async def test_ended_sessions_are_pruned_by_the_housekeeping_job(self, anon, session, tenant):
        from scribetree.core import jobs
        from scribetree.core.db import unit_of_work
        from scribetree.core.jobs_models import Job

        user, _ = await create_member(session, tenant)
        await session.commit()
        await signin(anon, tenant.slug, user.email)
        assert len((await session.execute(select(UserSession))).scalars().all()) == 1
        async with unit_of_work() as s:
            await jobs.enqueue(s, "identity.prune_ended_credentials")
        with clock.travel(timedelta(days=40)):
            assert await jobs.run_pending() >= 1
        await session.rollback()
        assert (await session.execute(select(UserSession))).scalars().all() == []
        job = (await session.execute(select(Job).where(Job.actor == "identity.prune_ended_credentials"))).scalar_one()
        assert job.state == "succeeded"
