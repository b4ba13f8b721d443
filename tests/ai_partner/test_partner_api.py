"""The AI partner API end to end with the real built-in engine: settings, the reflection gate, levels, budget,
exam mode, the exchange log, history and the class summary (both databases)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner import engine
from scribetree.ai_partner import service as partner_module
from scribetree.ai_partner.engine.types import PartnerAnswer, PartnerRequest, ProviderConfig
from scribetree.ai_partner.models import AiExchange, AiLevelChange, AiReflection
from scribetree.ai_partner.schemas import PartnerAsk
from scribetree.ai_partner.service import partner
from scribetree.core import db
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment
from scribetree.tenancy.models import Tenant
from scribetree.writing.models import Document, DocumentStatus
from tests.factories.tenancy import create_member
from tests.factories.writing import create_document
from tests.writing.conftest import ClientFor, CtxFor, Klass

DRAFT = (
    "Social media harms teenage sleep. Studies from Norway show that screen use after ten pm delays sleep onset. "
    "My second paragraph argues that schools should start later, because adolescent body clocks shift."
)
GOOD = (
    "I realised that my second paragraph assumes schools can change start times easily, but I did not consider "
    "the cost for buses. Because my claim about sleep onset relies on one Norway study, my evidence is weaker than "
    "I thought, so I will look for another source. I tend to write the conclusion first and then struggle to "
    "connect it. On the other hand, someone might argue that parents, not schools, should limit screen use. Next I "
    "will revise the second paragraph so that it answers that objection, and my goal is to understand how to weigh "
    "two sources against each other. Is one study enough?"
)
GOOD_2 = (
    "After the questions I noticed that my introduction never says why sleep matters for learning, which means "
    "the reader has no reason to care about the Norway study. I assumed everyone knows this, but a sceptical "
    "reader might not. I tend to skip steps when I am sure of something. Instead of adding more statistics I will "
    "explain the link between sleep onset and attention, because that is the step my argument skips; therefore "
    "the second paragraph needs a new opening sentence. I am unsure whether one paragraph is enough for it. Next "
    "I will draft that paragraph and check whether the evidence supports my claim or only my feeling about screens."
)
FOLLOW_UP = "I will move the Norway study into the second paragraph because it supports that claim better there."


def rows(r: httpx.Response) -> Any:
    assert r.status_code < 300, r.text
    return r.json()


async def set_ai(session: AsyncSession, assignment: Assignment, **values: Any) -> None:
    """Store settings directly (as an earlier PUT would have)."""
    await session.commit()
    a = await session.get(Assignment, assignment.id)
    assert a is not None
    a.ai_settings = values
    await session.commit()


async def count(session: AsyncSession, model: Any, **where: Any) -> int:
    await session.commit()
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    n = (await session.execute(stmt)).scalar_one()
    await session.commit()
    return int(n)


async def audit_actions(session: AsyncSession, tenant: Tenant) -> list[str]:
    await session.commit()
    found = (
        (
            await session.execute(
                select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id).order_by(AuditEvent.seq)
            )
        )
        .scalars()
        .all()
    )
    await session.commit()
    return list(found)


@pytest.fixture
async def doc(session: AsyncSession, klass: Klass) -> Document:
    d = await create_document(session, klass.assignment, owner=klass.student, text=DRAFT)
    await session.commit()
    return d


def reflection(text: str = GOOD, *, kind: str = "initial", seconds: int = 300, pasted: int = 0) -> dict[str, Any]:
    return {"text": text, "kind": kind, "seconds_spent": seconds, "pasted_chars": pasted}


# ---- settings ---------------------------------------------------------------------------------------------


class TestSettings:
    async def test_defaults_are_readable_by_students_and_staff(self, klass: Klass, client_for: ClientFor) -> None:
        for who, editable in ((klass.student, False), (klass.ta, False), (klass.instructor, True)):
            c = await client_for(who, klass.tenant)
            body = rows(await c.get(f"/api/v1/assignments/{klass.assignment.id}/ai-settings"))
            assert body["editable"] is editable
            assert body["settings"]["enabled"] is True and body["settings"]["exam_mode"] is False
            assert body["current_stage"] == "brainstorm"  # the first stage: no due dates have passed
            assert body["effective"]["enabled"] is True and body["stored_valid"] is True

    async def test_instructor_changes_them_audited_and_students_see_them(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
    ) -> None:
        teacher = await client_for(klass.instructor, klass.tenant)
        new = {
            "enabled": True,
            "kinds": ["clarity", "evidence"],
            "stages": {"brainstorm": {"enabled": False}},
            "budget_per_hour": 3,
            "budget_per_day": 10,
            "reflection_min_words": 25,
        }
        body = rows(await teacher.put(f"/api/v1/assignments/{klass.assignment.id}/ai-settings", json=new))
        assert body["settings"]["kinds"] == ["clarity", "evidence"]
        assert body["effective"] == {
            "stage": "brainstorm",
            "enabled": False,
            "reason": "Your teacher has turned the AI partner off during the Brainstorm stage.",
            "kinds": [],
        }
        assert "ai_partner.settings_changed" in await audit_actions(session, klass.tenant)
        student = await client_for(klass.student, klass.tenant)
        seen = rows(await student.get(f"/api/v1/assignments/{klass.assignment.id}/ai-settings"))
        assert seen["settings"]["budget_per_hour"] == 3 and seen["effective"]["enabled"] is False

    async def test_ta_and_student_cannot_change_them(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
    ) -> None:
        for who in (klass.ta, klass.student):
            c = await client_for(who, klass.tenant)
            r = await c.put(f"/api/v1/assignments/{klass.assignment.id}/ai-settings", json={"exam_mode": True})
            assert r.status_code == 403 and r.json()["error"] == "SettingsReadOnly", r.text
        await session.refresh(klass.assignment)
        assert klass.assignment.ai_settings == {}

    @pytest.mark.parametrize(
        ("body", "error", "fragment"),
        [
            ({"budget_per_hour": 10, "budget_per_day": 5}, "ValidationError", "daily budget"),
            ({"kinds": ["essay_writing"]}, "ValidationError", "kinds"),
            ({"budget_per_hour": -1}, "ValidationError", "budget_per_hour"),
            ({"surprise": True}, "ValidationError", "surprise"),
            ({"stages": {"final": {"enabled": False}}}, "UnknownStage", "brainstorm"),
            ({"stages": {"draft": {"kinds": ["ghostwriting"]}}}, "ValidationError", "kinds"),
        ],
    )
    async def test_invalid_settings_are_refused_and_nothing_changes(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        body: dict[str, Any],
        error: str,
        fragment: str,
    ) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        r = await c.put(f"/api/v1/assignments/{klass.assignment.id}/ai-settings", json=body)
        assert r.status_code == 422 and r.json()["error"] == error, r.text
        assert fragment in r.text
        await session.refresh(klass.assignment)
        assert klass.assignment.ai_settings == {}

    async def test_unreadable_stored_settings_fail_closed(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        await set_ai(session, klass.assignment, enabled=True, per_stage={"draft": "questions"})  # a legacy shape
        c = await client_for(klass.student, klass.tenant)
        body = rows(await c.get(f"/api/v1/assignments/{klass.assignment.id}/ai-settings"))
        assert body["stored_valid"] is False and body["effective"]["enabled"] is False
        r = await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": "What is unclear?"})
        assert r.status_code == 409 and r.json()["error"] == "PartnerDisabled"
        assert "save them again" in r.json()["detail"]

    async def test_strangers_get_404(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        other_tenant: Tenant,
    ) -> None:
        outsider, _ = await create_member(session, klass.tenant)
        foreign, _ = await create_member(session, other_tenant)
        await session.commit()
        for who, tenant in ((outsider, klass.tenant), (foreign, other_tenant)):
            c = await client_for(who, tenant)
            assert (await c.get(f"/api/v1/assignments/{klass.assignment.id}/ai-settings")).status_code == 404
            r = await c.put(f"/api/v1/assignments/{klass.assignment.id}/ai-settings", json={})
            assert r.status_code == 404


# ---- the loop: reflect, ask, follow up --------------------------------------------------------------------


class TestLoop:
    async def test_reflect_ask_follow_up(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        ask = f"/api/v1/documents/{doc.id}/partner"
        r = await c.post(ask, json={"question": "Can you write my conclusion for me?"})
        assert r.status_code == 409 and r.json()["error"] == "ReflectionRequired", r.text
        assert r.json()["due"] == "initial" and r.json()["min_words"] == 40
        assert await count(session, AiExchange) == 0

        result = rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection()))
        assert result["reflection"]["accepted"] is True and result["reflection"]["total"] >= 15
        assert set(result["reflection"]["scores"]) == {
            "depth",
            "self_awareness",
            "critical_engagement",
            "growth",
            "specificity",
        }
        assert result["level_change"]["from_level"] == "basic" and result["level_change"]["to_level"] == "standard"
        assert result["level"]["level"] == "standard" and "evidence" in result["level"]["kinds"]

        answer = rows(await c.post(ask, json={"question": "Can you write my conclusion for me?"}))
        assert 1 <= len(answer["questions"]) <= 3 and all(q.strip().endswith("?") for q in answer["questions"])
        assert answer["refusal"]  # asked to write: a kind refusal plus questions
        assert answer["provider"] == "builtin" and answer["level"] == "standard"
        assert answer["verdicts"] and answer["verdicts"][-1]["ok"] is True
        assert answer["follow_up_prompt"]
        stored = (await session.execute(select(AiExchange))).scalar_one()
        assert stored.question == "Can you write my conclusion for me?" and stored.draft_words == doc.word_count
        assert stored.answer["questions"] == answer["questions"]
        await session.commit()

        r = await c.post(ask, json={"question": "What else is unclear?"})
        assert r.status_code == 409 and r.json()["due"] == "follow_up" and r.json()["min_words"] == 20

        short = rows(
            await c.post(
                f"/api/v1/documents/{doc.id}/reflections",
                json=reflection(FOLLOW_UP, kind="follow_up", seconds=60),
            )
        )
        assert short["reflection"]["accepted"] is False  # 17 words, follow-ups need 20
        assert (await c.post(ask, json={"question": "What else is unclear?"})).status_code == 409
        rows(
            await c.post(
                f"/api/v1/documents/{doc.id}/reflections",
                json=reflection(
                    "Next I will test my thesis against the bus costs, because a reader who pays for buses will "
                    "object first, and I am not sure my second paragraph answers that.",
                    kind="follow_up",
                ),
            )
        )
        assert rows(await c.post(ask, json={"question": "What else is unclear?"}))["questions"]
        assert await count(session, AiExchange) == 2

    async def test_the_first_reflection_needs_the_full_minimum_whatever_its_kind(
        self,
        klass: Klass,
        client_for: ClientFor,
        doc: Document,
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        text = FOLLOW_UP + " I am not sure the reader follows my reasoning yet."
        r = rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection(text, kind="follow_up")))
        assert r["reflection"]["accepted"] is False and r["reflection"]["flags"][0]["code"] == "too_short"

    async def test_gamed_reflections_do_not_open_the_gate_or_raise_the_level(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        r = rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection(pasted=len(GOOD) - 3)))
        assert r["reflection"]["gamed"] is True and r["reflection"]["accepted"] is False
        assert [f["code"] for f in r["reflection"]["flags"]] == ["pasted"]
        assert r["level"]["level"] in ("basic", "restricted")  # never up
        r = await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": "Is my thesis clear?"})
        assert r.status_code == 409 and r.json()["error"] == "ReflectionRequired"
        fast = rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection(GOOD_2, seconds=5)))
        assert "implausible_speed" in [f["code"] for f in fast["reflection"]["flags"]]
        assert fast["level"]["level"] in ("basic", "restricted")

    async def test_levels_move_one_step_per_reflection_and_are_audited(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        third = (
            "Looking back at my conclusion I realised it repeats the introduction, because I was afraid of adding "
            "something new at the end. Someone might argue a conclusion should only summarise, however I think it "
            "should say why the argument matters for schools. Next I will cut the repeated sentence and add one "
            "about bus costs, so that the reader sees a practical consequence. I am unsure whether that weakens "
            "the focus on teenage sleep, so I will ask a classmate. My goal is to end on the reader's decision."
        )
        seen = []
        for text in (GOOD, GOOD_2, third):
            r = rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection(text)))
            assert r["reflection"]["accepted"], r["reflection"]["flags"]
            seen.append(r["level"]["level"])
        assert seen == ["standard", "standard", "advanced"]  # advanced needs three that count
        changes = (await session.execute(select(AiLevelChange).order_by(AiLevelChange.created_at))).scalars().all()
        assert [(x.from_level, x.to_level) for x in changes] == [("basic", "standard"), ("standard", "advanced")]
        await session.commit()
        assert (await audit_actions(session, klass.tenant)).count("ai_partner.level_changed") == 2

    async def test_a_duplicate_reflection_is_flagged(
        self,
        klass: Klass,
        client_for: ClientFor,
        doc: Document,
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection()))
        again = rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection()))
        assert "near_duplicate" in [f["code"] for f in again["reflection"]["flags"]]
        # a gamed reflection counts 0 in the mean: (17 + 0) / 2 -> basic, so it lowers the level one step
        assert again["level_change"]["to_level"] == "basic" and again["reflection"]["accepted"] is False

    @pytest.mark.parametrize(
        "body",
        [
            {"text": "x", "seconds_spent": 3, "pasted_chars": 5},
            {"text": "a\u0000b", "seconds_spent": 3},
            {"text": "", "seconds_spent": 3},
            {"text": "fine", "seconds_spent": -1},
            {"text": "fine", "seconds_spent": 3, "kind": "bonus"},
            {"text": "fine", "seconds_spent": 3, "level": "advanced"},
        ],
    )
    async def test_invalid_reflections_are_422_and_nothing_is_stored(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
        body: dict[str, Any],
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        r = await c.post(f"/api/v1/documents/{doc.id}/reflections", json=body)
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", r.text
        assert await count(session, AiReflection) == 0


# ---- the rules on every request ---------------------------------------------------------------------------


class TestRules:
    async def test_exam_mode_and_stage_overrides_apply_to_the_next_request(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        ask = f"/api/v1/documents/{doc.id}/partner"
        await set_ai(session, klass.assignment, exam_mode=True, reflection_required=False)
        r = await c.post(ask, json={"question": "Is my thesis clear?"})
        assert r.status_code == 409 and r.json()["error"] == "PartnerDisabled" and "Exam mode" in r.json()["detail"]
        r = await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection())
        assert r.status_code == 409 and r.json()["error"] == "PartnerDisabled"  # exam mode turns off everything
        assert await count(session, AiReflection) == 0
        await set_ai(session, klass.assignment, stages={"brainstorm": {"enabled": False}}, reflection_required=False)
        r = await c.post(ask, json={"question": "Is my thesis clear?"})
        assert r.status_code == 409 and "Brainstorm stage" in r.json()["detail"] and r.json()["stage"] == "brainstorm"
        await set_ai(session, klass.assignment, enabled=False)
        r = await c.post(ask, json={"question": "Is my thesis clear?"})
        assert r.status_code == 409 and "turned the AI partner off" in r.json()["detail"]
        await set_ai(session, klass.assignment, reflection_required=False)
        assert rows(await c.post(ask, json={"question": "Is my thesis clear?"}))["questions"]

    async def test_budget_is_enforced_with_the_reset_time(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        await set_ai(session, klass.assignment, reflection_required=False, budget_per_hour=2, budget_per_day=5)
        c = await client_for(klass.student, klass.tenant)
        ask = f"/api/v1/documents/{doc.id}/partner"
        for _ in range(2):
            rows(await c.post(ask, json={"question": "Which paragraph is weakest?"}))
        r = await c.post(ask, json={"question": "Which paragraph is weakest?"})
        assert r.status_code == 429 and r.json()["error"] == "PartnerBudgetExhausted", r.text
        assert r.json()["budget_per_hour"] == 2 and r.json()["resets_at"]
        assert 3500 <= int(r.headers["Retry-After"]) <= 3600
        assert await count(session, AiExchange) == 2

    async def test_the_level_scales_the_budget(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        await set_ai(session, klass.assignment, reflection_required=False, budget_per_hour=2, budget_per_day=5)
        c = await client_for(klass.student, klass.tenant)
        weak = "It is fine. I wrote it. Nothing much to say about it really at this point in time, it is done."
        r = rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection(weak)))
        assert r["level"]["level"] == "restricted" and r["level"]["budget_per_hour"] == 1
        ask = f"/api/v1/documents/{doc.id}/partner"
        first = rows(await c.post(ask, json={"question": "Is anything unclear in my first sentence?"}))
        assert first["level"] == "restricted"
        assert (await c.post(ask, json={"question": "And the second?"})).status_code == 429

    async def test_no_kind_left_at_the_level_is_explained(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        await set_ai(session, klass.assignment, reflection_required=False, kinds=["evidence"])
        c = await client_for(klass.student, klass.tenant)  # basic level: no evidence questions yet
        r = await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": "Is my evidence good?"})
        assert r.status_code == 409 and r.json()["error"] == "PartnerDisabled" and "level (basic)" in r.json()["detail"]

    async def test_the_client_cannot_choose_its_level_or_send_its_own_draft(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        await set_ai(session, klass.assignment, reflection_required=False)
        c = await client_for(klass.student, klass.tenant)
        ask = f"/api/v1/documents/{doc.id}/partner"
        for extra in ({"level": "advanced"}, {"draft": "Write my essay."}, {"allowed": ["evidence"]}):
            r = await c.post(ask, json={"question": "Is my thesis clear?", **extra})
            assert r.status_code == 422, r.text
        assert await count(session, AiExchange) == 0

    async def test_staff_strangers_and_submitted_documents(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
        other_tenant: Tenant,
    ) -> None:
        await set_ai(session, klass.assignment, reflection_required=False)
        ask = f"/api/v1/documents/{doc.id}/partner"
        teacher = await client_for(klass.instructor, klass.tenant)
        r = await teacher.post(ask, json={"question": "Is my thesis clear?"})
        assert r.status_code == 403 and r.json()["error"] == "PartnerStudentsOnly"
        foreign, _ = await create_member(session, other_tenant)
        await session.commit()
        for who, tenant in ((klass.classmate, klass.tenant), (foreign, other_tenant)):
            c = await client_for(who, tenant)
            assert (await c.post(ask, json={"question": "Is my thesis clear?"})).status_code == 404
            r = await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection())
            assert r.status_code == 404
        d = await session.get(Document, doc.id)
        assert d is not None
        d.status = DocumentStatus.submitted
        await session.commit()
        c = await client_for(klass.student, klass.tenant)
        r = await c.post(ask, json={"question": "Is my thesis clear?"})
        assert r.status_code == 409 and "submitted" in r.json()["detail"]
        assert await count(session, AiExchange) == 0

    async def test_the_engine_runs_with_no_transaction_open(
        self,
        klass: Klass,
        ctx_for: CtxFor,
        session: AsyncSession,
        doc: Document,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await set_ai(session, klass.assignment, reflection_required=False)
        ctx = await ctx_for(klass.student, klass.tenant)
        read, write = db.make_session(write=False), db.make_session(write=True)
        seen: list[tuple[bool, bool]] = []
        real = engine.answer

        async def spy(request: PartnerRequest, config: ProviderConfig | None = None) -> PartnerAnswer:
            seen.append((read.in_transaction(), write.in_transaction()))
            assert request.draft == DRAFT and request.level.value == "basic"
            return await real(request, config)

        monkeypatch.setattr(partner_module.engine, "answer", spy)
        try:
            out = await partner.ask(read, write, ctx, doc.id, PartnerAsk(question="Which claim needs support?"))
            await db.commit(write)
        finally:
            await read.close()
            await write.close()
        assert seen == [(False, False)]
        assert out.questions and await count(session, AiExchange) == 1


# ---- transparency -----------------------------------------------------------------------------------------


class TestTransparency:
    async def test_history_for_the_student_and_the_staff(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        c = await client_for(klass.student, klass.tenant)
        rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection()))
        rows(await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": "Is my thesis clear?"}))
        mine = rows(await c.get(f"/api/v1/documents/{doc.id}/partner/history"))
        assert len(mine["reflections"]) == 1 and len(mine["exchanges"]) == 1 and len(mine["level_changes"]) == 1
        assert mine["level"]["level"] == "standard" and mine["level"]["used_last_hour"] == 1
        assert mine["reflection_due"] == "follow_up"
        assert mine["exchanges"][0]["verdicts"][-1]["ok"] is True
        assert "ai_partner.history_viewed" not in await audit_actions(session, klass.tenant)

        for who in (klass.instructor, klass.ta):
            staff = await client_for(who, klass.tenant)
            theirs = rows(await staff.get(f"/api/v1/documents/{doc.id}/partner/history"))
            assert theirs["level"] is None and theirs["exchanges"] == mine["exchanges"]
            assert theirs["reflections"][0]["text"] == GOOD
        assert (await audit_actions(session, klass.tenant)).count("ai_partner.history_viewed") == 2
        classmate = await client_for(klass.classmate, klass.tenant)
        assert (await classmate.get(f"/api/v1/documents/{doc.id}/partner/history")).status_code == 404

    async def test_class_summary_with_over_reliance(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
    ) -> None:
        await set_ai(session, klass.assignment, reflection_required=False, budget_per_hour=10, budget_per_day=20)
        other = await create_document(session, klass.assignment, owner=klass.classmate, text="Just started.")
        await session.commit()
        c = await client_for(klass.student, klass.tenant)
        rows(await c.post(f"/api/v1/documents/{doc.id}/reflections", json=reflection()))
        for i in range(5):
            rows(await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": f"Question {i}: is it clear?"}))
        url = f"/api/v1/assignments/{klass.assignment.id}/partner/summary"
        teacher = await client_for(klass.instructor, klass.tenant)
        summary = rows(await teacher.get(url))
        by_name = {s["name"]: s for s in summary["students"]}
        ada, bea = by_name["Ada Student"], by_name["Bea Classmate"]
        assert ada["requests"] == 5 and ada["level"] == "standard" and ada["reflections"] == 1
        assert ada["mean_reflection_score"] == ada["reflection_scores"][0]["total"]
        assert ada["words_written"] == doc.word_count and ada["over_reliance"] is True
        assert "per 100 words" in ada["over_reliance_reason"]
        assert bea["requests"] == 0 and bea["over_reliance"] is False and bea["document_id"] == str(other.id)
        assert "ai_partner.summary_viewed" in await audit_actions(session, klass.tenant)
        ta = await client_for(klass.ta, klass.tenant)
        assert rows(await ta.get(url))["students"]
        student = await client_for(klass.student, klass.tenant)
        r = await student.get(url)
        assert r.status_code == 403 and r.json()["error"] == "PartnerStaffOnly"

    async def test_summary_is_tenant_scoped(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        other_tenant: Tenant,
    ) -> None:
        foreign, _ = await create_member(session, other_tenant)
        await session.commit()
        c = await client_for(foreign, other_tenant)
        assert (await c.get(f"/api/v1/assignments/{klass.assignment.id}/partner/summary")).status_code == 404
        assert (await c.get(f"/api/v1/documents/{uuid.uuid4()}/partner/history")).status_code == 404


# ---- who may call what, on real objects -------------------------------------------------------------------

CALLERS = ("student", "classmate", "ta", "instructor", "admin", "outsider", "foreign")
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    # route: status for each caller in CALLERS
    ("GET", "/api/v1/assignments/{a}/ai-settings"): (200, 200, 200, 200, 200, 404, 404),
    ("PUT", "/api/v1/assignments/{a}/ai-settings"): (403, 403, 403, 200, 200, 404, 404),
    ("POST", "/api/v1/documents/{d}/reflections"): (200, 404, 403, 403, 403, 404, 404),
    ("POST", "/api/v1/documents/{d}/partner"): (200, 404, 403, 403, 403, 404, 404),
    ("GET", "/api/v1/documents/{d}/partner/history"): (200, 404, 200, 200, 200, 404, 404),
    ("GET", "/api/v1/assignments/{a}/partner/summary"): (403, 403, 200, 200, 200, 404, 404),
}
BODIES = {
    "ai-settings": {"reflection_required": False},
    "reflections": reflection(),
    "partner": {"question": "Which sentence is unclear?"},
}


class TestAccessMatrix:
    @pytest.mark.parametrize("route", list(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
    async def test_each_caller_gets_what_the_rules_say(
        self,
        klass: Klass,
        client_for: ClientFor,
        session: AsyncSession,
        doc: Document,
        other_tenant: Tenant,
        route: tuple[str, str],
    ) -> None:
        from scribetree.tenancy.models import Role

        await set_ai(session, klass.assignment, reflection_required=False)
        admin, _ = await create_member(session, klass.tenant, Role.institution_admin)
        outsider, _ = await create_member(session, klass.tenant, Role.educator)  # same institution, not in the course
        foreign, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        people = {
            "student": (klass.student, klass.tenant),
            "classmate": (klass.classmate, klass.tenant),
            "ta": (klass.ta, klass.tenant),
            "instructor": (klass.instructor, klass.tenant),
            "admin": (admin, klass.tenant),
            "outsider": (outsider, klass.tenant),
            "foreign": (foreign, other_tenant),
        }
        method, template = route
        url = template.format(a=klass.assignment.id, d=doc.id)
        body = next((b for k, b in BODIES.items() if url.endswith(k)), None)
        failures = []
        for name, expected in zip(CALLERS, MATRIX[route], strict=True):
            c = await client_for(*people[name])
            r = await c.request(method, url, json=body)
            if r.status_code != expected:
                failures.append(f"{name}: expected {expected}, got {r.status_code} {r.text[:160]}")
        assert not failures, "\n".join(failures)


class TestConcurrentBudget:
    async def test_requests_sent_at_once_cannot_overrun_the_budget(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, doc: Document
    ) -> None:
        import asyncio

        await set_ai(session, klass.assignment, reflection_required=False, budget_per_hour=2, budget_per_day=2)
        c = await client_for(klass.student, klass.tenant)
        url = f"/api/v1/documents/{doc.id}/partner"
        answers = await asyncio.gather(*(c.post(url, json={"question": f"Is part {i} clear?"}) for i in range(6)))
        codes = sorted(r.status_code for r in answers)
        assert codes == [200, 200, 429, 429, 429, 429], [r.text[:120] for r in answers]
        assert await count(session, AiExchange) == 2


class TestQueryCounts:
    async def _activity(self, session: AsyncSession, klass: Klass, students: int) -> None:
        from scribetree.courses.models import CourseRole
        from tests.factories.courses import create_course_member

        for i in range(students):
            who = await create_course_member(session, klass.course, klass.tenant, CourseRole.student)
            d = await create_document(session, klass.assignment, owner=who, text=f"Draft number {i} about sleep.")
            session.add_all(
                [
                    AiReflection(
                        tenant_id=klass.tenant.id,
                        document_id=d.id,
                        user_id=who.id,
                        kind="initial",
                        text=f"Reflection {i}",
                        word_count=2,
                        scores={},
                        flags=[],
                        total=10,
                        gamed=False,
                        accepted=True,
                        typed_ratio=1.0,
                        pasted_chars=0,
                        seconds_spent=60,
                        level_before="basic",
                        level_after="standard",
                    ),
                    AiLevelChange(
                        tenant_id=klass.tenant.id,
                        document_id=d.id,
                        user_id=who.id,
                        from_level="basic",
                        to_level="standard",
                        reason="Up.",
                    ),
                    AiExchange(
                        tenant_id=klass.tenant.id,
                        document_id=d.id,
                        assignment_id=klass.assignment.id,
                        user_id=who.id,
                        question="Is it clear?",
                        answer={"questions": ["What is your claim?"], "refusal": None, "bank_version": "t"},
                        provider="builtin",
                        verdicts=[{"ok": True, "reasons": []}],
                        level="standard",
                    ),
                ]
            )
        await session.commit()

    async def _selects(self, session: AsyncSession, call: Any) -> int:
        from sqlalchemy import event

        found: list[str] = []

        def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                found.append(statement)

        engine = session.bind.sync_engine  # type: ignore[union-attr]
        event.listen(engine, "before_cursor_execute", note)
        try:
            await call()
        finally:
            event.remove(engine, "before_cursor_execute", note)
        await session.commit()
        return len(found)

    async def test_the_summary_costs_the_same_for_2_and_6_students(
        self, klass: Klass, ctx_for: CtxFor, session: AsyncSession
    ) -> None:
        ctx = await ctx_for(klass.instructor, klass.tenant)
        await self._activity(session, klass, 2)
        small = await self._selects(session, lambda: partner.summary(session, session, ctx, klass.assignment.id))
        await self._activity(session, klass, 4)
        result = await partner.summary(session, session, ctx, klass.assignment.id)
        await session.commit()
        assert len(result.students) == 6
        large = await self._selects(session, lambda: partner.summary(session, session, ctx, klass.assignment.id))
        assert small == large, (small, large)
