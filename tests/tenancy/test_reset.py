from __future__ import annotations

from datetime import timedelta

from scribetree.core import clock
from scribetree.core.config import settings
from tests.factories.tenancy import PASSWORD, create_member
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
