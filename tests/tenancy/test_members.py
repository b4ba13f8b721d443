from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.core.config import settings
from scribetree.core.errors import Forbidden
from scribetree.identity.models import User
from scribetree.tenancy.models import Invitation, Membership, MembershipStatus, Role
from scribetree.tenancy.service import member
from tests.factories.tenancy import PASSWORD, create_member
from tests.tenancy.mailbox import last_link


class TestInvitations:
    @pytest.mark.auth(role="institution_admin")
    async def test_invite_new_person_who_accepts(self, client, anon, session, tenant):
        r = await client.post("/api/v1/invitations", json={"email": "New.Person@Example.edu", "role": "educator"})
        assert r.status_code == 201, r.text
        token = await last_link("new.person@example.edu", "invite")
        preview = (await anon.get(f"/api/v1/invitation-links/{token}")).json()
        assert preview["role"] == "educator" and preview["tenant"]["slug"] == tenant.slug
        assert preview["has_account"] is False and preview["existing_account"] is False
        r = await anon.post("/api/v1/invitation-links/accept", json={"token": token})
        assert r.status_code == 422 and "choose a password" in r.json()["detail"]
        r = await anon.post(
            "/api/v1/invitation-links/accept", json={"token": token, "display_name": "New Person", "password": PASSWORD}
        )
        assert r.status_code == 200 and r.json()["role"] == "educator"
        assert (await anon.get("/api/v1/me")).json()["display_name"] == "New Person"
        r = await anon.post(
            "/api/v1/invitation-links/accept", json={"token": token, "display_name": "Again", "password": PASSWORD}
        )
        assert r.status_code == 400 and r.json()["error"] == "LinkInvalid"

    @pytest.mark.auth(role="institution_admin")
    async def test_existing_account_joins_a_second_institution(self, client, anon, session, other_tenant):
        user, _ = await create_member(session, other_tenant)
        await session.commit()
        await client.post("/api/v1/invitations", json={"email": user.email, "role": "teaching_assistant"})
        token = await last_link(user.email, "invite")
        preview = (await anon.get(f"/api/v1/invitation-links/{token}")).json()
        assert preview["existing_account"] is True and preview["has_account"] is True
        r = await anon.post(
            "/api/v1/invitation-links/accept", json={"token": token, "current_password": PASSWORD}
        )
        assert r.status_code == 200 and r.json()["role"] == "teaching_assistant"
        rows = (await session.execute(select(Membership).where(Membership.user_id == user.id))).scalars().all()
        assert len(rows) == 2
        assert (await anon.get("/api/v1/me")).json()["tenant"]["slug"] == "northfield"
        ev = (
            await session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "member.invitation_accepted", AuditEvent.outcome == "success"
                )
            )
        ).scalar_one()
        assert ev.details["account"] == "existing" and ev.actor_user_id == user.id

    @pytest.mark.auth(role="institution_admin")
    async def test_expired_and_revoked_invitations(self, client, anon):
        inv = (await client.post("/api/v1/invitations", json={"email": "late@example.edu"})).json()
        token = await last_link("late@example.edu", "invite")
        with clock.travel(timedelta(days=settings.INVITE_LINK_DAYS, seconds=1)):
            assert (await anon.get(f"/api/v1/invitation-links/{token}")).status_code == 400
        assert (await client.get("/api/v1/invitations")).json()[0]["id"] == inv["id"]
        assert (await client.delete(f"/api/v1/invitations/{inv['id']}")).json()["revoked_at"]
        assert (await anon.get(f"/api/v1/invitation-links/{token}")).status_code == 400
        assert (await client.get("/api/v1/invitations")).json() == []

    @pytest.mark.auth(role="institution_admin")
    async def test_inviting_a_current_member_is_a_conflict(self, client, session, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        r = await client.post("/api/v1/invitations", json={"email": user.email})
        assert r.status_code == 409 and r.json()["error"] == "AlreadyMember"

    @pytest.mark.auth(role="educator")
    async def test_educators_cannot_invite(self, client):
        r = await client.post("/api/v1/invitations", json={"email": "x@example.edu"})
        assert r.status_code == 403


async def _invite_existing(client, session, other_tenant, **user_overrides):
    """A person with an account in ``other_tenant``, invited to the client's institution; returns (user, token)."""
    user, _ = await create_member(session, other_tenant, **user_overrides)
    await session.commit()
    r = await client.post("/api/v1/invitations", json={"email": user.email, "role": "educator"})
    assert r.status_code == 201, r.text
    return user, await last_link(user.email, "invite")


async def _unchanged(session, user, *, failed_signins: int) -> None:
    """Nothing was joined or used up; only the sign-in failure counter moved."""
    await session.commit()
    fresh = (
        await session.execute(select(User).where(User.id == user.id).execution_options(populate_existing=True))
    ).scalar_one()
    assert fresh.failed_signins == failed_signins
    assert len((await session.execute(select(Membership).where(Membership.user_id == user.id))).all()) == 1
    inv = (await session.execute(select(Invitation).where(Invitation.email == user.email))).scalar_one()
    assert inv.accepted_at is None and inv.revoked_at is None
    await session.commit()


@pytest.mark.auth(role="institution_admin")
class TestAcceptWithAnExistingAccount:
    """The link alone must not attach an existing account: the account's current password proves it."""

    async def test_missing_password_is_asked_for(self, client, anon, session, other_tenant):
        user, token = await _invite_existing(client, session, other_tenant)
        for body in ({"token": token}, {"token": token, "display_name": "Someone", "password": "a brand new pass 1"}):
            r = await anon.post("/api/v1/invitation-links/accept", json=body)
            assert r.status_code == 422 and r.json()["error"] == "AccountPasswordRequired", r.text
            assert "current password" in r.json()["detail"] and "st_session" not in r.cookies
        await _unchanged(session, user, failed_signins=0)
        fresh = (await session.execute(select(User).where(User.id == user.id))).scalar_one()
        assert fresh.display_name != "Someone"

    async def test_wrong_password_is_refused_counted_and_audited(self, client, anon, session, other_tenant, tenant):
        user, token = await _invite_existing(client, session, other_tenant)
        r = await anon.post(
            "/api/v1/invitation-links/accept", json={"token": token, "current_password": "not the password"}
        )
        assert r.status_code == 401 and r.json()["error"] == "AccountPasswordIncorrect", r.text
        assert "st_session" not in r.cookies
        await _unchanged(session, user, failed_signins=1)
        ev = (
            await session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "member.invitation_accepted", AuditEvent.outcome == "failure"
                )
            )
        ).scalar_one()
        assert ev.tenant_id == tenant.id and ev.actor_user_id == user.id
        assert ev.details == {"reason": "InvalidCredentials"}
        await session.commit()
        r = await anon.post("/api/v1/invitation-links/accept", json={"token": token, "current_password": PASSWORD})
        assert r.status_code == 200  # the link still works with the right password

    async def test_repeated_failures_lock_the_account_as_sign_in_does(self, client, anon, session, other_tenant):
        user, token = await _invite_existing(client, session, other_tenant)
        for _ in range(settings.LOCKOUT_THRESHOLD):
            r = await anon.post(
                "/api/v1/invitation-links/accept", json={"token": token, "current_password": "wrong guess here"}
            )
            assert r.status_code == 401
        r = await anon.post("/api/v1/invitation-links/accept", json={"token": token, "current_password": PASSWORD})
        assert r.status_code == 429 and r.json()["error"] == "AccountLocked"
        assert int(r.headers["retry-after"]) == settings.LOCKOUT_BASE_SECONDS
        await _unchanged(session, user, failed_signins=settings.LOCKOUT_THRESHOLD)
        r = await anon.post(f"/api/v1/tenants/{other_tenant.slug}/session",
                            json={"email": user.email, "password": PASSWORD})
        assert r.status_code == 429  # the same lockout guards sign-in

    async def test_the_sign_in_rate_limit_counts_attempts(self, client, anon, session, other_tenant, monkeypatch):
        user, token = await _invite_existing(client, session, other_tenant)
        monkeypatch.setattr(settings, "RATE_LIMIT_SIGNIN", "2/minute")
        codes = []
        for _ in range(3):
            r = await anon.post(
                "/api/v1/invitation-links/accept", json={"token": token, "current_password": "wrong guess here"}
            )
            codes.append(r.status_code)
        assert codes == [401, 401, 429]
        await _unchanged(session, user, failed_signins=2)

    async def test_an_account_without_a_password_cannot_be_claimed_through_the_link(
        self, client, anon, session, other_tenant
    ):
        user, token = await _invite_existing(client, session, other_tenant, password=None)
        r = await anon.post("/api/v1/invitation-links/accept", json={"token": token, "password": "a brand new pass 1"})
        assert r.status_code == 422 and r.json()["error"] == "AccountPasswordRequired"
        r = await anon.post(
            "/api/v1/invitation-links/accept", json={"token": token, "current_password": "a brand new pass 1"}
        )
        assert r.status_code == 401 and r.json()["error"] == "AccountPasswordIncorrect"
        await _unchanged(session, user, failed_signins=1)
        fresh = (await session.execute(select(User).where(User.id == user.id))).scalar_one()
        assert fresh.password_hash is None


