"""The alert centre and the alert settings in Chromium on a 390 px phone: an educator opens an alert's evidence
with the keyboard, follows a suggested action's link, resolves another alert, and changes a threshold. No page
scrolls sideways, no console errors. Screenshots go to /tmp (``SCRIBETREE_SCREENSHOTS``)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.models import AlertCourseSettings
from scribetree.courses.models import CourseRole
from scribetree.tenancy.models import Role
from tests.browser.conftest import SCREENSHOTS, browser, server
from tests.factories.alerts import create_alert
from tests.factories.courses import create_course, enroll
from tests.factories.tenancy import PASSWORD, create_member, create_tenant

__all__ = ["browser", "server"]
pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}


async def _fits(page: Page, name: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    await page.screenshot(path=str(SCREENSHOTS / f"scribetree-alerts-{name}.png"), full_page=True)


async def test_alert_centre_and_settings_on_a_phone(browser: Browser, server: str, session: AsyncSession) -> None:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    educator, _ = await create_member(session, tenant, Role.educator, display_name="Grace Hopper")
    student, _ = await create_member(session, tenant, Role.student, display_name="Alan Turing")
    course = await create_course(session, tenant, title="Composition 101")
    await enroll(session, course, educator, CourseRole.instructor)
    await enroll(session, course, student, CourseRole.student)
    stuck = await create_alert(
        session,
        course,
        student,
        title="Stuck: 25 active minutes, 0 words gained, more deleted than typed",
        evidence={"figures": {"active_minutes": 25, "chars_deleted": 900}, "links": [], "rule_label": "Stuck"},
    )
    paste = await create_alert(session, course, student, rule="large_paste", title="Large paste from outside: 80 words")
    await session.commit()

    problems: list[str] = []
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(educator.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")

    await page.goto(f"{server}/courses/{course.id}/alerts")
    await page.get_by_role("heading", name="Alerts", exact=True).wait_for()
    card = page.locator(f"#alert-{stuck.id}")
    summary = card.locator("summary")
    await summary.focus()
    await page.keyboard.press("Enter")
    await card.get_by_text("Chars deleted").wait_for()
    assert await card.locator("dd", has_text="900").count() == 1
    await _fits(page, "centre")
    link = card.get_by_role("link", name="Message the student")
    assert await link.get_attribute("href") == f"/alerts/{stuck.id}/intervene?action=message"

    await page.locator(f"#alert-{paste.id}").get_by_role("button", name="Resolve").click()
    await page.get_by_text("Alert resolved: Large paste").wait_for()  # the flash after the redirect
    assert await page.locator(f"#alert-{paste.id}").count() == 0
    await session.commit()
    await session.refresh(paste)
    assert paste.status == "resolved" and paste.resolved_by == educator.id

    await page.goto(f"{server}/courses/{course.id}/alerts/settings")
    await _fits(page, "settings")
    await page.get_by_label("Stuck: at least this much active writing time (minutes)").fill("30")
    await page.get_by_role("button", name="Save the rules").click()
    await page.get_by_text("Alert settings saved").wait_for()
    await session.commit()
    stored = (await session.execute(select(AlertCourseSettings))).scalar_one()
    assert stored.thresholds == {"stuck_active_minutes": 30}
    assert problems == []
    await context.close()
