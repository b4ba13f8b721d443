"""Replay in Chromium on a 390 px phone: the student's document is played back at 64x to its last revision and the
text shown equals the document, code point for code point (emoji, a ZWJ sequence, combining marks, RTL, CJK,
CR LF); the player's own SHA-256 check of every step reports no difference; the pasted passage is highlighted as
it appears; the keyboard moves the scrubber to the middle and the page shows that revision's text. An educator
of the course sees the same page. No sideways scroll, no console errors."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.models import CourseRole
from scribetree.writing import ops
from tests.browser.conftest import SCREENSHOTS
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.tenancy import PASSWORD, create_tenant
from tests.factories.writing import create_document, ins, write

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 800}, "device_scale_factor": 2, "has_touch": True}
PASTE = "Pasted <b>source</b> 東京 😀"
STEPS = [
    [ins(0, "Dear 🌳 reader,")],
    [ins(5, "👩\u200d💻 ")],
    [ins(0, "e\u0301 ")],
    [{"kind": "paste", "t": 1_764_000_000_000, "pos": 2, "text": PASTE, "seen_in_doc": False}],
    [ins(0, "שלום \r\n")],
    [{"kind": "delete", "t": 1_764_000_000_000, "pos": 1, "len": 2}, ins(1, "漢字")],
    [ins(3, "ñ 🇫🇷")],
    [{"kind": "cut", "t": 1_764_000_000_000, "pos": 9, "len": 3}],
]


async def _sign_in(page: Page, server: str, email: str) -> None:
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")


async def _shown(page: Page) -> str:
    return await page.locator("#replay-text").evaluate("el => el.textContent")


async def test_replay_plays_to_the_end_and_scrubs(browser: Browser, server: str, session: AsyncSession) -> None:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    course = await create_course(session, tenant, title="Composition 101")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Grace Hopper")
    student = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alan Turing")
    assignment = await create_assignment(session, course, title="Letter to a reader")
    doc = await create_document(session, assignment, owner=student)
    texts = [""]
    for step in STEPS:
        await write(session, doc, student, step)
        texts.append(ops.apply(texts[-1], ops.parse_ops(step)))
    doc_id, final = doc.id, doc.text
    await session.commit()
    assert texts[-1] == final

    problems: list[str] = []
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await _sign_in(page, server, student.email)
    await page.goto(f"{server}/documents/{doc_id}/replay")
    await page.locator("#replay-text[data-ready]").wait_for()
    assert await _shown(page) == ""
    assert "Paste" in (await page.locator("#replay-markers").text_content() or "")

    await page.get_by_label("Speed").select_option("64")
    await page.get_by_role("button", name="Play").click()
    await page.locator(f'#replay-text[data-revision="{len(STEPS)}"]').wait_for()
    await page.get_by_text("This is the end of the writing.").wait_for()
    assert await _shown(page) == final  # code point for code point
    assert await page.locator("#replay-status").get_attribute("data-state") != "error"
    marks = await page.locator("#replay-text mark.replay-paste").all_text_contents()
    assert marks and all(m in PASTE for m in marks)  # the paste, minus what later edits removed
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=str(SCREENSHOTS / "scribetree-replay-end.png"), full_page=True)

    middle = len(STEPS) // 2
    scrubber = page.get_by_label("Moment in the writing (revision)")
    await scrubber.focus()
    await page.keyboard.press("Home")
    for _ in range(middle):
        await page.keyboard.press("ArrowRight")
    await page.locator(f'#replay-text[data-revision="{middle}"]').wait_for()
    await page.get_by_text(f"At revision {middle}.").wait_for()
    assert await _shown(page) == texts[middle]
    assert await scrubber.get_attribute("aria-valuetext") and "Revision 4 of 8" in (
        await scrubber.get_attribute("aria-valuetext") or ""
    )
    await context.close()

    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    await _sign_in(page, server, teacher.email)
    await page.goto(f"{server}/documents/{doc_id}/replay")
    await page.locator("#replay-text[data-ready]").wait_for()
    await page.get_by_role("button", name=f"Paste: {len(PASTE)} characters", exact=False).click()
    await page.locator('#replay-text[data-revision="4"]').wait_for()
    assert await _shown(page) == texts[4]
    await context.close()
    assert problems == []