class TestCountByRole:
    """The admin home's member card: active members per role and the deactivated, in one tenant-scoped query."""

    @pytest.mark.auth(role="institution_admin")
    async def test_counts_active_by_role_in_one_query(self, auth_ctx, session, tenant, other_tenant):
        for _ in range(3):
            await create_member(session, tenant, Role.student)
        await create_member(session, tenant, Role.educator)
        await create_member(session, tenant, Role.educator, status=MembershipStatus.deactivated)
        await create_member(session, tenant, Role.student, status=MembershipStatus.deactivated)
        for role in Role:  # another institution's people never count here
            await create_member(session, other_tenant, role)
        await session.commit()

        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        engine = session.bind.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            counts = await member.count_by_role(session, auth_ctx)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements
        assert list(counts.by_role) == list(reversed(list(Role)))  # every role, admins first
        assert counts.by_role == {
            Role.institution_admin: 1,  # the caller
            Role.educator: 1,
            Role.teaching_assistant: 0,
            Role.student: 3,
        }
        assert counts.active == 5 and counts.deactivated == 2

    @pytest.mark.auth(role="educator")
    async def test_needs_members_read(self, auth_ctx, session):
        with pytest.raises(Forbidden):
            await member.count_by_role(session, auth_ctx)


class TestMembers:
    @pytest.mark.auth(role="institution_admin")
    async def test_list_filter_and_search(self, client, session, tenant, other_tenant):
        await create_member(session, tenant, Role.student, display_name="Zoe Student")
        await create_member(session, tenant, Role.educator, display_name="Eve Educator")
        await create_member(session, other_tenant, Role.student, display_name="Other Student")
        await session.commit()
        page = (await client.get("/api/v1/members")).json()
        assert page["total"] == 3  # the admin, Zoe and Eve; never the other tenant's people
        names = [m["display_name"] for m in (await client.get("/api/v1/members?role=student")).json()["items"]]
        assert names == ["Zoe Student"]
        assert (await client.get("/api/v1/members?q=eve")).json()["total"] == 1
        assert (await client.get("/api/v1/members?limit=1&offset=1")).json()["items"][0]["display_name"]

    @pytest.mark.auth(role="institution_admin")
    async def test_change_role_is_audited(self, client, session, tenant):
        _user, m = await create_member(session, tenant, Role.student)
        await session.commit()
        r = await client.patch(f"/api/v1/members/{m.id}", json={"role": "teaching_assistant"})
        assert r.status_code == 200 and r.json()["role"] == "teaching_assistant"
        ev = (await session.execute(select(AuditEvent).where(AuditEvent.action == "member.role_changed"))).scalar_one()
        assert ev.details == {"from": "student", "to": "teaching_assistant"} and ev.tenant_id == tenant.id

    @pytest.mark.auth(role="institution_admin")
    async def test_bad_role_leaves_member_unchanged(self, client, session, tenant):
        _, m = await create_member(session, tenant, Role.student)
        await session.commit()
        r = await client.patch(f"/api/v1/members/{m.id}", json={"role": "emperor"})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.role"
        await session.refresh(m)
        assert m.role == Role.student

    @pytest.mark.auth(role="institution_admin")
    async def test_the_last_admin_cannot_be_demoted_or_deactivated(self, client, session, auth_ctx):
        me = (await client.get("/api/v1/members?role=institution_admin")).json()["items"][0]
        r = await client.patch(f"/api/v1/members/{me['membership_id']}", json={"role": "educator"})
        assert r.status_code == 409 and r.json()["error"] == "LastAdmin"
        r = await client.post(f"/api/v1/members/{me['membership_id']}/deactivate")
        assert r.status_code == 409

    @pytest.mark.auth(role="institution_admin")
    async def test_other_tenants_members_are_not_found(self, client, session, other_tenant):
        _, m = await create_member(session, other_tenant, Role.student)
        await session.commit()
        for call in (
            client.get(f"/api/v1/members/{m.id}"),
            client.patch(f"/api/v1/members/{m.id}", json={"role": "educator"}),
            client.post(f"/api/v1/members/{m.id}/deactivate"),
        ):
            r = await call
            assert r.status_code == 404 and r.json()["error"] == "MembershipNotFound"
        await session.refresh(m)
        assert m.role == Role.student and m.status == "active"

    @pytest.mark.auth(role="institution_admin")
    async def test_branding(self, client, anon, tenant):
        r = await client.patch(
            "/api/v1/tenant/branding", json={"display_name": "Northfield", "primary_color": "#003366"}
        )
        assert r.status_code == 200
        pub = (await anon.get(f"/api/v1/tenants/{tenant.slug}")).json()
        assert pub["display_name"] == "Northfield" and pub["primary_color"] == "#003366" and "plan" not in pub
        r = await client.patch("/api/v1/tenant/branding", json={"logo_url": "javascript:alert(1)"})
        assert r.status_code == 422
