"""Sign-ins queue at the door (SIGNIN_CONCURRENCY): a storm never has more password checks in progress than
the limit, every sign-in still succeeds, and a failed one gives its place back."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from scribetree.core.config import settings
from scribetree.identity import passwords
from scribetree.tenancy import auth
from tests.factories.tenancy import PASSWORD, create_member


@pytest.fixture
def one_at_a_time(monkeypatch):
    monkeypatch.setattr(settings, "SIGNIN_CONCURRENCY", 1)
    auth._gates.clear()
    yield
    auth._gates.clear()


@pytest.fixture
def counted_verify(monkeypatch):
    seen = {"now": 0, "most": 0, "calls": 0}
    real = passwords.verify_password

    async def verify(stored, password):
        seen["now"] += 1
        seen["calls"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        try:
            await asyncio.sleep(0.05)  # a slow hash: others would overlap here without the admission queue
            return await real(stored, password)
        finally:
            seen["now"] -= 1

    monkeypatch.setattr(passwords, "verify_password", verify)
    return seen


async def _sign_in(app, slug: str, email: str, password: str) -> int:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post(f"/api/v1/tenants/{slug}/session", json={"email": email, "password": password})
        return r.status_code


async def test_a_storm_passes_one_at_a_time_and_everyone_gets_in(app, session, tenant, one_at_a_time, counted_verify):
    people = [(await create_member(session, tenant))[0] for _ in range(4)]
    await session.commit()
    codes = await asyncio.gather(*(_sign_in(app, tenant.slug, p.email, PASSWORD) for p in people))
    assert codes == [200, 200, 200, 200]
    assert counted_verify["calls"] == 4 and counted_verify["most"] == 1


async def test_a_failed_sign_in_gives_its_place_back(app, session, tenant, one_at_a_time, counted_verify):
    user, _ = await create_member(session, tenant)
    await session.commit()
    codes = await asyncio.gather(_sign_in(app, tenant.slug, user.email, "not the password at all"),
                                 _sign_in(app, tenant.slug, "nobody@example.edu", PASSWORD),
                                 _sign_in(app, tenant.slug, user.email, PASSWORD))
    assert sorted(codes) == [200, 401, 401]
    # with one place and two failures before it, this would hang if a failure kept its place
    assert await asyncio.wait_for(_sign_in(app, tenant.slug, user.email, PASSWORD), timeout=10) == 200
    gate = auth._admission()
    assert not gate.locked()  # every place was given back
