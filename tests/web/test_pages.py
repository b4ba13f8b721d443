"""The pages end to end: real app, real database, real services (STYLE §9).

The ``client`` fixture is a browser with a session cookie and its CSRF header; ``anon`` a browser without one.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, jobs
from scribetree.core.audit import AuditEvent
from scribetree.core.config import settings
from scribetree.core.http import csrf_token
from scribetree.identity.models import PlatformRole
from scribetree.tenancy.models import Invitation, Membership, MembershipStatus, Role, Tenant, TenantStatus
from scribetree.web.admin import routes as admin_routes
from scribetree.web.branding import contrast, text_on
from scribetree.web.pages import safe_next
from tests.factories.tenancy import PASSWORD, create_member, create_platform_user, create_tenant
from tests.fixtures.auth import make_client
from tests.web.conftest import LINK_RE, csrf_in, form_csrf, sign_in

NEW_PASSWORD = "quiet harbour lantern 42"


async def _reload(session: AsyncSession, obj: object) -> None:
    """Read ``obj`` as the app left it, then end the transaction so the test holds no lock or old snapshot."""
    await session.commit()
    await session.refresh(obj)
    await session.commit()


async def _one_mail_link(anon: httpx.AsyncClient, kind: str) -> str:
    """Deliver queued mail, then find the newest message's link through the development mailbox pages."""
    await jobs.run_pending()
    box = await anon.get("/dev/mail")
    assert box.status_code == 200
    names = re.findall(r'href="/dev/mail/([^"]+)"', box.text)
    assert names, box.text
    message = await anon.get(f"/dev/mail/{names[0]}")
    assert message.status_code == 200
    links = [link for link in LINK_RE.findall(message.text) if link.startswith(f"/{kind}/")]
    assert links, message.text
    return links[0]


# ---- sign-in ------------------------------------------------------------------------------------------------


