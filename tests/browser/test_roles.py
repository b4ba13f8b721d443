"""Each role in a real browser: sign in through the form, see what the role may see, sign out.

Also: no horizontal scrolling on a 375 px phone, Tab order of the sign-in form, htmx role changes with the CSRF
header, and no Content-Security-Policy violations (inline styles or scripts) on any page visited.
Screenshots go to /tmp (``SCRIBETREE_SCREENSHOTS`` to change).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.identity.models import PlatformRole
from scribetree.tenancy.models import Role
from tests.browser.conftest import SCREENSHOTS
from tests.factories.tenancy import PASSWORD, create_member, create_platform_user, create_tenant

pytestmark = pytest.mark.browser

NAV_ITEMS = [
    "Home", "Courses", "Members", "Audit log", "Branding", "AI provider", "Account", "Institutions", "Support access",
]


@dataclass
class Person:
    email: str
    name: str


@dataclass
class Cast:
    admin: Person
    educator: Person
    student: Person
    operator: Person


@pytest.fixture
async def cast(session: AsyncSession) -> Cast:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University",
                                 display_name="Northfield University", primary_color="#1f5f8b",
                                 accent_color="#c2410c")
    made = {}
    for key, role, name in [("admin", Role.institution_admin, "Ada Lovelace"),
                            ("educator", Role.educator, "Grace Hopper"), ("student", Role.student, "Alan Turing")]:
        user, _ = await create_member(session, tenant, role, display_name=name)
        made[key] = Person(user.email, name)
    for name, role in [("Katherine Johnson", Role.student), ("Edsger Dijkstra", Role.teaching_assistant),
                       ("Barbara Liskov", Role.educator), ("Donald Knuth", Role.student)]:
        await create_member(session, tenant, role, display_name=name)
    op = await create_platform_user(session, PlatformRole.operator, display_name="Olive Operator")
    await session.commit()
    return Cast(operator=Person(op.email, "Olive Operator"), **made)


async def _context(browser: Browser, **kw: object) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(**kw)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


async def _sign_in(page: Page, url: str, person: Person) -> None:
    await page.goto(url)
    await page.get_by_label("Email address").fill(person.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def _nav(page: Page) -> list[str]:
    nav = page.get_by_role("navigation", name="Main")
    return [t.strip() for t in await nav.get_by_role("link").all_inner_texts()]


async def _sign_out(page: Page, expected_url: str) -> None:
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(expected_url)
    await expect(page.get_by_role("status")).to_contain_text("You have signed out.")


class TestRoles:
    async def test_each_role_sees_its_own_pages(self, browser: Browser, server: str, cast: Cast) -> None:
        signin = f"{server}/t/northfield/signin"

        # institution admin: the full admin navigation and the members table
        context, page, problems = await _context(browser, viewport={"width": 1280, "height": 900})
        await _sign_in(page, signin, cast.admin)
        await expect(page).to_have_url(f"{server}/home")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Northfield University")
        assert await _nav(page) == ["Home", "Courses", "Members", "Audit log", "Branding", "AI provider", "Account"]
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
        await expect(page).to_have_url(f"{server}/admin/members")
        table = page.get_by_role("table")
        await expect(table).to_contain_text("Alan Turing")
        await expect(table).to_contain_text("Grace Hopper")
        await page.screenshot(path=str(SCREENSHOTS / "scribetree-admin-members.png"), full_page=True)

        # inline role change through htmx (CSRF header from the meta tag), no page load
        row = page.get_by_role("row").filter(has_text="Donald Knuth")
        await row.get_by_label("Role of Donald Knuth").select_option("teaching_assistant")
        await row.get_by_role("button", name="Change role of Donald Knuth").click()
        await expect(page.locator("#live-region")).to_contain_text("Donald Knuth is now teaching assistant.")
        await expect(page).to_have_url(f"{server}/admin/members")
        await expect(page.get_by_label("Role of Donald Knuth")).to_be_focused()
        await _sign_out(page, signin)
        assert not problems, problems
        await context.close()

        # educator and student: their home, no admin navigation, and the admin page refused
        for person, heading_text in [(cast.educator, "Your courses"), (cast.student, "Your assignments")]:
            context, page, problems = await _context(browser)
            await _sign_in(page, signin, person)
            await expect(page).to_have_url(f"{server}/home")
            await expect(page.get_by_role("heading", name=heading_text)).to_be_visible()
            await expect(page.get_by_role("banner")).to_contain_text(person.name)
            assert await _nav(page) == ["Home", "Courses", "Account"]
            response = await page.goto(f"{server}/admin/members")
            assert response is not None and response.status == 403
            await expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this page")
            await expect(page.get_by_role("table")).to_have_count(0)
            await page.get_by_role("link", name="Go to your home page").click()
            await _sign_out(page, signin)
            assert not [p for p in problems if "403" not in p], problems
            await context.close()

        # operator: the platform sign-in and the institutions table
        context, page, problems = await _context(browser)
        await _sign_in(page, f"{server}/ops/signin", cast.operator)
        await expect(page).to_have_url(f"{server}/ops")
        assert await _nav(page) == ["Institutions", "Account"]
        await expect(page.get_by_role("table")).to_contain_text("Northfield University")
        response = await page.goto(f"{server}/admin/members")
        assert response is not None and response.status == 403
        await page.goto(f"{server}/ops")
        await _sign_out(page, f"{server}/ops/signin")
        assert not [p for p in problems if "403" not in p], problems
        await context.close()

    async def test_wrong_password_is_announced(self, browser: Browser, server: str, cast: Cast) -> None:
        context, page, _ = await _context(browser)
        await page.goto(f"{server}/t/northfield/signin")
        await page.get_by_label("Email address").fill(cast.student.email)
        await page.get_by_label("Password", exact=True).fill("not my password")
        await page.get_by_role("button", name="Sign in").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("That email and password do not match")
        await expect(summary).to_be_focused()
        await context.close()


class TestPhoneAndKeyboard:
    async def test_sign_in_page_fits_a_phone_and_tabs_in_order(self, browser: Browser, server: str,
                                                               cast: Cast) -> None:
        # not is_mobile: mobile emulation zooms out to fit wide pages, which would hide an overflow
        context, page, problems = await _context(browser, viewport={"width": 375, "height": 740},
                                                 device_scale_factor=2, has_touch=True)
        await page.goto(f"{server}/t/northfield/signin")
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await page.screenshot(path=str(SCREENSHOTS / "scribetree-signin-phone.png"), full_page=True)

        order = []
        for _ in range(12):
            await page.keyboard.press("Tab")
            order.append(await page.evaluate(
                "(() => { const e = document.activeElement; return e.id || e.getAttribute('type') || e.tagName; })()"))
            if order[-1] == "submit":
                break
        assert "f-email" in order and "f-password" in order and "submit" in order, order
        assert order.index("f-email") < order.index("f-password") < order.index("submit"), order
        assert order[0] != "f-email"  # the skip link comes first
        assert not problems, problems

        # wide tables scroll inside their wrapper; the pages themselves do not
        await _sign_in(page, f"{server}/t/northfield/signin", cast.admin)
        for path in ("/home", "/admin/members", "/admin/audit", "/admin/branding", "/admin/ai-provider", "/account"):
            await page.goto(f"{server}{path}")
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        await context.close()

    async def test_desktop_sign_in_screenshot(self, browser: Browser, server: str, cast: Cast) -> None:
        context, page, problems = await _context(browser, viewport={"width": 1280, "height": 800})
        await page.goto(f"{server}/t/northfield/signin")
        await page.screenshot(path=str(SCREENSHOTS / "scribetree-signin.png"), full_page=True)
        assert not problems, problems
        await context.close()
