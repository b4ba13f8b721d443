"""Interventions in Chromium on a 390 px phone: an educator extends a student's deadline from an alert with the
keyboard, sees it on the course's interventions page and records the outcome; the student's editor shows the new
date. No page scrolls sideways, no console errors. Screenshots go to /tmp (``SCRIBETREE_SCREENSHOTS``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.courses.models import CourseRole
from scribetree.tenancy.models import Role
from tests.browser.conftest import SCREENSHOTS, browser, server
from tests.browser.test_courses_phone import _sign_in
from tests.factories.alerts import create_alert
from tests.factories.courses import create_assignment, create_course, enroll
from tests.factories.tenancy import create_member, create_tenant

__all__ = ["browser", "server"]
pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}


async def _fits(page: Page, name: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    await page.screenshot(path=str(SCREENSHOTS / f"scribetree-interventions-{name}.png"), full_page=True)


async def test_extend_a_deadline_from_an_alert_on_a_phone(browser: Browser, server: str, session: AsyncSession) -> None:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    educator, _ = await create_member(session, tenant, Role.educator, display_name="Grace Hopper")
    student, _ = await create_member(session, tenant, Role.student, display_name="Alan Turing")
    course = await create_course(session, tenant, title="Composition 101")
    await enroll(session, course, educator, CourseRole.instructor)
    await enroll(session, course, student, CourseRole.student)
    due = clock.utcnow() + timedelta(days=1)
    assignment = await create_assignment(session, course, title="Letter to a reader", due_at=due)
    alert = await create_alert(session, course, student, assignment_id=assignment.id, title="No writing for 3 days")
    await session.commit()

    problems: list[str] = []
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await _sign_in(page, server, educator.email)

    await page.goto(f"{server}/alerts/{alert.id}/intervene?action=extend_deadline")
    await _fits(page, "intervene")
    new_due = (due + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    await page.get_by_label("New due date (UTC)").fill(new_due)
    await page.get_by_label("Private note").fill("Family emergency")
    await page.get_by_label("Private note").press("Tab")
    await page.keyboard.press("Enter")  # the focused submit button
    await page.wait_for_url(f"**/courses/{course.id}/interventions")
    await _fits(page, "course")
    item = page.locator("[id^=intervention-]")
    assert "Alan Turing" in (await item.text_content() or "")
    assert "too early to tell" in (await item.text_content() or "")
    await page.get_by_label("How it went").select_option("helped")
    await page.get_by_role("button", name="Save the outcome for Alan Turing").click()
    await page.wait_for_url("**/interventions*")
    assert await page.get_by_label("How it went").input_value() == "helped"

    student_context = await browser.new_context(**PHONE)
    student_page = await student_context.new_page()
    await _sign_in(student_page, server, student.email)
    await student_page.goto(f"{server}/assignments/{assignment.id}/write")
    assert await student_page.locator("[data-extended]").is_visible()
    await _fits(student_page, "editor")
    assert not problems, problems
    await context.close()
    await student_context.close()
