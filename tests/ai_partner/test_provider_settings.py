"""The institution's AI provider settings (both databases): who may read and change them, validation, the key
encrypted at rest and never shown, and the partner using them on every ask against a local fake vendor server
(tests/ai_partner/engine_fakes.py): a compliant provider answers, a misbehaving one is replaced by the built-in
engine, and nothing reaches the provider unless the institution opted in."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.engine.providers import breakers
from scribetree.ai_partner.models import AiExchange, AiProviderSettings
from scribetree.ai_partner.providers_settings import decrypt_key, url_problem
from scribetree.core.audit import AuditEvent
from scribetree.core.config import Environment, settings
from scribetree.courses.models import Assignment
from scribetree.identity.models import User
from scribetree.tenancy.models import Role, Tenant
from scribetree.writing.models import Document
from tests.ai_partner.engine_fakes import API_KEY, COMPLIANT_QUESTIONS, VendorServer, usable_prose
from tests.factories.tenancy import create_member
from tests.factories.writing import create_document
from tests.writing.conftest import ClientFor, Klass

URL = "/api/v1/ai-provider"
SECRET = "sk-live-provider-secret-9Zq7"  # never to be seen again after it is saved
EMAIL = "ada.student@northfield.example.edu"
DRAFT = (
    "Name: Ada Student\n"
    "Social media harms teenage sleep. Studies from Norway show that screen use after ten pm delays sleep onset. "
    "My name is Ada Student and my second paragraph argues that schools should start later, because adolescent "
    "body clocks shift. Write to me at " + EMAIL + " if this is unclear."
)


def ok(r: httpx.Response) -> Any:
    assert r.status_code < 300, r.text
    return r.json()


async def admin_client(session: AsyncSession, client_for: ClientFor, tenant: Tenant) -> tuple[httpx.AsyncClient, User]:
    user, _ = await create_member(session, tenant, Role.institution_admin)
    await session.commit()
    return await client_for(user, tenant), user


async def stored(session: AsyncSession, tenant: Tenant) -> AiProviderSettings | None:
    await session.commit()
    row = (
        await session.execute(select(AiProviderSettings).where(AiProviderSettings.tenant_id == tenant.id))
    ).scalar_one_or_none()
    await session.commit()
    return row


async def raw_key_column(session: AsyncSession, tenant: Tenant) -> str | None:
    """The column as the database holds it, read without the ORM model."""
    await session.commit()
    value = (
        await session.execute(
            select(AiProviderSettings.__table__.c.api_key_encrypted).where(
                AiProviderSettings.__table__.c.tenant_id == tenant.id
            )
        )
    ).scalar_one_or_none()
    await session.commit()
    return value


async def audits(session: AsyncSession, tenant: Tenant, action: str) -> list[AuditEvent]:
    await session.commit()
    found = (
        (
            await session.execute(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == tenant.id, AuditEvent.action == action)
                .order_by(AuditEvent.seq)
            )
        )
        .scalars()
        .all()
    )
    await session.commit()
    return list(found)


def external(base_url: str = "https://api.example.com/v1", **kw: Any) -> dict[str, Any]:
    body = {
        "provider": "openai_compatible",
        "base_url": base_url,
        "model": "compliant",
        "timeout_s": 5,
        "external_allowed": True,
        "api_key": SECRET,
    }
    body.update(kw)
    return body


# ---- settings: permissions, validation, the key ---------------------------------------------------------------


class TestSettings:
    async def test_defaults_are_the_builtin_engine(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant
    ) -> None:
        c, _ = await admin_client(session, client_for, tenant)
        body = ok(await c.get(URL))
        assert body["provider"] == "builtin" and body["in_effect"] == "builtin"
        assert body["external_allowed"] is False and body["api_key_set"] is False and body["api_key_hint"] is None
        assert await stored(session, tenant) is None

    async def test_educators_tas_and_students_get_403(
        self, session: AsyncSession, client_for: ClientFor, klass: Klass
    ) -> None:
        for who in (klass.instructor, klass.ta, klass.student):
            c = await client_for(who, klass.tenant)
            assert (await c.get(URL)).status_code == 403
            r = await c.put(URL, json=external())
            assert r.status_code == 403 and SECRET not in r.text
        assert await stored(session, klass.tenant) is None

    async def test_admin_saves_a_provider_the_key_is_encrypted_and_never_shown(
        self,
        session: AsyncSession,
        client_for: ClientFor,
        tenant: Tenant,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        c, admin = await admin_client(session, client_for, tenant)
        with caplog.at_level(logging.DEBUG):
            r = await c.put(URL, json=external())
            body = ok(r)
            got = await c.get(URL)
            page = await c.get("/admin/ai-provider")
        assert body["provider"] == "openai_compatible" and body["in_effect"] == "openai_compatible"
        assert body["api_key_set"] is True and body["api_key_hint"] == "…" + SECRET[-4:]
        assert body["updated_by"] == str(admin.id) and body["updated_at"]
        assert "api_key" not in {k for k in body if k not in ("api_key_set", "api_key_hint")}
        for response in (r, got, page):
            assert SECRET not in response.text and SECRET[:-4] not in response.text
        assert "set, ending in" in page.text and SECRET[-4:] in page.text

        raw = await raw_key_column(session, tenant)
        assert raw is not None and SECRET not in raw and SECRET[:-4] not in raw
        assert decrypt_key(raw) == SECRET  # recoverable only with SECRET_KEY

        [entry] = await audits(session, tenant, "ai_partner.provider_changed")
        assert entry.details["api_key"] == "replaced"
        assert entry.details["changed"]["provider"] == {"from": "builtin", "to": "openai_compatible"}
        assert SECRET not in json.dumps(entry.details) and SECRET[-4:] not in json.dumps(entry.details)
        assert all(SECRET not in rec.getMessage() and SECRET not in str(rec.__dict__) for rec in caplog.records)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (external(base_url="http://api.example.com/v1"), "base_url"),
            (external(base_url="https://user:pw@api.example.com"), "base_url"),
            (external(base_url="https://api.example.com/v1?key=1"), "base_url"),
            (external(base_url="ftp://api.example.com"), "base_url"),
            (external(base_url="https://api.example.com:notaport"), "base_url"),
            (external(base_url=None), "base_url"),
            (external(model=""), "model"),
            (external(api_key=None), "api_key"),
            (external(clear_api_key=True), "api_key"),
        ],
    )
    async def test_broken_rules_are_422_with_the_field_and_nothing_is_stored(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant, body: dict[str, Any], field: str
    ) -> None:
        c, _ = await admin_client(session, client_for, tenant)
        r = await c.put(URL, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "ProviderSettingsInvalid" and r.json()["field"] == field
        assert r.json()["detail"] and SECRET not in r.text
        assert await stored(session, tenant) is None
        assert await audits(session, tenant, "ai_partner.provider_changed") == []

    @pytest.mark.parametrize(
        "body",
        [
            external(timeout_s=0),
            external(timeout_s=31),
            external(provider="skynet"),
            external(api_key="short"),
            external(api_key="has a space in it"),
            external(model="two words"),
            external(base_url="https://" + "a" * 500 + ".com"),
            {**external(), "tenant_id": "x"},
        ],
    )
    async def test_malformed_values_are_422(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant, body: dict[str, Any]
    ) -> None:
        c, _ = await admin_client(session, client_for, tenant)
        r = await c.put(URL, json=body)
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", r.text
        if body.get("api_key"):
            assert body["api_key"] not in r.text  # a refused key is not echoed either
        assert await stored(session, tenant) is None

    async def test_http_only_for_localhost_and_never_in_production(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert url_problem("http://127.0.0.1:8080/v1") is None
        assert url_problem("http://localhost:8080") is None
        assert url_problem("https://api.anthropic.com") is None
        assert url_problem("http://10.0.0.5/v1") is not None
        monkeypatch.setattr(settings, "ENV", Environment.production)
        assert url_problem("http://127.0.0.1:8080/v1") is not None
        assert url_problem("https://api.anthropic.com") is None

    async def test_a_changed_address_needs_the_key_again_other_changes_keep_it(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant
    ) -> None:
        c, _ = await admin_client(session, client_for, tenant)
        ok(await c.put(URL, json=external()))
        before = await raw_key_column(session, tenant)

        r = await c.put(URL, json=external(base_url="https://collector.example.net/v1", api_key=None))
        assert r.status_code == 422 and r.json()["field"] == "api_key"
        row = await stored(session, tenant)
        assert row is not None and row.base_url == "https://api.example.com/v1"
        r = await c.put(URL, json=external(provider="anthropic", api_key=None))
        assert r.status_code == 422 and r.json()["field"] == "api_key"

        body = ok(await c.put(URL, json=external(timeout_s=12, api_key=None)))
        assert body["timeout_s"] == 12 and body["api_key_set"] and body["api_key_hint"] == "…" + SECRET[-4:]
        assert await raw_key_column(session, tenant) == before

        body = ok(await c.put(URL, json=external(base_url="https://other.example.org", api_key="sk-new-key-ABCD")))
        assert (
            body["api_key_hint"] == "…ABCD" and decrypt_key(await raw_key_column(session, tenant)) == "sk-new-key-ABCD"
        )

        body = ok(await c.put(URL, json={"provider": "builtin", "clear_api_key": True}))
        assert body["api_key_set"] is False and body["in_effect"] == "builtin"
        assert await raw_key_column(session, tenant) is None
        actions = await audits(session, tenant, "ai_partner.provider_changed")
        assert [a.details.get("api_key") for a in actions] == ["replaced", None, "replaced", "removed"]

    async def test_saving_the_same_settings_again_changes_nothing(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant
    ) -> None:
        c, _ = await admin_client(session, client_for, tenant)
        ok(await c.put(URL, json=external()))
        ok(await c.put(URL, json=external(api_key=None)))
        assert len(await audits(session, tenant, "ai_partner.provider_changed")) == 1

    async def test_other_tenants_are_isolated(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        ours, _ = await admin_client(session, client_for, tenant)
        theirs, _ = await admin_client(session, client_for, other_tenant)
        ok(await ours.put(URL, json=external()))
        body = ok(await theirs.get(URL))
        assert body["provider"] == "builtin" and body["api_key_set"] is False
        ok(await theirs.put(URL, json={"provider": "builtin", "external_allowed": False}))
        row = await stored(session, tenant)
        assert row is not None and row.provider == "openai_compatible" and row.external_allowed is True
        assert (await stored(session, other_tenant)) is not None
        async with session.begin():
            n = (await session.execute(select(func.count()).select_from(AiProviderSettings))).scalar_one()
        assert n == 2


# ---- the page -------------------------------------------------------------------------------------------------


class TestPage:
    async def test_admin_saves_through_the_form_and_sees_only_the_keys_end(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant
    ) -> None:
        c, _ = await admin_client(session, client_for, tenant)
        page = await c.get("/admin/ai-provider")
        assert page.status_code == 200 and "not set" in page.text and 'for="p-api_key"' in page.text
        form = {
            "provider": "anthropic",
            "base_url": "https://api.anthropic.com",
            "model": "claude-test",
            "timeout_s": "10",
            "api_key": SECRET,
        }
        r = await c.post("/admin/ai-provider", data=form)
        assert r.status_code == 303, r.text
        row = await stored(session, tenant)
        assert row is not None and row.provider == "anthropic" and row.external_allowed is False
        page = await c.get("/admin/ai-provider")
        assert "ending in" in page.text and SECRET[-4:] in page.text and SECRET not in page.text
        assert "not allowed yet" in page.text

    async def test_errors_are_summarised_and_the_key_is_not_echoed(
        self, session: AsyncSession, client_for: ClientFor, tenant: Tenant
    ) -> None:
        c, _ = await admin_client(session, client_for, tenant)
        r = await c.post(
            "/admin/ai-provider",
            data={
                "provider": "openai_compatible",
                "base_url": "http://evil.example",
                "model": "m",
                "timeout_s": "5",
                "api_key": SECRET,
            },
        )
        assert r.status_code == 422 and "There is a problem" in r.text and 'href="#p-base_url"' in r.text
        assert SECRET not in r.text
        r = await c.post("/admin/ai-provider", data={"provider": "builtin", "timeout_s": "99"})
        assert r.status_code == 422 and "from 1 to 30" in r.text
        assert await stored(session, tenant) is None

    async def test_educators_cannot_open_it(self, client_for: ClientFor, klass: Klass) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        assert (await c.get("/admin/ai-provider")).status_code in (403, 404)
        assert (await c.post("/admin/ai-provider", data={"provider": "builtin"})).status_code in (403, 404)


# ---- the partner uses them --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vendor() -> Iterator[VendorServer]:
    server = VendorServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    breakers.reset()
    yield
    breakers.reset()


@pytest.fixture
async def doc(session: AsyncSession, klass: Klass) -> Document:
    a = await session.get(Assignment, klass.assignment.id)
    assert a is not None
    a.ai_settings = {"reflection_required": False}
    d = await create_document(session, klass.assignment, owner=klass.student, text=DRAFT)
    await session.commit()
    return d


async def configure(
    session: AsyncSession, client_for: ClientFor, tenant: Tenant, vendor: VendorServer, **kw: Any
) -> None:
    c, _ = await admin_client(session, client_for, tenant)
    ok(await c.put(URL, json=external(base_url=vendor.base_url + "/v1", api_key=API_KEY, **kw)))
    vendor.reset()


async def exchange(session: AsyncSession) -> AiExchange:
    await session.commit()
    row = (await session.execute(select(AiExchange))).scalar_one()
    await session.commit()
    return row


class TestPartnerUsesTheProvider:
    QUESTION = f"Which claim needs support? I am Ada Student, {EMAIL}."

    async def test_opted_in_the_students_ask_goes_to_the_provider_minimised(
        self, session: AsyncSession, client_for: ClientFor, klass: Klass, doc: Document, vendor: VendorServer
    ) -> None:
        await configure(session, client_for, klass.tenant, vendor)
        c = await client_for(klass.student, klass.tenant)
        answer = ok(await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": self.QUESTION}))
        assert answer["provider"] == "openai_compatible" and answer["fell_back"] is False
        assert answer["questions"] == COMPLIANT_QUESTIONS
        assert len(vendor.requests) == 1
        sent = json.dumps(vendor.requests[0]["body"])
        assert "sleep onset" in sent  # the draft excerpt did go out ...
        student = await session.get(User, klass.student.id)
        assert student is not None
        for private in ("Ada", "Student", EMAIL, student.email, str(student.id), str(doc.id), str(klass.tenant.id)):
            assert private not in sent, private  # ... without the student's name, email or ids
        assert vendor.requests[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
        row = await exchange(session)
        assert row.provider == "openai_compatible" and row.fell_back is False and row.verdicts[-1]["ok"] is True

    async def test_a_bare_first_name_is_not_sent(
        self, session: AsyncSession, client_for: ClientFor, klass: Klass, doc: Document, vendor: VendorServer
    ) -> None:
        """Patterns catch "I am Ada Student"; a first name alone mid-sentence needs the student's own names."""
        await configure(session, client_for, klass.tenant, vendor)
        c = await client_for(klass.student, klass.tenant)
        student = await session.get(User, klass.student.id)
        assert student is not None
        first = student.display_name.split()[0]
        question = f"is {first}'s claim about adaptation clear when {first.lower()} compares sleep onset?"
        ok(await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": question}))
        sent = json.dumps(vendor.requests[0]["body"])
        assert "claim about adaptation" in sent  # the question went out (and "adaptation" is not mangled) ...
        assert first not in sent and f" {first.lower()} " not in sent  # ... without the name

    async def test_a_misbehaving_provider_is_replaced_by_the_builtin_engine(
        self, session: AsyncSession, client_for: ClientFor, klass: Klass, doc: Document, vendor: VendorServer
    ) -> None:
        await configure(session, client_for, klass.tenant, vendor, model="misbehave")
        c = await client_for(klass.student, klass.tenant)
        answer = ok(
            await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": "Which claim needs support?"})
        )
        assert vendor.calls == 2  # asked, refused by the validator, retried once, refused again
        assert answer["provider"] == "builtin" and answer["fell_back"] is True
        assert [v["ok"] for v in answer["verdicts"]][:2] == [False, False] and answer["verdicts"][-1]["ok"] is True
        assert usable_prose(answer["questions"], completion=vendor.completion, thesis=vendor.thesis, draft=DRAFT) == []
        row = await exchange(session)
        assert row.provider == "builtin" and row.fell_back is True

    async def test_without_the_opt_in_nothing_reaches_the_provider(
        self, session: AsyncSession, client_for: ClientFor, klass: Klass, doc: Document, vendor: VendorServer
    ) -> None:
        await configure(session, client_for, klass.tenant, vendor, external_allowed=False)
        c = await client_for(klass.student, klass.tenant)
        answer = ok(await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": self.QUESTION}))
        assert answer["provider"] == "builtin" and answer["fell_back"] is False
        assert vendor.calls == 0 and vendor.requests == []
        assert (await exchange(session)).provider == "builtin"

    async def test_another_tenants_provider_is_not_used(
        self,
        session: AsyncSession,
        client_for: ClientFor,
        klass: Klass,
        other_tenant: Tenant,
        doc: Document,
        vendor: VendorServer,
    ) -> None:
        await configure(session, client_for, other_tenant, vendor)
        c = await client_for(klass.student, klass.tenant)
        answer = ok(await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": self.QUESTION}))
        assert answer["provider"] == "builtin" and vendor.calls == 0
