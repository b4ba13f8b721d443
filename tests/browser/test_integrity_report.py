"""The process report in Chromium on a 390 px phone: the student reads their flags (no sideways scroll), follows a
flag's evidence link to the highlighted paste, and answers the flag with the keyboard; the answer is stored."""

from __future__ import annotations

import random

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.models import Assignment
from scribetree.identity.models import User
from scribetree.integrity import simulate
from scribetree.integrity.models import IntegrityResponse
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_editor import _setup, _sign_in, _watch
from tests.factories.writing import create_document, create_submission, write

pytestmark = pytest.mark.browser


async def test_student_answers_a_flag_on_a_phone(browser: Browser, server: str, session: AsyncSession) -> None:
    email, aid = await _setup(session)
    student = (await session.execute(select(User).where(User.email == email))).scalar_one()
    assignment = await session.get(Assignment, aid)
    assert assignment is not None
    doc = await create_document(session, assignment, owner=student)
    history = simulate.copy_paste(random.Random(7), 260)
    for i in range(0, len(history), 400):
        await write(session, doc, student, history[i : i + 400])
    sub = await create_submission(session, doc, student)
    sid = sub.id
    await session.commit()

    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    problems: list[str] = []
    page = await _sign_in(context, server, email)
    _watch(page, problems)
    await page.goto(f"{server}/submissions/{sid}/integrity")
    await expect(page.get_by_role("heading", name="Much of the final text was pasted from outside")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # a flag's evidence link lands on the highlighted paste in the document
    await page.locator("#flag-external_paste_share a[href^='#paste-']").first.click()
    target = page.locator("mark.origin--pasted_external").first
    await expect(target).to_be_in_viewport()
    # answer with the keyboard: choose the flag, write, submit
    await page.get_by_label("About").select_option("external_paste_share")
    await page.get_by_label("Your response").focus()
    await page.keyboard.type("These are my notes from class, typed in another app.")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#responses")).to_contain_text("These are my notes from class")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=str(SCREENSHOTS / "scribetree-integrity-report-phone.png"), full_page=True)
    stored = (await session.execute(select(IntegrityResponse))).scalars().all()
    assert [(r.flag_code, r.text) for r in stored] == [
        ("external_paste_share", "These are my notes from class, typed in another app.")
    ]
    await session.commit()
    assert problems == []
    await context.close()
