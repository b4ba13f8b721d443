"""Course pages in Chromium on a 375 px phone: an educator creates a course and an assignment with a rubric
(keyboard only), a student joins by code and reads it. No page scrolls sideways, no console or CSP errors.
Screenshots go to /tmp (``SCRIBETREE_SCREENSHOTS`` to change)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.tenancy.models import Role
from tests.browser.conftest import SCREENSHOTS
from tests.factories.tenancy import PASSWORD, create_member, create_tenant

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "has_touch": True}


async def _fits(page: Page, name: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    await page.screenshot(path=str(SCREENSHOTS / f"scribetree-courses-{name}.png"), full_page=True)


async def _sign_in(page: Page, server: str, email: str) -> None:
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")


async def test_educator_and_student_on_a_phone(browser: Browser, server: str, session: AsyncSession) -> None:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    educator, _ = await create_member(session, tenant, Role.educator, display_name="Grace Hopper")
    student, _ = await create_member(session, tenant, Role.student, display_name="Alan Turing")
    await session.commit()

    problems: list[str] = []
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await _sign_in(page, server, educator.email)

    await page.goto(f"{server}/courses")
    await _fits(page, "list-empty")
    await page.get_by_role("link", name="New course").click()
    await page.get_by_label("Title").fill("Composition 101")
    await page.get_by_label("Term").fill("Fall 2026")
    await page.get_by_label("Title").press("Enter")  # the keyboard submits the form
    await page.wait_for_url("**/courses/*")
    await _fits(page, "course-home")
    code = (await page.locator("#join-code-value").text_content() or "").strip()
    assert len(code) == 8

    await page.get_by_role("link", name="New assignment").click()
    await page.get_by_label("Title").fill("Letter to a reader")
    await page.get_by_label("Instructions").fill("Write a **letter**.")
    await page.get_by_role("button", name="Add a criterion").click()
    await page.get_by_label("Criterion 1 name").fill("Voice")
    await page.get_by_label("Criterion 1, level 1 name").fill("Flat")
    await page.get_by_label("Criterion 1, level 1 points").fill("1")
    await page.get_by_label("Criterion 1, level 2 name").fill("Vivid")
    await page.get_by_label("Criterion 1, level 2 points").fill("4")
    await _fits(page, "assignment-form")
    await page.get_by_role("button", name="Save assignment").click()
    await page.wait_for_url("**/assignments/*")
    await _fits(page, "assignment")
    assert "4 points" in await page.content()
    await page.get_by_role("button", name="Publish").click()
    await page.get_by_text("is published").wait_for()
    await context.close()

    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await _sign_in(page, server, student.email)
    await page.goto(f"{server}/courses")
    await page.get_by_label("Join code").fill(code.lower())
    await page.get_by_role("button", name="Join course").click()
    await page.get_by_text("You are in “Composition 101”.").wait_for()
    await _fits(page, "student-course")
    await page.get_by_role("link", name="Letter to a reader").click()
    await page.get_by_role("heading", name="Rubric").wait_for()
    await _fits(page, "student-assignment")
    await context.close()
    assert not problems, problems
