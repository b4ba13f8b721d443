"""Insight in Chromium: the educator opens Insight from the course page (desktop, then a 390 px phone), reads the
class table and charts, opens the figures behind a chart with the keyboard and follows a student's link to their
profile; the student opens "My progress" on a phone. No page scrolls sideways, no console or CSP errors.
Screenshots go to /tmp (``SCRIBETREE_SCREENSHOTS`` to change)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics.service import analytics as analytics_service
from scribetree.core import clock
from scribetree.courses.models import CourseRole
from tests.browser.conftest import SCREENSHOTS
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.tenancy import PASSWORD, create_tenant
from tests.factories.writing import create_document, ins, write

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}


async def _fits(page: Page, name: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    await page.screenshot(path=str(SCREENSHOTS / f"scribetree-insight-{name}.png"), full_page=True)


async def _sign_in(page: Page, server: str, email: str) -> None:
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")


async def test_educator_dashboard_and_student_progress(browser: Browser, server: str, session: AsyncSession) -> None:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    course = await create_course(session, tenant, title="Composition 101")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Grace Hopper")
    with clock.travel(timedelta(days=-15)):
        essay = await create_assignment(
            session, course, title="Letter to a reader", word_min=300, due_at=clock.utcnow() + timedelta(days=20)
        )
    writers = {}
    for name, days in (("Alan Turing", range(0, 12, 2)), ("Ada Lovelace", (9, 8))):
        student = await create_course_member(session, course, tenant, CourseRole.student, display_name=name)
        doc = await create_document(session, essay, owner=student)
        for ago in sorted(days, reverse=True):
            with clock.travel(timedelta(days=-ago)):
                words = " ".join(f"word{ago}n{i}" for i in range(40)) + ". "
                await write(session, doc, student, [ins(len(doc.text), words)])
                doc.last_activity_at = clock.utcnow()
        writers[name] = student
    await analytics_service.refresh_tenant(session, tenant.id)  # what the catch-up job does every 30 s
    await session.commit()

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await _sign_in(page, server, teacher.email)
    await page.goto(f"{server}/courses/{course.id}")
    await page.get_by_role("link", name="Insight", exact=True).click()
    await page.wait_for_url(f"**/courses/{course.id}/insight")
    table = page.get_by_role("table", name="Students, sorted by name")
    await table.wait_for()
    alan = table.get_by_role("row").filter(has_text="Alan Turing")
    assert "Progressing" in await alan.inner_text() and "steady" in await alan.inner_text()
    assert "Stalled" in await table.get_by_role("row").filter(has_text="Ada Lovelace").inner_text()
    charts = page.locator("svg[role=img]")
    assert await charts.count() >= 3
    # the figures behind the first chart, with the keyboard only
    summary = page.get_by_text("Show the figures as a table").first
    await summary.focus()
    await page.keyboard.press("Enter")
    assert await page.get_by_role("table", name="Class progress: words written so far").is_visible()
    await _fits(page, "dashboard-desktop")
    await page.set_viewport_size({"width": 390, "height": 844})
    await _fits(page, "dashboard-phone")

    await alan.get_by_role("link", name="Alan Turing").click()
    await page.wait_for_url(f"**/students/{writers['Alan Turing'].id}/insight")
    assert await page.get_by_role("heading", name="Alan Turing", level=1).is_visible()
    assert "240" in await page.locator('[data-figure="words-added"]').inner_text()
    # a day of the timeline links to its row
    await page.locator("svg.chart__svg--timeline a").first.click()
    assert "#day-" in page.url
    await _fits(page, "student-phone")
    await context.close()

    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await _sign_in(page, server, writers["Ada Lovelace"].email)
    await page.goto(f"{server}/courses/{course.id}")
    await page.get_by_role("link", name="My progress").click()
    await page.wait_for_url(f"**/courses/{course.id}/my-progress")
    body = await page.locator("main").inner_text()
    assert "Time to pick it back up" in body and "Stalled" not in body
    assert "80" in await page.locator('[data-figure="words-added"]').inner_text()
    await _fits(page, "my-progress-phone")
    await context.close()
    assert not problems, problems
