"""HTTP plumbing (core.http): one JSON error shape, request ids, body limits, security headers, CSRF, and 500s
that reveal nothing. Every failed request must leave the stored data as it was."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import db
from scribetree.core.audit import AuditEvent
from scribetree.core.config import settings
from scribetree.core.http import csrf_token
from scribetree.tenancy.models import Invitation, Membership, Role, Tenant
from tests.factories.tenancy import create_member

GENERATED_ID = re.compile(r"^[0-9a-f]{16}$")
ADMIN = pytest.mark.auth(role="institution_admin")


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "detail", "request_id"}, body
    assert body["error"] == code, body
    assert body["detail"], body
    assert body["request_id"] == r.headers["x-request-id"], (body, r.headers)
    return body


async def role_of(membership_id: uuid.UUID) -> str:
    async with db.unit_of_work(write=False) as s:
        return await s.scalar(select(Membership.role).where(Membership.id == membership_id))


async def count(model: type, *where: object) -> int:
    async with db.unit_of_work(write=False) as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
async def educator(session: AsyncSession, tenant: Tenant) -> Membership:
    _, m = await create_member(session, tenant, Role.educator)
    await session.commit()
    return m


class TestErrorShape:
    async def test_unknown_address_is_404(self, anon: httpx.AsyncClient) -> None:
        assert_error(await anon.get("/api/v1/no-such-thing"), 404, "NotFound")

    @ADMIN
    async def test_missing_object_is_404_with_the_domain_code(self, client: httpx.AsyncClient) -> None:
        body = assert_error(await client.get(f"/api/v1/members/{uuid.uuid4()}"), 404, "MembershipNotFound")
        assert "Traceback" not in str(body)

    async def test_wrong_method_is_405_with_allow(self, anon: httpx.AsyncClient) -> None:
        r = await anon.put("/api/v1/me")
        assert_error(r, 405, "MethodNotAllowed")
        assert "GET" in r.headers["allow"]

    async def test_no_credential_is_401_with_a_challenge(self, anon: httpx.AsyncClient) -> None:
        r = await anon.get("/api/v1/me")
        assert_error(r, 401, "Unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")

    @ADMIN
    async def test_invalid_values_are_422_listing_each_field(self, client: httpx.AsyncClient) -> None:
        body = assert_error(
            await client.post("/api/v1/invitations", json={"email": "not-an-email", "role": "wizard"}),
            422,
            "ValidationError",
        )
        fields = {f["field"] for f in body["detail"]}
        assert fields == {"body.email", "body.role"}, body
        assert all(f["message"] and f["type"] for f in body["detail"])

        body = assert_error(
            await client.get("/api/v1/members", params={"limit": 0, "role": "wizard"}), 422, "ValidationError"
        )
        assert {f["field"] for f in body["detail"]} == {"query.limit", "query.role"}
        assert await count(Invitation) == 0

    @ADMIN
    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, educator: Membership) -> None:
        r = await client.post(
            "/api/v1/invitations", content=b'{"email": "a@example.edu",', headers={"content-type": "application/json"}
        )
        body = assert_error(r, 400, "MalformedJSON")
        assert "JSON" in body["detail"]
        r = await client.patch(
            f"/api/v1/members/{educator.id}",
            content=b'{"role": "student"',
            headers={"content-type": "application/json"},
        )
        assert_error(r, 400, "MalformedJSON")
        assert await count(Invitation) == 0
        assert await role_of(educator.id) == Role.educator


class TestBodyLimit:
    @ADMIN
    async def test_declared_length_over_the_limit_is_413(self, client: httpx.AsyncClient, educator: Membership) -> None:
        limit = settings.MAX_BODY_BYTES
        payload = b'{"role": "student", "pad": "' + b"x" * limit + b'"}'
        r = await client.patch(
            f"/api/v1/members/{educator.id}", content=payload, headers={"content-type": "application/json"}
        )
        assert "content-length" in r.request.headers
        body = assert_error(r, 413, "RequestTooLarge")
        assert f"{limit:,}" in body["detail"]
        assert await role_of(educator.id) == Role.educator

    @ADMIN
    async def test_chunked_body_over_the_limit_is_413(self, client: httpx.AsyncClient, educator: Membership) -> None:
        limit = settings.MAX_BODY_BYTES

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"role": "student", "pad": "'
            for _ in range(limit // 65536 + 2):
                yield b"x" * 65536
            yield b'"}'

        r = await client.patch(
            f"/api/v1/members/{educator.id}", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in r.request.headers
        assert r.request.headers["transfer-encoding"] == "chunked"
        body = assert_error(r, 413, "RequestTooLarge")
        assert f"{limit:,}" in body["detail"]
        assert await role_of(educator.id) == Role.educator

    @ADMIN
    async def test_chunked_body_under_the_limit_reaches_the_handler(
        self, client: httpx.AsyncClient, educator: Membership
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"role": '
            yield b'"teaching_assistant"}'

        r = await client.patch(
            f"/api/v1/members/{educator.id}", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 200, r.text
        assert await role_of(educator.id) == Role.teaching_assistant

    @ADMIN
    async def test_invalid_body_changes_nothing(self, client: httpx.AsyncClient, educator: Membership) -> None:
        assert_error(
            await client.patch(f"/api/v1/members/{educator.id}", json={"role": "wizard"}), 422, "ValidationError"
        )
        assert_error(await client.patch(f"/api/v1/members/{educator.id}", json={}), 422, "ValidationError")
        assert await role_of(educator.id) == Role.educator
        assert await count(AuditEvent, AuditEvent.action == "member.role_changed") == 0


class TestRequestId:
    async def test_generated_and_echoed(self, anon: httpx.AsyncClient) -> None:
        first, second = await anon.get("/healthz"), await anon.get("/healthz")
        assert GENERATED_ID.match(first.headers["x-request-id"])
        assert first.headers["x-request-id"] != second.headers["x-request-id"]
        body = assert_error(await anon.get("/api/v1/me"), 401, "Unauthorized")
        assert GENERATED_ID.match(body["request_id"])

    async def test_a_valid_client_id_is_kept(self, anon: httpx.AsyncClient) -> None:
        rid = "client-Req.0001_ab"
        r = await anon.get("/api/v1/me", headers={"X-Request-ID": rid})
        assert r.headers["x-request-id"] == rid
        assert assert_error(r, 401, "Unauthorized")["request_id"] == rid

    @pytest.mark.parametrize("bad", ["short", "has spaces in it", "x" * 65, "semi;colon;id", "<script>alert</script>"])
    async def test_an_invalid_client_id_is_replaced(self, anon: httpx.AsyncClient, bad: str) -> None:
        r = await anon.get("/api/v1/me", headers={"X-Request-ID": bad})
        assert r.headers["x-request-id"] != bad
        assert GENERATED_ID.match(r.headers["x-request-id"])
        assert assert_error(r, 401, "Unauthorized")["request_id"] == r.headers["x-request-id"]

    async def test_the_audit_trail_records_it(self, anon: httpx.AsyncClient, tenant: Tenant) -> None:
        rid = "trace-0123456789"
        r = await anon.post(
            f"/api/v1/tenants/{tenant.slug}/session",
            json={"email": "nobody@example.edu", "password": "wrong password"},
            headers={"X-Request-ID": rid},
        )
        assert r.status_code == 401
        async with db.unit_of_work(write=False) as s:
            recorded = (await s.scalars(select(AuditEvent.request_id).where(AuditEvent.action == "auth.signin"))).all()
        assert recorded == [rid]


class TestSecurityHeaders:
    @pytest.mark.parametrize("path", ["/healthz", "/api/v1/me", "/api/v1/no-such-thing"])
    async def test_every_answer_carries_them(self, anon: httpx.AsyncClient, path: str) -> None:
        r = await anon.get(path)
        csp = r.headers["content-security-policy"]
        assert f"frame-ancestors {settings.FRAME_ANCESTORS}" in csp
        assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"

    async def test_rejected_bodies_carry_them_too(self, anon: httpx.AsyncClient) -> None:
        r = await anon.post(
            "/api/v1/password-resets",
            content=b"x" * (settings.MAX_BODY_BYTES + 1),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413
        assert "frame-ancestors" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


class TestInternalErrors:
    @pytest.fixture
    async def broken(self, engines: db.Engines) -> AsyncIterator[httpx.AsyncClient]:
        from scribetree.app import create_app

        app: FastAPI = create_app()

        @app.get("/api/v1/test-only/boom")
        async def boom() -> None:
            raise RuntimeError("the database password is hunter2")

        @app.get("/test-only/boom-page")
        async def boom_page() -> None:
            raise RuntimeError("the database password is hunter2")

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    async def test_api_500_reveals_nothing_and_names_the_request(
        self, broken: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.ERROR, logger="scribetree"):
            r = await broken.get("/api/v1/test-only/boom", headers={"X-Request-ID": "support-ticket-42"})
        logged = [rec for rec in caplog.records if rec.getMessage() == "unhandled error"]
        assert len(logged) == 1 and logged[0].exc_info is not None  # the trace goes to the log, once
        body = assert_error(r, 500, "InternalError")
        assert body["request_id"] == "support-ticket-42"
        for secret in ("Traceback", "hunter2", "RuntimeError", "boom"):
            assert secret not in r.text
        assert "frame-ancestors" in r.headers["content-security-policy"]

    async def test_page_500_reveals_nothing(self, broken: httpx.AsyncClient) -> None:
        r = await broken.get("/test-only/boom-page")
        assert r.status_code == 500
        assert r.headers["x-request-id"]
        for secret in ("Traceback", "hunter2", "RuntimeError"):
            assert secret not in r.text


class TestCsrf:
    @ADMIN
    async def test_cookie_post_without_the_header_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        del client.headers["X-CSRF-Token"]
        before = await count(AuditEvent)
        assert_error(
            await client.post("/api/v1/invitations", json={"email": "new.person@example.edu"}), 403, "CsrfFailed"
        )
        assert await count(Invitation) == 0
        assert await count(AuditEvent) == before

    @ADMIN
    async def test_a_token_for_another_session_is_refused(
        self, client: httpx.AsyncClient, educator: Membership
    ) -> None:
        client.headers["X-CSRF-Token"] = csrf_token("someone-elses-session")
        r = await client.patch(f"/api/v1/members/{educator.id}", json={"role": "student"})
        assert_error(r, 403, "CsrfFailed")
        assert await role_of(educator.id) == Role.educator
        client.headers["X-CSRF-Token"] = ""
        assert_error(await client.patch(f"/api/v1/members/{educator.id}", json={"role": "student"}), 403, "CsrfFailed")
        assert await role_of(educator.id) == Role.educator

    @ADMIN
    async def test_reads_need_no_token_and_writes_work_with_it(
        self, client: httpx.AsyncClient, educator: Membership
    ) -> None:
        token = client.headers.pop("X-CSRF-Token")
        assert (await client.get("/api/v1/members")).status_code == 200
        r = await client.patch(
            f"/api/v1/members/{educator.id}", json={"role": "student"}, headers={"X-CSRF-Token": token}
        )
        assert r.status_code == 200, r.text
        assert await role_of(educator.id) == Role.student

    @ADMIN
    async def test_a_form_field_works_like_the_header(self, client: httpx.AsyncClient) -> None:
        token = client.headers.pop("X-CSRF-Token")
        r = await client.post("/api/v1/session/signout-everywhere", data={"csrf_token": "wrong"})
        assert_error(r, 403, "CsrfFailed")
        r = await client.post("/api/v1/session/signout-everywhere", data={"csrf_token": token})
        assert r.status_code == 204, r.text
        assert (await client.get("/api/v1/me")).status_code == 401

    @ADMIN
    async def test_bearer_tokens_need_none(self, token_client: httpx.AsyncClient) -> None:
        assert "X-CSRF-Token" not in token_client.headers
        r = await token_client.post("/api/v1/invitations", json={"email": "new.person@example.edu"})
        assert r.status_code == 201, r.text
        assert await count(Invitation) == 1