class TestSignIn:
    async def test_page_shows_the_institution_and_its_colours(self, anon, session, tenant):
        tenant.display_name, tenant.primary_color = "Northfield", "#123456"
        await session.commit()
        r = await anon.get("/t/northfield/signin")
        assert r.status_code == 200
        assert "Northfield" in r.text and 'type="password"' in r.text
        assert "st_csrf" in r.cookies
        css_href = re.search(r'href="(/t/northfield/brand\.css\?v=[0-9a-f]+)"', r.text)
        assert css_href
        css = await anon.get(css_href.group(1))
        assert css.headers["content-type"].startswith("text/css")
        assert "--brand: #123456;" in css.text and "--brand-text: #ffffff;" in css.text
        assert "style=" not in r.text and "<script>" not in r.text  # the CSP forbids inline styles and scripts

    async def test_success_sets_the_cookie_and_goes_home(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.student, display_name="Ada Student")
        await session.commit()
        r = await sign_in(anon, "northfield", user.email, PASSWORD)
        assert r.status_code == 303 and r.headers["location"] == "/home"
        assert "st_session" in r.cookies
        home = await anon.get("/home")
        assert home.status_code == 200
        assert "Ada Student" in home.text and "Your assignments appear here once you are in a course" in home.text

    async def test_wrong_password_shows_the_form_again_and_counts_the_failure(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        r = await sign_in(anon, "northfield", user.email, "not the password")
        assert r.status_code == 401
        assert "That email and password do not match" in r.text
        assert f'value="{user.email}"' in r.text and "not the password" not in r.text
        assert 'role="alert"' in r.text
        assert "st_session" not in r.cookies
        # the failure's bookkeeping is committed although the page answered 4xx (ScribetreeError.commits_work)
        await _reload(session, user)
        assert user.failed_signins == 1
        failures = await session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "auth.signin", AuditEvent.outcome == "failure"))
        assert failures == 1

    async def test_a_locked_account_is_told_how_long_to_wait(self, anon, session, tenant, monkeypatch):
        monkeypatch.setattr(settings, "LOCKOUT_THRESHOLD", 2)
        user, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        for _ in range(2):
            await sign_in(anon, "northfield", user.email, "wrong password")
        r = await sign_in(anon, "northfield", user.email, PASSWORD)
        assert r.status_code == 429
        assert "Too many failed attempts for this account. Try again in" in r.text

    async def test_empty_fields_are_named(self, anon, tenant):
        token = await form_csrf(anon, "/t/northfield/signin")
        r = await anon.post("/t/northfield/signin", data={"csrf_token": token, "email": "", "password": ""})
        assert r.status_code == 422
        assert "Enter your email address." in r.text and "Enter your password." in r.text
        assert 'aria-describedby="f-email-error"' in r.text and 'aria-invalid="true"' in r.text

    @pytest.mark.parametrize("token", ["", "0" * 64, "forged"])
    async def test_missing_or_forged_csrf_is_refused_and_signs_nobody_in(self, anon, session, tenant, token):
        user, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        await anon.get("/t/northfield/signin")
        r = await anon.post("/t/northfield/signin", data={"csrf_token": token, "email": user.email,
                                                          "password": PASSWORD})
        assert r.status_code == 403
        assert "security token" in r.text
        assert "st_session" not in r.cookies
        await _reload(session, user)
        assert user.last_signin_at is None

    async def test_a_token_from_another_browser_is_refused(self, app, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
            theirs = await form_csrf(other, "/t/northfield/signin")
        await anon.get("/t/northfield/signin")
        r = await anon.post("/t/northfield/signin", data={"csrf_token": theirs, "email": user.email,
                                                          "password": PASSWORD})
        assert r.status_code == 403

    @pytest.mark.parametrize(("wanted", "landing"), [
        ("/admin/audit?outcome=failure", "/admin/audit?outcome=failure"),
        ("https://evil.example/", "/home"),
        ("//evil.example/x", "/home"),
        ("/\\evil.example", "/home"),
    ])
    async def test_next_is_followed_only_to_local_paths(self, anon, session, tenant, wanted, landing):
        user, _ = await create_member(session, tenant, Role.institution_admin)
        await session.commit()
        r = await sign_in(anon, "northfield", user.email, PASSWORD, next=wanted)
        assert r.headers["location"] == landing

    async def test_a_member_of_another_institution_cannot_sign_in_here(self, anon, session, tenant, other_tenant):
        stranger, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        r = await sign_in(anon, "northfield", stranger.email, PASSWORD)
        assert r.status_code == 401 and "st_session" not in r.cookies

    async def test_unknown_institution_is_404(self, anon):
        r = await anon.get("/t/nowhere/signin")
        assert r.status_code == 404
        assert "No institution was found" in r.text

    async def test_suspended_institution_says_so(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.student)
        tenant.status = TenantStatus.suspended
        await session.commit()
        r = await sign_in(anon, "northfield", user.email, PASSWORD)
        assert r.status_code == 403
        assert "suspended" in r.text

    async def test_host_name_sign_in(self, anon, session, tenant):
        tenant.hostname = "writing.northfield.edu"
        user, _ = await create_member(session, tenant, Role.educator)
        await session.commit()
        host = {"host": "writing.northfield.edu"}
        page = await anon.get("/signin", headers=host)
        assert page.status_code == 200 and tenant.display_name in page.text
        assert (await anon.get("/", headers=host)).headers["location"] == "/signin"
        r = await anon.post("/signin", headers=host, data={"csrf_token": csrf_in(page.text), "email": user.email,
                                                           "password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/home"

    async def test_signed_in_visitors_skip_the_form(self, client):
        r = await client.get("/t/northfield/signin")
        assert r.status_code == 303 and r.headers["location"] == "/home"

    async def test_signing_in_elsewhere_ends_the_previous_session(self, anon, session, tenant, other_tenant):
        user, _ = await create_member(session, tenant, Role.student)
        session.add(Membership(tenant_id=other_tenant.id, user_id=user.id, role=Role.educator))
        await session.commit()
        await sign_in(anon, "northfield", user.email, PASSWORD)
        first = anon.cookies["st_session"]
        await sign_in(anon, "southgate", user.email, PASSWORD)
        assert anon.cookies["st_session"] != first
        assert "Your courses" in (await anon.get("/home")).text  # an educator at Southgate now
        anon.cookies.set("st_session", first)
        assert (await anon.get("/home")).status_code == 303  # the old session no longer works


class TestPlatformSignIn:
    async def test_operator_lands_on_ops(self, anon, session):
        op = await create_platform_user(session, PlatformRole.operator)
        await session.commit()
        token = await form_csrf(anon, "/ops/signin")
        r = await anon.post("/ops/signin", data={"csrf_token": token, "email": op.email, "password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/ops"
        assert (await anon.get("/ops")).status_code == 200

    async def test_support_lands_on_support_page(self, anon, session):
        sup = await create_platform_user(session, PlatformRole.support)
        await session.commit()
        token = await form_csrf(anon, "/ops/signin")
        r = await anon.post("/ops/signin", data={"csrf_token": token, "email": sup.email, "password": PASSWORD})
        assert r.headers["location"] == "/ops/support"

    async def test_members_without_a_platform_role_are_refused(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.institution_admin)
        await session.commit()
        token = await form_csrf(anon, "/ops/signin")
        r = await anon.post("/ops/signin", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
        assert r.status_code == 401 and "do not match" in r.text


class TestSignOut:
    async def test_sign_out_ends_the_session(self, client):
        r = await client.post("/signout")
        assert r.status_code == 303 and r.headers["location"] == "/t/northfield/signin"
        landing = await client.get(r.headers["location"])
        assert "You have signed out." in landing.text
        assert (await client.get("/home")).status_code == 303

    async def test_without_csrf_nothing_happens(self, client):
        del client.headers["x-csrf-token"]
        r = await client.post("/signout")
        assert r.status_code == 403
        assert (await client.get("/home")).status_code == 200

    async def test_the_form_field_works_without_the_header(self, client):
        token = csrf_in((await client.get("/home")).text)
        del client.headers["x-csrf-token"]
        r = await client.post("/signout", data={"csrf_token": token})
        assert r.status_code == 303


# ---- without a session ----------------------------------------------------------------------------------------


class TestSignedOut:
    async def test_pages_send_you_to_sign_in_with_next(self, anon):
        r = await anon.get("/admin/members?role=student")
        assert r.status_code == 303
        assert r.headers["location"] == "/?next=%2Fadmin%2Fmembers%3Frole%3Dstudent"

    async def test_on_an_institution_host_to_its_sign_in(self, anon, session, tenant):
        tenant.hostname = "writing.northfield.edu"
        await session.commit()
        r = await anon.get("/home", headers={"host": "writing.northfield.edu"})
        assert r.headers["location"] == "/t/northfield/signin?next=%2Fhome"

    async def test_ops_pages_to_the_platform_sign_in(self, anon):
        r = await anon.get("/ops")
        assert r.headers["location"] == "/ops/signin?next=%2Fops"

    async def test_an_expired_session_cookie_is_the_same_as_none(self, anon):
        anon.cookies.set("st_session", "not-a-session")
        r = await anon.get("/account")
        assert r.status_code == 303 and r.headers["location"].startswith("/?next=")

    async def test_landing_finds_an_institution(self, anon, tenant):
        page = await anon.get("/?next=/admin/audit")
        assert page.status_code == 200 and "Find your institution" in page.text
        assert 'name="next" value="/admin/audit"' in page.text
        r = await anon.get("/find", params={"slug": " Northfield ", "next": "/admin/audit"})
        assert r.headers["location"] == "/t/northfield/signin?next=%2Fadmin%2Faudit"
        missing = await anon.get("/find", params={"slug": "atlantis"})
        assert missing.status_code == 404 and "No institution uses the short name" in missing.text

    async def test_signed_in_landing_goes_home(self, client):
        r = await client.get("/")
        assert r.headers["location"] == "/home"

    async def test_unknown_page_is_a_friendly_404(self, anon):
        r = await anon.get("/no/such/page")
        assert r.status_code == 404
        assert "Page not found" in r.text and "Request id" in r.text and r.headers["x-request-id"] in r.text


# ---- who may see what -----------------------------------------------------------------------------------------


PAGES = ["/home", "/account", "/admin/members", "/admin/audit", "/admin/branding", "/ops", "/ops/support"]
ALLOWED = {
    "student": {"/home", "/account"},
    "teaching_assistant": {"/home", "/account"},
    "educator": {"/home", "/account"},
    "institution_admin": {"/home", "/account", "/admin/members", "/admin/audit", "/admin/branding"},
    "operator": {"/ops", "/account"},
    "support": {"/ops/support", "/account"},
}
NAV = {"/admin/members": "Members", "/admin/audit": "Audit log", "/admin/branding": "Branding",
       "/ops": "Institutions", "/ops/support": "Support access"}


def _marker(who: str) -> pytest.MarkDecorator:
    return pytest.mark.auth(platform_role=who) if who in ("operator", "support") else pytest.mark.auth(role=who)


class TestRoleAccess:
    @pytest.mark.parametrize("who", [pytest.param(w, marks=_marker(w)) for w in ALLOWED])
    async def test_each_role_opens_exactly_its_pages(self, client, who):
        for page in PAGES:
            r = await client.get(page)
            if page in ALLOWED[who]:
                assert r.status_code == 200, (who, page, r.status_code)
            elif page == "/home":
                assert r.status_code == 303 and r.headers["location"] in ("/ops", "/ops/support"), who
            else:
                assert r.status_code == 403, (who, page, r.status_code)
                assert "You do not have access to this page" in r.text
        nav = (await client.get("/account")).text
        for href, label in NAV.items():
            shown = f'href="{href}"' in nav and label in nav
            assert shown == (href in ALLOWED[who]), (who, href)


# ---- home pages -----------------------------------------------------------------------------------------------


class TestHome:
    @pytest.mark.auth(role="educator")
    async def test_educators_get_the_teaching_home(self, client):
        r = await client.get("/home")
        # the placeholder of issue 2 gave way to the real lists (tests/web/test_home_pages.py has them filled)
        assert "Your courses" in r.text and "You have no courses yet." in r.text
        assert 'href="/courses/new"' in r.text

    @pytest.mark.auth(role="teaching_assistant")
    async def test_assistants_too(self, client):
        assert "Your courses" in (await client.get("/home")).text

    @pytest.mark.auth(role="institution_admin")
    async def test_admins_see_counts_invitations_and_activity(self, client, session, tenant):
        for _ in range(3):
            await create_member(session, tenant, Role.student)
        await create_member(session, tenant, Role.educator, status=MembershipStatus.deactivated)
        await session.commit()
        r = await client.post("/admin/members/invite", data={"email": "new.person@northfield.edu",
                                                            "role": "educator"})
        assert r.status_code == 303
        home = (await client.get("/home")).text
        assert re.search(r"<dt>Students</dt><dd>3</dd>", home)
        assert re.search(r"<dt>Deactivated</dt><dd>1</dd>", home)
        assert "new.person@northfield.edu" in home
        assert "member.invited" in home
        assert "Scribe Tree support is in your institution now" not in home


# ---- members --------------------------------------------------------------------------------------------------


@pytest.mark.auth(role="institution_admin")
class TestMembers:
    async def test_search_filter_and_pages(self, client, session, tenant, monkeypatch):
        monkeypatch.setattr(admin_routes, "PAGE_SIZE", 2)
        await create_member(session, tenant, Role.educator, display_name="Grace Hopper", email="grace@n.edu")
        for n in range(3):
            await create_member(session, tenant, Role.student, display_name=f"Student {n}")
        await session.commit()
        found = await client.get("/admin/members", params={"q": "grace"})
        assert "Grace Hopper" in found.text and "Student 0" not in found.text
        students = await client.get("/admin/members", params={"role": "student"})
        assert "Grace Hopper" not in students.text and "Page 1 of 2" in students.text
        assert 'href="/admin/members?role=student&amp;page=2"' in students.text
        second = await client.get("/admin/members", params={"role": "student", "page": "2"})
        assert "Page 2 of 2" in second.text
        nonsense = await client.get("/admin/members", params={"role": "wizard", "page": "x"})
        assert nonsense.status_code == 200 and "Grace Hopper" in nonsense.text

    async def test_invite_sends_mail_and_lists_the_invitation(self, client, session, data_dir):
        r = await client.post("/admin/members/invite", data={"email": "Kim@Northfield.edu", "role": "student"})
        assert r.status_code == 303
        page = await client.get(r.headers["location"])
        assert "Invitation sent to kim@northfield.edu as student." in page.text
        assert await jobs.run_pending() == 1
        assert len(list((data_dir / "mail").glob("*.eml"))) == 1

    async def test_invite_problems_are_shown_at_the_form(self, client, session, tenant):
        bad = await client.post("/admin/members/invite", data={"email": "not an email", "role": "student"})
        assert bad.status_code == 422 and "Enter an email address like name@school.edu." in bad.text
        member, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        again = await client.post("/admin/members/invite", data={"email": member.email, "role": "student"})
        assert again.status_code == 409 and "already a member" in again.text

    async def test_change_role_with_and_without_htmx(self, client, session, tenant):
        _, m = await create_member(session, tenant, Role.student, display_name="Lin")
        await session.commit()
        r = await client.post(f"/admin/members/{m.id}/role", data={"role": "educator", "back": "/admin/members?q=lin"})
        assert r.status_code == 303 and r.headers["location"] == "/admin/members?q=lin"
        await _reload(session, m)
        assert m.role == Role.educator
        r = await client.post(f"/admin/members/{m.id}/role", data={"role": "teaching_assistant"},
                              headers={"HX-Request": "true"})
        assert r.status_code == 200
        assert r.text.lstrip().startswith(f'<tr id="member-{m.id}"')
        assert "Lin is now teaching assistant." in json.loads(r.headers["hx-trigger"])["st:announce"]["message"]
        await _reload(session, m)
        assert m.role == Role.teaching_assistant

    async def test_the_last_admin_cannot_be_demoted(self, client, session, actor, tenant):
        own = await session.scalar(select(Membership).where(Membership.user_id == actor.user.id))
        r = await client.post(f"/admin/members/{own.id}/role", data={"role": "student"})
        assert r.status_code == 409 and "only active admin" in r.text
        r = await client.post(f"/admin/members/{own.id}/role", data={"role": "student"},
                              headers={"HX-Request": "true"})
        assert r.status_code == 409 and "row-note--error" in r.text
        await _reload(session, own)
        assert own.role == Role.institution_admin

    async def test_deactivate_and_reactivate_after_confirming(self, client, session, tenant):
        _, m = await create_member(session, tenant, Role.student, display_name="Sam")
        await session.commit()
        confirm = await client.get(f"/admin/members/{m.id}/deactivate")
        assert confirm.status_code == 200 and "Deactivate Sam?" in confirm.text
        r = await client.post(f"/admin/members/{m.id}/deactivate", data={"csrf_token": csrf_in(confirm.text)})
        assert r.status_code == 303
        await _reload(session, m)
        assert m.status == MembershipStatus.deactivated
        r = await client.post(f"/admin/members/{m.id}/reactivate")
        await _reload(session, m)
        assert r.status_code == 303 and m.status == MembershipStatus.active

    async def test_forged_csrf_changes_nothing(self, client, session, tenant):
        _, m = await create_member(session, tenant, Role.student)
        await session.commit()
        client.headers["x-csrf-token"] = csrf_token("someone-else")
        r = await client.post(f"/admin/members/{m.id}/role", data={"role": "institution_admin"})
        assert r.status_code == 403
        r = await client.post(f"/admin/members/{m.id}/deactivate")
        assert r.status_code == 403
        await _reload(session, m)
        assert (m.role, m.status) == (Role.student, MembershipStatus.active)

    async def test_another_institutions_member_is_404(self, client, session, other_tenant):
        _, theirs = await create_member(session, other_tenant, Role.student)
        await session.commit()
        for method, url, data in [
            ("GET", f"/admin/members/{theirs.id}/deactivate", None),
            ("POST", f"/admin/members/{theirs.id}/deactivate", {}),
            ("POST", f"/admin/members/{theirs.id}/role", {"role": "educator"}),
            ("GET", "/admin/members/not-a-uuid/deactivate", None),
        ]:
            r = await client.request(method, url, data=data)
            assert r.status_code == 404, (method, url)
        await _reload(session, theirs)
        assert (theirs.role, theirs.status) == (Role.student, MembershipStatus.active)
        assert theirs.id.hex not in (await client.get("/admin/members")).text

    async def test_withdraw_an_invitation(self, client, session):
        await client.post("/admin/members/invite", data={"email": "lee@northfield.edu", "role": "student"})
        inv = await session.scalar(select(Invitation).where(Invitation.email == "lee@northfield.edu"))
        r = await client.post(f"/admin/invitations/{inv.id}/revoke")
        assert r.status_code == 303
        await _reload(session, inv)
        assert inv.revoked_at is not None
        assert "was withdrawn" in (await client.get("/admin/members")).text
        assert "lee@northfield.edu" not in (await client.get("/admin/members")).text


# ---- audit -----------------------------------------------------------------------------------------------------


@pytest.mark.auth(role="institution_admin")
class TestAudit:
    async def test_filters_pages_and_verification(self, client, session, tenant, monkeypatch):
        monkeypatch.setattr(admin_routes, "AUDIT_PAGE_SIZE", 2)
        for n in range(3):
            await client.post("/admin/members/invite", data={"email": f"p{n}@northfield.edu", "role": "student"})
        page = await client.get("/admin/audit", params={"action": "member."})
        assert page.status_code == 200
        assert page.text.count("<code>member.invited</code>") == 2
        older = re.search(r'href="(/admin/audit\?[^"]*before_seq=\d+)"', page.text)
        assert older
        rest = await client.get(older.group(1).replace("&amp;", "&"))
        assert rest.text.count("<code>member.invited</code>") == 1 and "This is the oldest entry" in rest.text
        none = await client.get("/admin/audit", params={"outcome": "failure"})
        assert "No entries match" in none.text
        verified = await client.get("/admin/audit", params={"verify": "1"})
        assert "The chain is intact" in verified.text

    async def test_bad_dates_are_explained(self, client):
        r = await client.get("/admin/audit", params={"since": "yesterday", "until": "2026-01-01"})
        assert r.status_code == 422 and "Enter a date like 2026-03-31." in r.text

    async def test_date_range(self, client):
        today = clock.utcnow().date()
        inside = await client.get("/admin/audit", params={"since": str(today), "until": str(today)})
        assert inside.status_code == 200
        before = await client.get("/admin/audit", params={"until": str(today - timedelta(days=3))})
        assert "No entries match" in before.text


# ---- branding --------------------------------------------------------------------------------------------------


@pytest.mark.auth(role="institution_admin")
class TestBranding:
    async def test_save_and_see_it_in_the_stylesheet(self, client, session, tenant):
        r = await client.post("/admin/branding", data={"display_name": "Northfield U", "logo_url": "",
                                                       "primary_color": "#0B3D91", "accent_color": "#FFB81C"})
        assert r.status_code == 303
        page = await client.get("/admin/branding")
        assert "Branding saved." in page.text and "Northfield U" in page.text
        await _reload(session, tenant)
        assert (tenant.display_name, tenant.primary_color) == ("Northfield U", "#0b3d91")
        css = await client.get("/t/northfield/brand.css")
        assert "--brand: #0b3d91;" in css.text

    async def test_low_contrast_is_saved_with_a_warning(self, client, session, tenant):
        r = await client.post("/admin/branding", data={"display_name": "", "logo_url": "",
                                                       "primary_color": "#ffd700", "accent_color": "#c2410c"})
        assert r.status_code == 303
        page = await client.get("/admin/branding")
        assert "contrast warning" in page.text and "below the WCAG AA minimum of 4.5:1" in page.text
        css = await client.get("/t/northfield/brand.css")
        assert "--brand-text: #111418;" in css.text  # dark text keeps the header readable

    async def test_invalid_values_are_explained(self, client):
        r = await client.post("/admin/branding", data={"display_name": "X", "logo_url": "javascript:alert(1)",
                                                       "primary_color": "red", "accent_color": "#c2410c"})
        assert r.status_code == 422
        assert "Use an https:// address" in r.text and "Enter a colour as #" in r.text

    def test_contrast_arithmetic(self):
        assert round(contrast("#ffffff", "#000000"), 1) == 21.0
        assert round(contrast("#ffffff", "#767676"), 2) == 4.54
        assert text_on("#767676") == "#ffffff" and text_on("#777777") != "#ffffff"


# ---- account -----------------------------------------------------------------------------------------------------


class TestAccount:
    @pytest.mark.auth(role="student")
    async def test_change_password(self, app, client, anon, actor, session, tenant):
        elsewhere = await make_client(app, session, actor.user, tenant)
        wrong = await client.post("/account/password", data={"current_password": "nope", "new_password": NEW_PASSWORD,
                                                              "new_password_confirm": NEW_PASSWORD})
        assert wrong.status_code == 400 and "Your current password is not correct." in wrong.text
        weak = await client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short",
                                                             "new_password_confirm": "short"})
        assert weak.status_code == 422 and "at least 10 characters" in weak.text
        async with elsewhere:
            assert (await elsewhere.get("/account")).status_code == 200  # the failures above ended nothing
            r = await client.post("/account/password", data={"current_password": PASSWORD,
                                                              "new_password": NEW_PASSWORD,
                                                              "new_password_confirm": NEW_PASSWORD})
            assert r.status_code == 303 and r.headers["location"] == "/account"
            assert "st_session" not in r.headers.get("set-cookie", "")  # the cookie is neither cleared nor changed
            page = await client.get("/account")  # this browser is still signed in
            assert page.status_code == 200 and "Your password has been changed. You stay signed in here" in page.text
            gone = await elsewhere.get("/account")  # the other one is sent to sign in
            assert gone.status_code == 303 and gone.headers["location"] == "/?next=%2Faccount"
        assert (await sign_in(anon, "northfield", actor.user.email, NEW_PASSWORD)).status_code == 303

    @pytest.mark.auth(role="educator")
    async def test_tokens_are_shown_once_listed_and_revoked(self, app, client):
        r = await client.post("/account/tokens", data={"name": "grading script", "scopes": ["read", "write"],
                                                       "expires_in_days": "30"})
        assert r.status_code == 201
        secret = re.search(r'id="new-token"[^>]*value="(st_[^"]+)"', r.text).group(1)
        assert re.search(r'action="/account/tokens/[0-9a-f-]{36}/revoke"', r.text)  # already in the list
        page = await client.get("/account")
        assert secret not in page.text and "grading script" in page.text
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {secret}"}) as api:
            assert (await api.get("/api/v1/me")).status_code == 200
            token_id = re.search(r'action="/account/tokens/([0-9a-f-]{36})/revoke"', page.text).group(1)
            revoked = await client.post(f"/account/tokens/{token_id}/revoke", headers={"HX-Request": "true"})
            assert revoked.status_code == 200 and "Revoked" in revoked.text and "hx-trigger" in revoked.headers
            assert (await api.get("/api/v1/me")).status_code == 401

    @pytest.mark.auth(role="student")
    async def test_students_cannot_grant_admin_scope(self, client):
        r = await client.post("/account/tokens", data={"name": "x", "scopes": ["admin"], "expires_in_days": "30"})
        assert r.status_code == 422 and "Your role can grant only" in r.text

    @pytest.mark.auth(role="student")
    async def test_someone_elses_token_is_404(self, client, session, tenant):
        from scribetree.identity.service import identity

        other, _ = await create_member(session, tenant, Role.student)
        _, row = await identity.create_token(session, tenant_id=tenant.id, user_id=other.id, name="theirs",
                                             scopes=["read"], expires_in_days=30)
        await session.commit()
        r = await client.post(f"/account/tokens/{row.id}/revoke")
        assert r.status_code == 404
        await _reload(session, row)
        assert row.revoked_at is None

    @pytest.mark.auth(role="student")
    async def test_sign_out_everywhere(self, client):
        r = await client.post("/account/signout-everywhere")
        assert r.status_code == 303
        assert (await client.get("/account")).status_code == 303

    @pytest.mark.auth(platform_role="operator")
    async def test_platform_accounts_have_no_tokens(self, client):
        page = await client.get("/account")
        assert "API tokens belong to a membership" in page.text
        assert (await client.post("/account/tokens", data={"name": "x", "scopes": ["read"]})).status_code == 403
        assert (await client.post(f"/account/tokens/{'0' * 8}-0000-0000-0000-{'0' * 12}/revoke")).status_code == 404


# ---- password reset and invitations, through the development mailbox --------------------------------------------


class TestResetFlow:
    async def test_reset_end_to_end(self, anon, session, tenant, development):
        user, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        token = await form_csrf(anon, "/t/northfield/reset")
        r = await anon.post("/t/northfield/reset", data={"csrf_token": token, "email": user.email})
        assert r.status_code == 303 and r.headers["location"] == "/t/northfield/reset?sent=1"
        assert "Check your email" in (await anon.get(r.headers["location"])).text
        link = await _one_mail_link(anon, "reset")

        form = await anon.get(link)
        assert form.status_code == 200 and "Choose a new password" in form.text
        mismatch = await anon.post(link, data={"csrf_token": csrf_in(form.text), "password": NEW_PASSWORD,
                                               "password_confirm": "something else"})
        assert mismatch.status_code == 422 and "do not match" in mismatch.text
        weak = await anon.post(link, data={"csrf_token": csrf_in(form.text), "password": "password123",
                                           "password_confirm": "password123"})
        assert weak.status_code == 422 and "too easy to guess" in weak.text
        done = await anon.post(link, data={"csrf_token": csrf_in(form.text), "password": NEW_PASSWORD,
                                           "password_confirm": NEW_PASSWORD})
        assert done.status_code == 303 and done.headers["location"] == "/t/northfield/signin"
        assert "Your password has been changed" in (await anon.get(done.headers["location"])).text
        assert (await sign_in(anon, "northfield", user.email, NEW_PASSWORD)).status_code == 303

        used = await anon.get(link)
        assert used.status_code == 400 and "expired or was already used" in used.text
        assert 'href="/t/northfield/reset"' not in used.text or "Request a new link" in used.text

    async def test_unknown_addresses_get_the_same_answer(self, anon, tenant, development):
        token = await form_csrf(anon, "/t/northfield/reset")
        r = await anon.post("/t/northfield/reset", data={"csrf_token": token, "email": "nobody@northfield.edu"})
        assert r.headers["location"] == "/t/northfield/reset?sent=1"
        assert await jobs.run_pending() == 0

    async def test_an_expired_link_says_what_to_do(self, anon, session, tenant, development):
        user, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        token = await form_csrf(anon, "/reset")
        await anon.post("/reset", data={"csrf_token": token, "email": user.email})
        link = await _one_mail_link(anon, "reset")
        with clock.travel(timedelta(minutes=settings.RESET_LINK_MINUTES + 1)):
            r = await anon.get(link)
        assert r.status_code == 400
        assert "This password reset link has expired or was already used." in r.text
        assert 'href="/reset"' in r.text and "Request a new link" in r.text

    async def test_reset_needs_csrf(self, anon, session, tenant):
        user, _ = await create_member(session, tenant, Role.student)
        await session.commit()
        await anon.get("/t/northfield/reset")
        r = await anon.post("/t/northfield/reset", data={"email": user.email})
        assert r.status_code == 403
        assert await jobs.run_pending() == 0

    async def test_the_mailbox_is_development_only(self, anon, data_dir):
        assert (await anon.get("/dev/mail")).status_code == 404
        assert (await anon.get("/dev/mail/20260101T000000Z-x.eml")).status_code == 404


class TestInvitationFlow:
    @pytest.mark.auth(role="institution_admin")
    async def test_a_new_person_joins(self, client, anon, session, tenant, development):
        await client.post("/admin/members/invite", data={"email": "newbie@northfield.edu", "role": "educator"})
        link = await _one_mail_link(anon, "invite")
        page = await anon.get(link)
        assert page.status_code == 200
        assert tenant.display_name in page.text and "Educator" in page.text and "newbie@northfield.edu" in page.text
        missing = await anon.post(link, data={"csrf_token": csrf_in(page.text), "display_name": "",
                                              "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert missing.status_code == 422 and "Enter your name" in missing.text
        r = await anon.post(link, data={"csrf_token": csrf_in(page.text), "display_name": "Nia Newbie",
                                        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/home"
        home = await anon.get("/home")
        assert "Nia Newbie" in home.text and "Welcome to" in home.text and "Your courses" in home.text
        assert (await anon.get(link)).status_code == 400  # the link worked once

    @pytest.mark.auth(role="institution_admin")
    async def test_an_existing_account_confirms_with_its_password(
        self, client, anon, session, other_tenant, development
    ):
        person, _ = await create_member(session, other_tenant, Role.student, display_name="Ola")
        await session.commit()
        await client.post("/admin/members/invite", data={"email": person.email, "role": "teaching_assistant"})
        link = await _one_mail_link(anon, "invite")
        page = await anon.get(link)
        assert "You already have a Scribe Tree account" in page.text
        assert 'name="current_password"' in page.text and 'autocomplete="current-password"' in page.text
        assert 'name="password"' not in page.text and 'name="display_name"' not in page.text
        assert 'href="/t/northfield/reset"' in page.text

        missing = await anon.post(link, data={"csrf_token": csrf_in(page.text)})
        assert missing.status_code == 422 and "Enter the password you use to sign in" in missing.text
        wrong = await anon.post(link, data={"csrf_token": csrf_in(page.text), "current_password": "not it at all"})
        assert wrong.status_code == 401 and "That is not the current password" in wrong.text
        assert "not it at all" not in wrong.text and "st_session" not in wrong.cookies
        assert (await anon.get("/home")).status_code == 303  # nobody was signed in
        await _reload(session, person)
        assert person.failed_signins == 1  # counted like a failed sign-in
        joined = await session.scalar(select(func.count()).select_from(Membership)
                                      .where(Membership.user_id == person.id))
        assert joined == 1
        await session.commit()

        r = await anon.post(link, data={"csrf_token": csrf_in(page.text), "current_password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/home"
        assert "Ola" in (await anon.get("/home")).text
        await _reload(session, person)
        assert person.failed_signins == 0

    @pytest.mark.auth(role="institution_admin")
    async def test_a_locked_account_is_told_how_long_to_wait(self, client, anon, session, other_tenant, development):
        person, _ = await create_member(session, other_tenant, Role.student)
        await session.commit()
        await client.post("/admin/members/invite", data={"email": person.email, "role": "student"})
        link = await _one_mail_link(anon, "invite")
        page = await anon.get(link)
        for _ in range(settings.LOCKOUT_THRESHOLD):
            r = await anon.post(link, data={"csrf_token": csrf_in(page.text), "current_password": "wrong guess"})
            assert r.status_code == 401
        r = await anon.post(link, data={"csrf_token": csrf_in(page.text), "current_password": PASSWORD})
        assert r.status_code == 429 and "Too many failed attempts" in r.text

    @pytest.mark.auth(role="institution_admin")
    async def test_expired_and_forged_links(self, client, anon, development):
        await client.post("/admin/members/invite", data={"email": "late@northfield.edu", "role": "student"})
        link = await _one_mail_link(anon, "invite")
        page = await anon.get(link)
        no_csrf = await anon.post(link, data={"display_name": "Late", "password": NEW_PASSWORD,
                                              "password_confirm": NEW_PASSWORD})
        assert no_csrf.status_code == 403
        with clock.travel(timedelta(days=settings.INVITE_LINK_DAYS, minutes=1)):
            expired = await anon.post(link, data={"csrf_token": csrf_in(page.text), "display_name": "Late",
                                                  "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert expired.status_code == 400 and "This invitation has expired" in expired.text
        assert (await anon.get("/invite/not-a-real-token-at-all")).status_code == 400


# ---- demo accounts ----------------------------------------------------------------------------------------------


DEMO = [{"email": "admin@demo.edu", "name": "Dana Admin", "role": "institution_admin"},
        {"email": "stu@demo.edu", "name": "Sol Student", "role": "student"}]


class TestDemoAccounts:
    async def test_shown_for_demo_institutions_in_development(self, anon, session, development: Path):
        (development / "demo-accounts.json").write_text(json.dumps(DEMO))
        await create_tenant(session, slug="demo", name="Demo University", is_demo=True)
        await create_tenant(session, slug="real", name="Real University")
        await session.commit()
        demo = await anon.get("/t/demo/signin")
        assert "Demo accounts" in demo.text and "stu@demo.edu" in demo.text
        assert settings.DEMO_PASSWORD.get_secret_value() in demo.text
        assert demo.text.index("Institution admin") < demo.text.index("Student")
        real = await anon.get("/t/real/signin")
        assert "Demo accounts" not in real.text and settings.DEMO_PASSWORD.get_secret_value() not in real.text
        landing = await anon.get("/")
        assert 'href="/t/demo/signin"' in landing.text and 'href="/t/real/signin"' not in landing.text

    async def test_never_outside_development(self, anon, session, data_dir: Path):
        (data_dir / "demo-accounts.json").write_text(json.dumps(DEMO))
        await create_tenant(session, slug="demo", name="Demo University", is_demo=True)
        await session.commit()
        page = await anon.get("/t/demo/signin")
        assert "Demo accounts" not in page.text and settings.DEMO_PASSWORD.get_secret_value() not in page.text
        assert "/t/demo/signin" not in (await anon.get("/")).text

    async def test_a_missing_or_broken_file_shows_nothing(self, anon, session, development: Path):
        await create_tenant(session, slug="demo", name="Demo University", is_demo=True)
        await session.commit()
        assert "Demo accounts" not in (await anon.get("/t/demo/signin")).text
        (development / "demo-accounts.json").write_text("{not json")
        assert "Demo accounts" not in (await anon.get("/t/demo/signin")).text


# ---- operators and support ----------------------------------------------------------------------------------------


@pytest.mark.auth(platform_role="operator")
class TestOps:
    async def test_institutions_table_and_queue(self, client, session, tenant):
        await create_member(session, tenant, Role.student)
        await session.commit()
        page = await client.get("/ops")
        assert "Northfield University" in page.text and "Job queue" in page.text
        assert re.search(r'<td class="num">1</td>', page.text)

    async def test_create_an_institution_with_its_first_admin(self, client, session, data_dir):
        r = await client.post("/ops/tenants", data={"name": "Eastwood College", "slug": "eastwood", "type": "k12",
                                                    "region": "eu", "plan": "pilot", "support_tier": "basic",
                                                    "hostname": "", "admin_email": "head@eastwood.edu"})
        assert r.status_code == 303
        created = await session.scalar(select(Tenant).where(Tenant.slug == "eastwood"))
        assert created is not None and created.status == TenantStatus.onboarding
        assert await jobs.run_pending() == 1
        dup = await client.post("/ops/tenants", data={"name": "Again", "slug": "eastwood", "type": "k12"})
        assert dup.status_code == 409 and "already uses this address" in dup.text
        bad = await client.post("/ops/tenants", data={"name": "", "slug": "Not A Slug!", "type": "k12"})
        assert bad.status_code == 422 and "Use lowercase letters" in bad.text

    async def test_suspend_and_activate_with_confirmation(self, client, session, tenant):
        confirm = await client.get(f"/ops/tenants/{tenant.id}/suspend")
        assert "Suspend Northfield University?" in confirm.text
        assert (await client.post(f"/ops/tenants/{tenant.id}/suspend")).status_code == 303
        await _reload(session, tenant)
        assert tenant.status == TenantStatus.suspended
        assert (await client.post(f"/ops/tenants/{tenant.id}/activate")).status_code == 303
        await _reload(session, tenant)
        assert tenant.status == TenantStatus.active
        assert (await client.get(f"/ops/tenants/{tenant.id}/explode")).status_code == 404


class TestSupportAccess:
    @pytest.mark.auth(platform_role="support")
    async def test_enter_read_only_and_leave(self, client, app, session, tenant):
        short = await client.post("/ops/support", data={"tenant_slug": "northfield", "reason": "too short",
                                                        "minutes": "30"})
        assert short.status_code == 422 and "at least 15 characters" in short.text
        r = await client.post("/ops/support", data={"tenant_slug": "northfield", "minutes": "30",
                                                    "reason": "Ticket 4711: members page is slow"})
        assert r.status_code == 303 and r.headers["location"] == "/home"
        switched = r.cookies["st_session"]  # the browser now holds the support session instead
        client.cookies.clear()
        client.cookies.set("st_session", switched)
        client.headers["x-csrf-token"] = csrf_token(switched)
        home = await client.get("/home")
        assert "Support access (read-only)" in home.text and "Ticket 4711" in home.text
        members = await client.get("/admin/members")
        assert members.status_code == 200 and "/admin/members/invite" not in members.text
        assert "/role" not in members.text and "/deactivate" not in members.text
        assert (await client.get("/admin/audit")).status_code == 200
        assert (await client.post("/admin/members/invite", data={"email": "x@y.edu"})).status_code == 403
        assert (await client.get("/admin/branding")).status_code == 403

        admin, _ = await create_member(session, tenant, Role.institution_admin)
        await session.commit()
        async with await make_client(app, session, admin, tenant) as admin_client:
            notice = (await admin_client.get("/home")).text
            assert "Scribe Tree support is in your institution now" in notice and "Ticket 4711" in notice

        out = await client.post("/support/end")
        assert out.status_code == 303 and out.headers["location"] == "/ops/signin"
        assert (await client.get("/home")).status_code == 303

        async with await make_client(app, session, admin, tenant) as admin_client:
            notice = (await admin_client.get("/home")).text
            assert "Support access in the last 30 days" in notice

    @pytest.mark.auth(role="institution_admin")
    async def test_members_cannot_end_support_they_are_not_in(self, client):
        assert (await client.post("/support/end")).status_code == 403


# ---- small pieces ---------------------------------------------------------------------------------------------------


class TestHelpers:
    @pytest.mark.parametrize(("value", "expected"), [
        ("/home", "/home"), ("/a?b=c#d", "/a?b=c#d"), ("", None), (None, None), ("home", None),
        ("//x.example", None), ("/\\x.example", None), ("https://x.example/", None), ("/a\nb", None),
    ])
    def test_safe_next(self, value, expected):
        assert safe_next(value) == expected

    @pytest.mark.auth(role="institution_admin")
    async def test_htmx_errors_do_not_swap_an_error_page(self, client):
        del client.headers["x-csrf-token"]
        r = await client.post(f"/admin/members/{'0' * 8}-0000-0000-0000-{'0' * 12}/role", data={"role": "student"},
                              headers={"HX-Request": "true"})
        assert r.status_code == 403 and r.headers["hx-reswap"] == "none" and not r.text

    async def test_static_files_are_served(self, anon):
        for path in ("/static/css/app.css", "/static/js/app.js", "/static/vendor/htmx-2.0.11.min.js"):
            assert (await anon.get(path)).status_code == 200
