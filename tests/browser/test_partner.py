"""The writing partner in Chromium against a real server and the built-in engine (no network): a student types a
draft, writes a reflection with real key presses, sees the scores per dimension, asks a question, sees the
partner's questions (as text, nothing to insert), writes the follow-up; the panel fits a 375 px phone. The
educator opens the class view and the student's history and sees the exchange.

What was stored is read from the database, not the page."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner import levels
from scribetree.ai_partner.engine.types import HelpKind, Level
from scribetree.ai_partner.models import AiExchange, AiReflection
from scribetree.courses.models import CourseRole
from scribetree.web.partner.routes import KIND_LABELS
from tests.browser.conftest import SCREENSHOTS
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.tenancy import PASSWORD, create_tenant

pytestmark = pytest.mark.browser
DRAFT = "Teenagers need more sleep. Schools should start later because body clocks shift. "
REFLECTION = "Because my claim about sleep lacks evidence, I will find a study."
FOLLOW_UP = "I will add a study to paragraph two."
QUESTION = "How can I make my second sentence more convincing?"


async def _setup(session: AsyncSession) -> tuple[str, str, uuid.UUID]:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    course = await create_course(session, tenant, title="Composition 101")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Ms Teach")
    student = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alan Turing")
    a = await create_assignment(session, course, title="On sleep", ai_settings={"reflection_min_words": 10})
    await session.commit()
    return student.email, teacher.email, a.id


async def _sign_in(context: BrowserContext, server: str, email: str, problems: list[str]) -> Page:
    page = await context.new_page()

    def console(m: ConsoleMessage) -> None:
        if m.type == "error":
            problems.append(m.text)

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")
    return page


async def test_reflect_ask_follow_up_and_the_educator_sees_it(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    student_email, teacher_email, aid = await _setup(session)
    problems: list[str] = []
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = await _sign_in(context, server, student_email, problems)
    await page.goto(f"{server}/assignments/{aid}/write")
    status = page.locator("#save-status")
    await expect(status).to_have_text("Saved")
    editor = page.get_by_label("Your writing")
    await editor.click()
    await page.keyboard.type(DRAFT)

    panel = page.locator("#partner-panel")
    await expect(panel.locator("#partner-status")).to_contain_text("available now")
    await expect(panel.get_by_role("heading", name="Reflect first")).to_be_visible()
    await expect(panel.get_by_role("button", name="Ask a question")).to_be_hidden()
    box = panel.get_by_label("Your reflection")
    # too short: told so, nothing sent
    await box.click()
    await page.keyboard.type("Too short.")
    await expect(panel.locator("#reflection-count")).to_have_text("2 of 10 words")
    await panel.get_by_role("button", name="Send the reflection").click()
    await expect(panel.locator("#partner-status")).to_contain_text("it needs at least 10")
    await box.fill("")
    # real key presses at a human pace (the server flags text "typed" faster than anyone composes)
    await box.click()
    await page.keyboard.type(REFLECTION, delay=90)
    await expect(panel.locator("#reflection-count")).to_have_text("12 of 10 words")
    await panel.get_by_role("button", name="Send the reflection").click()
    scores = panel.locator("#partner-scores")
    await expect(scores).to_be_visible()
    await expect(scores.locator("[data-dimensions] li")).to_have_count(5)
    await expect(scores).to_contain_text("Depth of reasoning")
    await expect(scores).to_contain_text("To improve:")
    await expect(panel.locator("#partner-status")).to_contain_text("Reflection accepted")
    await expect(panel.locator("#partner-reflect")).to_be_hidden()
    reflection = (await session.execute(select(AiReflection))).scalar_one()
    await session.commit()
    assert reflection.text == REFLECTION and reflection.accepted and not reflection.gamed
    assert reflection.pasted_chars == 0 and reflection.seconds_spent >= 5, reflection.seconds_spent
    await expect(scores.locator("[data-total]")).to_have_text(str(reflection.total))

    # ask: the partner answers with questions, shown as text, with nothing that could insert them
    await expect(status).to_have_text("Saved", timeout=8000)
    draft_before = await editor.input_value()
    await panel.get_by_label("Your question about your draft").click()
    await page.keyboard.type(QUESTION)
    await panel.get_by_role("button", name="Ask a question").click()
    answer = panel.locator("#partner-answer")
    await expect(answer).to_be_visible()
    items = answer.locator("[data-questions] li")
    n = await items.count()
    assert 1 <= n <= 3
    shown = [t.strip() for t in await items.all_inner_texts()]
    assert all(q.endswith("?") for q in shown), shown
    assert await answer.locator("button, a, [contenteditable], input, textarea").count() == 0
    assert await editor.input_value() == draft_before
    exchange = (await session.execute(select(AiExchange))).scalar_one()
    await session.commit()
    assert exchange.question == QUESTION and exchange.answer["questions"] == shown
    assert exchange.provider == "builtin" and not exchange.fell_back
    await page.screenshot(path=str(SCREENSHOTS / "scribetree-partner-editor.png"), full_page=True)

    # the follow-up: "What will you change?", then the partner is open again
    await expect(panel.get_by_role("heading", name="What will you change?")).to_be_visible()
    await expect(panel.get_by_role("button", name="Ask a question")).to_be_hidden()
    await box.click()
    pasted = "paragraph two."
    await page.keyboard.type(FOLLOW_UP.removesuffix(pasted))
    await page.evaluate("text => navigator.clipboard.writeText(text)", pasted)
    await page.keyboard.press("Control+V")  # a real paste: reported as pasted, not typed
    await expect(box).to_have_value(FOLLOW_UP)
    await expect(panel.locator("#reflection-count")).to_have_text("8 of 5 words")
    await panel.get_by_role("button", name="Send the reflection").click()
    await expect(panel.locator("#partner-status")).to_contain_text("Reflection accepted")
    await expect(panel.get_by_role("button", name="Ask a question")).to_be_visible()
    rows = (await session.execute(select(AiReflection).order_by(AiReflection.created_at))).scalars().all()
    await session.commit()
    assert [str(getattr(r.kind, "value", r.kind)) for r in rows] == ["initial", "follow_up"]
    assert all(r.accepted for r in rows)
    assert rows[-1].pasted_chars == len(pasted) and rows[-1].text == FOLLOW_UP
    # the level and what it allows follow the server's level after the follow-up
    level = Level(rows[-1].level_after)
    await expect(panel.locator("[data-level]")).to_have_text(level.value.capitalize())
    allowed = ", ".join(KIND_LABELS[k.value] for k in sorted(levels.allowed_kinds(level, frozenset(HelpKind))))
    await expect(panel.locator("[data-level-allows]")).to_contain_text(f"Allows: {allowed}. Requests: 1 of ")

    # a phone: the panel fits without sideways scrolling
    await page.set_viewport_size({"width": 375, "height": 740})
    await panel.scroll_into_view_if_needed()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await panel.screenshot(path=str(SCREENSHOTS / "scribetree-partner-panel-phone.png"))
    # the student's own history: the reflections and the exchange, in order
    await panel.get_by_role("link", name="Partner log").click()
    await expect(page.locator('[data-entry="exchange"]')).to_contain_text(QUESTION)
    await expect(page.locator('[data-entry="reflection"]')).to_have_count(2)
    await expect(page.locator('[data-entry="reflection"]').last).to_contain_text(FOLLOW_UP)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await context.close()

    # the educator: class view, then the student's history with the exchange
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await _sign_in(context, server, teacher_email, problems)
    await page.goto(f"{server}/assignments/{aid}/partner")
    card = page.locator(".partner-student", has_text="Alan Turing")
    await expect(card).to_contain_text("Requests")
    await expect(card.locator("dd").first).to_have_text("1")
    await card.get_by_role("link", name="History").click()
    await expect(page.get_by_role("heading", name="Writing partner history")).to_be_visible()
    await expect(page.locator('[data-entry="exchange"]')).to_contain_text(QUESTION)
    await expect(page.locator('[data-entry="exchange"] .partner-questions li')).to_have_count(n)
    await expect(page.locator('[data-entry="reflection"]').first).to_contain_text(REFLECTION)
    # the educator's pages on a phone: no sideways scrolling
    await page.set_viewport_size({"width": 375, "height": 740})
    for url in (page.url, f"{server}/assignments/{aid}/partner", f"{server}/assignments/{aid}/partner/settings"):
        await page.goto(url)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
    await page.screenshot(path=str(SCREENSHOTS / "scribetree-partner-settings-phone.png"), full_page=True)
    await context.close()
    assert not problems, problems
