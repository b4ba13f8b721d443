"""Research tools and the institution's research consent (docs/mcp.md, "Research tools"): consent and scope
gate the tools, groups under k_min are suppressed, courses are stable pseudonyms, no names or text leave, every
query is logged, another tenant's data never counts; GET/PUT /api/v1/research-settings."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.models import AiReflection
from scribetree.analytics.models import DailyActivityRow
from scribetree.compliance.research import ResearchSettingsUpdate, pseudonym, research
from scribetree.compliance.research_models import ResearchQueryLog, ResearchSettings
from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Course, CourseRole
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Role, Tenant
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.writing import create_document
from tests.mcp.conftest import People, http_client, inproc

ADMIN = pytest.mark.auth(role="institution_admin")


@dataclass
class Study:
    big: Course  # three active students, each with a reflection
    other_big: Course  # the same in the other tenant
    research: str  # the admin's read+research token
    student_ids: list[uuid.UUID]


async def _class_of_three(session: AsyncSession, tenant: Tenant, title: str) -> tuple[Course, list[uuid.UUID]]:
    course = await create_course(session, tenant, title=title)
    assignment = await create_assignment(session, course, title="Research essay")
    today = clock.utcnow().date()
    ids = []
    for i in range(3):
        who = await create_course_member(session, course, tenant, CourseRole.student, display_name=f"Pat Learner {i}")
        doc = await create_document(session, assignment, owner=who, text="Private words about rivers.")
        session.add(
            DailyActivityRow(
                tenant_id=tenant.id,
                document_id=doc.id,
                assignment_id=assignment.id,
                course_id=course.id,
                user_id=who.id,
                day=today,
                batches=3,
                active_seconds=600 * (i + 1),
                words_added=10 * (i + 1),
            )
        )
        session.add(
            AiReflection(
                tenant_id=tenant.id,
                document_id=doc.id,
                user_id=who.id,
                kind="initial",
                text="SECRET reflection text about my rivers essay",
                word_count=7,
                scores={},
                flags=[],
                total=8 + 2 * i,
                gamed=False,
                accepted=True,
                typed_ratio=1.0,
                pasted_chars=0,
                seconds_spent=60,
                level_before="basic",
                level_after="standard",
            )
        )
        ids.append(who.id)
    return course, ids


@pytest.fixture
async def study(session: AsyncSession, people: People, other_tenant: Tenant) -> Study:
    big, ids = await _class_of_three(session, people.tenant, "Rivers seminar")
    other_big, _ = await _class_of_three(session, other_tenant, "Their rivers seminar")
    admin = people.users["admin"]
    secret, _ = await identity.create_token(
        session,
        tenant_id=people.tenant.id,
        user_id=admin.id,
        name="research",
        scopes=["read", "research"],
        expires_in_days=30,
    )
    await session.commit()
    return Study(big=big, other_big=other_big, research=secret, student_ids=ids)


async def _consent(session: AsyncSession, people: People, *, consented: bool = True, k_min: int = 5) -> None:
    admin = people.users["admin"]
    ctx = AuthContext(
        user_id=admin.id,
        email=admin.email,
        display_name=admin.display_name,
        tenant_id=people.tenant.id,
        tenant_slug=people.tenant.slug,
        role=Role.institution_admin,
        platform_role=None,
        via="session",
    )
    await research.update_settings(session, ctx, ResearchSettingsUpdate(consented=consented, k_min=k_min))
    await session.commit()


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def _row(rows: list[dict], course: Course, tenant: Tenant) -> dict:
    matching = [r for r in rows if r["course"] == pseudonym(tenant.id, course.id)]
    assert len(matching) == 1, rows
    return matching[0]


async def test_refused_without_consent(people: People, study: Study, session: AsyncSession) -> None:
    async with inproc(study.research) as c:
        r = await c.call_tool("research_course_activity", {})
    assert r.is_error and "ResearchNotConsented" in _text(r) and "research-settings" in _text(r)
    await _consent(session, people, consented=False)
    async with inproc(study.research) as c:
        r = await c.call_tool("research_reflection_quality", {})
    assert r.is_error and "ResearchNotConsented" in _text(r)
    assert (await session.scalar(select(ResearchQueryLog.id))) is None


async def test_refused_without_the_research_scope(people: People, study: Study, session: AsyncSession) -> None:
    await _consent(session, people)
    educator = people.users["educator"]
    # An educator's token that somehow lists 'research' still does not carry it (the role cannot grant it).
    forged, _ = await identity.create_token(
        session,
        tenant_id=people.tenant.id,
        user_id=educator.id,
        name="x",
        scopes=["read", "research"],
        expires_in_days=1,
    )
    await session.commit()
    for secret in (people.tokens["admin"], people.tokens["educator"], forged):
        async with inproc(secret) as c:
            r = await c.call_tool("research_course_activity", {})
        assert r.is_error and "ResearchScopeRequired" in _text(r), _text(r)


async def test_k_suppression_pseudonyms_and_no_identities(people: People, study: Study, session: AsyncSession) -> None:
    await _consent(session, people, k_min=5)
    async with inproc(study.research) as c:
        hidden = await c.call_tool("research_course_activity", {"weeks": 4})
    assert not hidden.is_error, _text(hidden)
    row = _row(hidden.structured_content["rows"], study.big, people.tenant)
    assert row["suppressed"] is True
    assert row["students_active"] is None and row["median_active_minutes"] is None and row["submissions"] is None

    await _consent(session, people, k_min=2)
    async with inproc(study.research) as c:
        shown = await c.call_tool("research_course_activity", {"weeks": 4})
        again = await c.call_tool("research_course_activity", {"weeks": 4})
    rows = shown.structured_content["rows"]
    row = _row(rows, study.big, people.tenant)
    assert row["suppressed"] is False
    assert row["students_active"] == 3
    assert row["median_active_minutes"] == 20.0  # 10, 20, 30 minutes
    assert row["median_words_added"] == 20.0
    assert row["submissions"] == 0
    assert row["week"] == "{}-W{:02d}".format(*clock.utcnow().date().isocalendar()[:2])
    # people's course: one submission this week but no activity rows -> 0 active students, suppressed
    first = _row(rows, people.course, people.tenant)
    assert first["suppressed"] is True and first["submissions"] is None
    assert again.structured_content == shown.structured_content  # stable pseudonyms
    dumped = json.dumps(shown.structured_content) + _text(shown)
    for raw in [study.big.id, people.course.id, *study.student_ids]:
        assert str(raw) not in dumped and raw.hex not in dumped
    assert "Learner" not in dumped and "Rivers" not in dumped and "rivers" not in dumped


async def test_reflection_quality(people: People, study: Study, session: AsyncSession) -> None:
    await _consent(session, people, k_min=3)
    async with inproc(study.research) as c:
        r = await c.call_tool("research_reflection_quality", {"weeks": 1})
    assert not r.is_error, _text(r)
    row = _row(r.structured_content["rows"], study.big, people.tenant)
    assert row == {**row, "suppressed": False, "students": 3, "reflections": 3, "median_score": 10.0}
    assert "SECRET" not in json.dumps(r.structured_content) + _text(r)
    await _consent(session, people, k_min=4)
    async with inproc(study.research) as c:
        r = await c.call_tool("research_reflection_quality", {"weeks": 1})
    row = _row(r.structured_content["rows"], study.big, people.tenant)
    assert row["suppressed"] is True and row["median_score"] is None and row["students"] is None


async def test_other_tenant_never_included(
    people: People, study: Study, session: AsyncSession, other_tenant: Tenant
) -> None:
    await _consent(session, people, k_min=2)
    async with inproc(study.research) as c:
        act = await c.call_tool("research_course_activity", {})
        ref = await c.call_tool("research_reflection_quality", {})
    foreign = {pseudonym(people.tenant.id, study.other_big.id), pseudonym(other_tenant.id, study.other_big.id)}
    for result in (act, ref):
        courses = {r["course"] for r in result.structured_content["rows"]}
        assert courses and not courses & foreign
        assert courses <= {pseudonym(people.tenant.id, c.id) for c in (study.big, people.course)}


async def test_every_query_is_logged_and_audited(people: People, study: Study, session: AsyncSession) -> None:
    await _consent(session, people, k_min=5)
    async with inproc(study.research) as c:
        await c.call_tool("research_course_activity", {"weeks": 3})
        bad = await c.call_tool("research_course_activity", {"weeks": 0})
    assert bad.is_error
    logs = list(await session.scalars(select(ResearchQueryLog)))
    assert [(x.query, x.parameters, x.user_id, x.tenant_id) for x in logs] == [
        ("research_course_activity", {"weeks": 3, "k_min": 5}, people.users["admin"].id, people.tenant.id)
    ]
    assert logs[0].suppressed == logs[0].rows >= 1
    events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "research.query")))
    assert len(events) == 1 and events[0].details["parameters"] == {"weeks": 3, "k_min": 5}


async def test_over_http(server: str, people: People, study: Study, session: AsyncSession) -> None:
    await _consent(session, people, k_min=2)
    async with http_client(server, study.research) as c:
        r = await c.call_tool("research_course_activity", {"weeks": 2})
    assert not r.is_error, _text(r)
    assert _row(r.structured_content["rows"], study.big, people.tenant)["students_active"] == 3


class TestSettingsApi:
    @ADMIN
    async def test_defaults_update_and_validation(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        r = await client.get("/api/v1/research-settings")
        assert r.status_code == 200 and r.json()["consented"] is False and r.json()["k_min"] == 5
        for bad in ({"consented": True, "k_min": 1}, {"consented": True, "k_min": 101}, {"consented": "maybe"}):
            r = await client.put("/api/v1/research-settings", json=bad)
            assert r.status_code == 422, r.text
            assert r.json()["error"] == "ValidationError", r.text
            assert r.json()["detail"][0]["field"].startswith("body."), r.text
        assert (await session.scalar(select(ResearchSettings.id))) is None  # nothing stored
        r = await client.put("/api/v1/research-settings", json={"consented": True, "k_min": 7})
        assert r.status_code == 200, r.text
        assert r.json()["consented"] is True and r.json()["k_min"] == 7 and r.json()["updated_by"]
        r = await client.get("/api/v1/research-settings")
        assert r.json()["k_min"] == 7
        await session.rollback()  # a fresh snapshot: the PUT committed in its own unit of work
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "research.settings_updated")))
        assert len(events) == 1 and events[0].details["after"] == {"consented": True, "k_min": 7}

    @pytest.mark.auth(role="educator")
    async def test_not_for_educators(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/research-settings")).status_code in (403, 404)
        r = await client.put("/api/v1/research-settings", json={"consented": True, "k_min": 5})
        assert r.status_code in (403, 404)


class TestResearchTokens:
    @ADMIN
    async def test_an_institution_admin_may_create_one(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/api/v1/me/tokens", json={"name": "study", "scopes": ["read", "research"]})
        assert r.status_code in (200, 201), r.text
        assert sorted(r.json()["scopes"]) == ["read", "research"]

    @pytest.mark.auth(role="educator")
    async def test_nobody_else_may(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/api/v1/me/tokens", json={"name": "study", "scopes": ["read", "research"]})
        assert r.status_code == 422 and r.json()["error"] == "ScopeNotAllowed", r.text
        assert (await client.get("/api/v1/me/tokens")).json() == []
