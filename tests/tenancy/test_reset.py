from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.core.config import settings
from scribetree.identity.models import UserSession
from scribetree.identity.service import identity
from tests.factories.tenancy import PASSWORD, create_member
from tests.fixtures.auth import make_client
from tests.tenancy.mailbox import deliver, last_link

NEW = "a much better passphrase 42"


async def signin(anon, slug, email, password):
    return await anon.post(f"/api/v1/tenants/{slug}/session", json={"email": email, "password": password})


class TestPasswordReset:
    async def test_reset_by_emailed_link(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        r = await anon.post("/api/v1/password-resets", json={"email": user.email})
        assert r.status_code == 202
        token = await last_link(user.email, "reset")
        r = await anon.post("/api/v1/password-resets/complete", json={"token": token, "new_password": NEW})
        assert r.status_code == 204, r.text
        assert (await signin(anon, tenant.slug, user.email, PASSWORD)).status_code == 401
        assert (await signin(anon, tenant.slug, user.email, NEW)).status_code == 200
        r = await anon.post("/api/v1/password-resets/complete", json={"token": token, "new_password": NEW + "x"})
        assert r.status_code == 400 and r.json()["error"] == "LinkInvalid"  # one time only

    async def test_unknown_email_gets_the_same_answer_and_no_mail(self, anon):
        before = len(await deliver())
        r = await anon.post("/api/v1/password-resets", json={"email": "nobody@example.edu"})
        assert r.status_code == 202
        assert len(await deliver()) == before

    async def test_expired_link_is_refused_and_password_unchanged(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        await anon.post("/api/v1/password-resets", json={"email": user.email})
        token = await last_link(user.email, "reset")
        with clock.travel(timedelta(minutes=settings.RESET_LINK_MINUTES + 1)):
            r = await anon.post("/api/v1/password-resets/complete", json={"token": token, "new_password": NEW})
        assert r.status_code == 400 and "expired" in r.json()["detail"]
        assert (await signin(anon, tenant.slug, user.email, PASSWORD)).status_code == 200

    async def test_weak_password_refused_and_link_still_usable(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        await anon.post("/api/v1/password-resets", json={"email": user.email})
        token = await last_link(user.email, "reset")
        r = await anon.post("/api/v1/password-resets/complete", json={"token": token, "new_password": "password123"})
        assert r.status_code == 422 and r.json()["error"] == "WeakPassword"
        r = await anon.post("/api/v1/password-resets/complete", json={"token": token, "new_password": NEW})
        assert r.status_code == 204

    async def test_only_the_newest_link_works(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        await anon.post("/api/v1/password-resets", json={"email": user.email})
        first = await last_link(user.email, "reset")
        await anon.post("/api/v1/password-resets", json={"email": user.email})
        second = await last_link(user.email, "reset")
        assert first != second
        r = await anon.post("/api/v1/password-resets/complete", json={"token": first, "new_password": NEW})
        assert r.status_code == 400

    async def test_reset_requests_are_rate_limited(self, anon, monkeypatch):
        monkeypatch.setattr(settings, "RATE_LIMIT_RESET", "2/minute")
        codes = [
            (await anon.post("/api/v1/password-resets", json={"email": "a@example.edu"})).status_code for _ in range(3)
        ]
        assert codes == [202, 202, 429]

    async def test_change_password_needs_the_current_one(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        csrf = (await signin(anon, tenant.slug, user.email, PASSWORD)).json()["csrf_token"]
        h = {"X-CSRF-Token": csrf}
        r = await anon.post("/api/v1/me/password", json={"current_password": "nope", "new_password": NEW}, headers=h)
        assert r.status_code == 401
        r = await anon.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW}, headers=h)
        assert r.status_code == 204
        assert (await signin(anon, tenant.slug, user.email, NEW)).status_code == 200


class TestChangePassword:
    """A change made while signed in keeps that session; every other session and every reset link ends."""

    async def test_this_session_stays_others_end_tokens_keep_working(self, app, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        secret, _ = await identity.create_token(
            session, tenant_id=tenant.id, user_id=user.id, name="script", scopes=["read"], expires_in_days=30
        )
        await session.commit()
        await anon.post("/api/v1/password-resets", json={"email": user.email})
        reset_token = await last_link(user.email, "reset")
        async with await make_client(app, session, user, tenant) as mine, await make_client(
            app, session, user, tenant
        ) as elsewhere:
            assert (await elsewhere.get("/api/v1/me")).status_code == 200
            r = await mine.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW})
            assert r.status_code == 204, r.text
            assert (await mine.get("/api/v1/me")).status_code == 200  # still signed in
            r = await mine.post("/api/v1/me/tokens", json={"name": "after", "scopes": ["read"]})
            assert r.status_code == 201  # and its CSRF token still works for changes
            r = await elsewhere.get("/api/v1/me")
            assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
        me = await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200  # API tokens are kept (docs/security.md)
        r = await anon.post("/api/v1/password-resets/complete", json={"token": reset_token, "new_password": NEW + "x"})
        assert r.status_code == 400 and r.json()["error"] == "LinkInvalid"
        assert (await signin(anon, tenant.slug, user.email, PASSWORD)).status_code == 401
        assert (await signin(anon, tenant.slug, user.email, NEW)).status_code == 200
        rows = (await session.execute(select(UserSession).where(UserSession.user_id == user.id))).scalars().all()
        assert sum(r.revoked_at is None for r in rows) == 2  # the one that changed it, and the new sign-in
        assert await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.password_changed")
        ) == 1

    async def test_a_refused_change_changes_nothing(self, app, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        await anon.post("/api/v1/password-resets", json={"email": user.email})
        reset_token = await last_link(user.email, "reset")
        async with await make_client(app, session, user, tenant) as mine, await make_client(
            app, session, user, tenant
        ) as elsewhere:
            for body, code in (({"current_password": "nope", "new_password": NEW}, 401),
                               ({"current_password": PASSWORD, "new_password": "password123"}, 422)):
                assert (await mine.post("/api/v1/me/password", json=body)).status_code == code
            assert (await mine.get("/api/v1/me")).status_code == 200
            assert (await elsewhere.get("/api/v1/me")).status_code == 200
        r = await anon.post("/api/v1/password-resets/complete", json={"token": reset_token, "new_password": NEW})
        assert r.status_code == 204  # the link was not used up by the failed changes

    async def test_through_an_api_token_every_session_ends(self, app, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        secret, _ = await identity.create_token(
            session, tenant_id=tenant.id, user_id=user.id, name="script", scopes=["read", "write"], expires_in_days=30
        )
        await session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        async with await make_client(app, session, user, tenant) as browser:
            r = await anon.post(
                "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW}, headers=headers
            )
            assert r.status_code == 204, r.text
            assert (await browser.get("/api/v1/me")).status_code == 401
        assert (await anon.get("/api/v1/me", headers=headers)).status_code == 200

    async def test_a_reset_by_contrast_ends_tokens_too(self, anon, session, tenant):
        user, _ = await create_member(session, tenant)
        secret, _ = await identity.create_token(
            session, tenant_id=tenant.id, user_id=user.id, name="script", scopes=["read"], expires_in_days=30
        )
        await session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        assert (await anon.get("/api/v1/me", headers=headers)).status_code == 200
        with clock.travel(timedelta(seconds=1)):  # the token predates the reset
            await anon.post("/api/v1/password-resets", json={"email": user.email})
            token = await last_link(user.email, "reset")
            r = await anon.post("/api/v1/password-resets/complete", json={"token": token, "new_password": NEW})
            assert r.status_code == 204
            assert (await anon.get("/api/v1/me", headers=headers)).status_code == 401
