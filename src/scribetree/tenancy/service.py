"""Institutions, who belongs to them, how people get in, and what each may do there.

Every security-relevant change writes an audit entry in the same transaction (core.audit). Sign-in
failures must be recorded even though the request fails: their exceptions set ``commits_work`` so
the unit of work commits the bookkeeping before the error is answered (core.http).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock, mail
from scribetree.core.config import settings
from scribetree.core.errors import Forbidden, InvalidInput, ScribetreeError
from scribetree.core.ids import new_token
from scribetree.identity.exceptions import InvalidCredentials, LinkInvalid
from scribetree.identity.models import PlatformRole, User, UserSession
from scribetree.identity.service import digest, identity, normalize_email
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.exceptions import (
    AccountPasswordIncorrect,
    AccountPasswordRequired,
    AlreadyMember,
    InvitationNotFound,
    LastAdmin,
    MembershipNotFound,
    ScopeNotAllowed,
    SlugTaken,
    SupportAccessInvalid,
    TenantNotFound,
    TenantRequired,
    TenantSuspended,
)
from scribetree.tenancy.models import (
    Invitation,
    Membership,
    MembershipStatus,
    Role,
    SupportAccessGrant,
    Tenant,
    TenantStatus,
)
from scribetree.tenancy.permissions import ROLE_LABELS, ROLE_SCOPES, Permission, Scope
from scribetree.tenancy.repository import (
    InvitationRepository,
    MembershipRepository,
    SupportGrantRepository,
    TenantDirectory,
    UserMemberships,
)
from scribetree.tenancy.schemas import (
    BrandingUpdate,
    InvitationAccept,
    InvitationCreate,
    MemberCounts,
    MemberPage,
    MemberRead,
    SupportAccessCreate,
    TenantCreate,
    TenantUpdate,
)


def _entry(ctx: AuthContext | None, action: str, **kw: object) -> audit.Entry:
    if ctx is not None:
        kw.setdefault("tenant_id", ctx.tenant_id)
        kw.setdefault("actor_user_id", ctx.user_id)
        kw.setdefault("actor_label", ctx.actor_label)
        kw.setdefault("meta", ctx.meta)
    return audit.Entry(action=action, **kw)  # type: ignore[arg-type]


def tenant_base_url(tenant: Tenant) -> str:
    return f"https://{tenant.hostname}" if tenant.hostname else settings.BASE_URL.rstrip("/")


class TenantService:
    async def resolve(self, session: AsyncSession, *, slug: str | None = None, host: str | None = None) -> Tenant:
        """The tenant a signed-out visitor addresses, by URL slug or by the institution's host name."""
        directory = TenantDirectory(session)
        tenant = None
        if slug:
            tenant = await directory.by_slug(slug)
        elif host:
            tenant = await directory.by_hostname(host.split(":", 1)[0])
        if tenant is None:
            raise TenantNotFound()
        return tenant

    async def by_host(self, session: AsyncSession, host: str) -> Tenant | None:
        return await TenantDirectory(session).by_hostname(host.split(":", 1)[0])

    async def get(self, session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
        tenant = await TenantDirectory(session).get(tenant_id)
        if tenant is None:
            raise TenantNotFound()
        return tenant

    async def list_all(self, session: AsyncSession, ctx: AuthContext) -> list[Tenant]:
        _require(ctx, Permission.tenants_manage)
        return await TenantDirectory(session).listing()

    async def list_active(self, session: AsyncSession) -> list[Tenant]:
        return await TenantDirectory(session).listing(status=TenantStatus.active)

    async def ids(self, session: AsyncSession) -> list[uuid.UUID]:
        """For periodic jobs that fan out per tenant (STYLE N6)."""
        return await TenantDirectory(session).ids()

    async def member_counts(self, session: AsyncSession, ctx: AuthContext) -> dict[uuid.UUID, int]:
        _require(ctx, Permission.tenants_manage)
        return await TenantDirectory(session).member_counts()

    async def create(self, session: AsyncSession, ctx: AuthContext | None, data: TenantCreate) -> Tenant:
        """Create an institution (operators; ``ctx=None`` for the CLI). Optionally invite its first admin."""
        if ctx is not None:
            _require(ctx, Permission.tenants_manage)
        directory = TenantDirectory(session)
        if await directory.by_slug(data.slug) is not None:
            raise SlugTaken()
        if data.hostname and await directory.by_hostname(data.hostname) is not None:
            raise SlugTaken("Another institution already uses this host name.")
        tenant = await directory.add(
            Tenant(
                slug=data.slug,
                name=data.name,
                type=data.type,
                region=data.region,
                plan=data.plan,
                support_tier=data.support_tier,
                hostname=data.hostname,
                display_name=data.name,
                status=TenantStatus.onboarding,
            )
        )
        details = {"slug": tenant.slug, "name": tenant.name, "region": tenant.region, "plan": tenant.plan}
        await audit.record(
            session,
            _entry(
                ctx, "tenant.created", tenant_id=None, target_type="tenant", target_id=str(tenant.id), details=details
            ),
        )
        await audit.record(
            session,
            _entry(
                ctx,
                "tenant.created",
                tenant_id=tenant.id,
                target_type="tenant",
                target_id=str(tenant.id),
                details=details,
            ),
        )
        if data.admin_email:
            await member.invite(
                session,
                None,
                InvitationCreate(email=data.admin_email, role=Role.institution_admin),
                tenant=tenant,
                invited_by=ctx,
            )
        return tenant

    async def update(self, session: AsyncSession, ctx: AuthContext, tenant_id: uuid.UUID, data: TenantUpdate) -> Tenant:
        _require(ctx, Permission.tenants_manage)
        tenant = await TenantDirectory(session).get(tenant_id, for_update=True)
        if tenant is None:
            raise TenantNotFound()
        changes: dict[str, list[object]] = {}
        for field, value in data.model_dump(exclude_unset=True).items():
            if value is not None and getattr(tenant, field) != value:
                if field == "hostname":
                    other = await TenantDirectory(session).by_hostname(value)
                    if other is not None and other.id != tenant.id:
                        raise SlugTaken("Another institution already uses this host name.")
                changes[field] = [getattr(tenant, field), value]
                setattr(tenant, field, value)
        await session.flush()
        if changes:
            action = "tenant.updated"
            if "status" in changes:
                action = {"suspended": "tenant.suspended", "active": "tenant.activated"}.get(
                    str(changes["status"][1]), action
                )
            for chain in (None, tenant.id):
                await audit.record(
                    session,
                    _entry(
                        ctx,
                        action,
                        tenant_id=chain,
                        target_type="tenant",
                        target_id=str(tenant.id),
                        details={"changes": changes},
                    ),
                )
        return tenant

    async def update_branding(self, session: AsyncSession, ctx: AuthContext, data: BrandingUpdate) -> Tenant:
        _require(ctx, Permission.tenant_settings_write)
        tenant = await self.get(session, _tenant(ctx))
        changes = {}
        for field, value in data.model_dump(exclude_unset=True).items():
            if getattr(tenant, field) != value:
                changes[field] = [getattr(tenant, field), value]
                setattr(tenant, field, value)
        await session.flush()
        if changes:
            await audit.record(
                session,
                _entry(
                    ctx,
                    "tenant.branding_changed",
                    target_type="tenant",
                    target_id=str(tenant.id),
                    details={"changes": changes},
                ),
            )
        return tenant


class MemberService:
    async def list_members(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        *,
        role: Role | None = None,
        status: MembershipStatus | None = None,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> MemberPage:
        _require(ctx, Permission.members_read)
        rows, total = await MembershipRepository(session, _tenant(ctx)).with_users(
            role=role, status=status, query=query, limit=limit, offset=offset
        )
        return MemberPage(items=[_member(m, u) for m, u in rows], total=total, limit=limit, offset=offset)

    async def count_by_role(self, session: AsyncSession, ctx: AuthContext) -> MemberCounts:
        """Active members per role (every role, admins first), all active, and deactivated: one query."""
        _require(ctx, Permission.members_read)
        counts = await MembershipRepository(session, _tenant(ctx)).count_by_role()
        active = counts.get(MembershipStatus.active, {})
        by_role = {role: active.get(role, 0) for role in reversed(list(Role))}
        return MemberCounts(
            by_role=by_role,
            active=sum(by_role.values()),
            deactivated=sum(counts.get(MembershipStatus.deactivated, {}).values()),
        )

    async def get_member(self, session: AsyncSession, ctx: AuthContext, membership_id: uuid.UUID) -> MemberRead:
        _require(ctx, Permission.members_read)
        m = await MembershipRepository(session, _tenant(ctx)).get(membership_id)
        if m is None:
            raise MembershipNotFound()
        u = await identity.get_user(session, m.user_id)
        assert u is not None
        return _member(m, u)

    async def add_member(
        self, session: AsyncSession, tenant_id: uuid.UUID, user: User, role: Role, *, ctx: AuthContext | None = None
    ) -> Membership:
        repo = MembershipRepository(session, tenant_id)
        existing = await repo.for_user(user.id)
        if existing is not None:
            if existing.status == MembershipStatus.active:
                raise AlreadyMember()
            existing.status, existing.role = MembershipStatus.active, role
            await session.flush()
            m = existing
        else:
            m = await repo.add(Membership(tenant_id=tenant_id, user_id=user.id, role=role))
        await audit.record(
            session,
            _entry(
                ctx,
                "member.added",
                tenant_id=tenant_id,
                target_type="user",
                target_id=str(user.id),
                details={"email": user.email, "role": role},
            ),
        )
        return m

    async def invite(
        self,
        session: AsyncSession,
        ctx: AuthContext | None,
        data: InvitationCreate,
        *,
        tenant: Tenant | None = None,
        invited_by: AuthContext | None = None,
    ) -> Invitation:
        """Email a one-time invitation link. ``ctx=None`` only for operator/CLI bootstrap (with ``tenant``)."""
        if ctx is not None:
            _require(ctx, Permission.members_write)
            tenant = await tenant_service.get(session, _tenant(ctx))
        assert tenant is not None
        email = normalize_email(str(data.email))
        existing_user = await identity.get_by_email(session, email)
        if existing_user is not None:
            m = await MembershipRepository(session, tenant.id).for_user(existing_user.id)
            if m is not None and m.status == MembershipStatus.active:
                raise AlreadyMember()
        now = clock.utcnow()
        repo = InvitationRepository(session, tenant.id)
        for old in await repo.open_for_email(email, now):  # the newest invitation replaces older ones
            old.revoked_at = now
        token = new_token(32)
        actor = ctx or invited_by
        inv = await repo.add(
            Invitation(
                tenant_id=tenant.id,
                email=email,
                role=data.role,
                token_hash=digest(token),
                invited_by_id=actor.user_id if actor else None,
                expires_at=now + timedelta(days=settings.INVITE_LINK_DAYS),
            )
        )
        link = f"{tenant_base_url(tenant)}/invite/{token}"
        inviter = actor.display_name if actor else "The Scribe Tree team"
        await mail.send_mail(
            session,
            to=email,
            tenant_id=tenant.id,
            subject=f"You are invited to {tenant.display_name or tenant.name} on Scribe Tree",
            body=(
                f"{inviter} invited you to join {tenant.display_name or tenant.name} on Scribe Tree as "
                f"{ROLE_LABELS[data.role].lower()}.\n\nAccept the invitation here (the link works once and "
                f"expires in {settings.INVITE_LINK_DAYS} days):\n\n{link}\n\nIf you did not expect this, "
                "you can ignore this email.\n"
            ),
        )
        await audit.record(
            session,
            _entry(
                actor,
                "member.invited",
                tenant_id=tenant.id,
                target_type="invitation",
                target_id=str(inv.id),
                details={"email": email, "role": data.role},
            ),
        )
        return inv

    async def list_invitations(self, session: AsyncSession, ctx: AuthContext) -> list[Invitation]:
        _require(ctx, Permission.members_read)
        return await InvitationRepository(session, _tenant(ctx)).pending(clock.utcnow())

    async def revoke_invitation(self, session: AsyncSession, ctx: AuthContext, invitation_id: uuid.UUID) -> Invitation:
        _require(ctx, Permission.members_write)
        inv = await InvitationRepository(session, _tenant(ctx)).get(invitation_id)
        if inv is None:
            raise InvitationNotFound()
        if inv.revoked_at is None and inv.accepted_at is None:
            inv.revoked_at = clock.utcnow()
            await session.flush()
            await audit.record(
                session,
                _entry(
                    ctx,
                    "member.invitation_revoked",
                    target_type="invitation",
                    target_id=str(inv.id),
                    details={"email": inv.email},
                ),
            )
        return inv

    async def open_invitation(self, session: AsyncSession, token: str) -> tuple[Invitation, Tenant, User | None]:
        inv = await InvitationRepository.by_token_hash(session, digest(token)) if token else None
        if inv is None or inv.accepted_at or inv.revoked_at or inv.expires_at <= clock.utcnow():
            raise LinkInvalid()
        tenant = await tenant_service.get(session, inv.tenant_id)
        if tenant.status == TenantStatus.suspended:
            raise TenantSuspended()
        return inv, tenant, await identity.get_by_email(session, inv.email)

    async def accept_invitation(
        self, read: AsyncSession, write: AsyncSession, data: InvitationAccept, meta: audit.RequestMeta
    ) -> tuple[str, AuthContext]:
        """Join the tenant and sign in. A new person sets name and password; an existing account proves itself
        with its current password, checked like a sign-in (same lockout, failures audited and kept)."""
        inv, tenant, user = await self.open_invitation(read, data.token)
        existing = user is not None
        if user is None:
            if not data.password or not data.display_name:
                raise InvalidInput("Enter your name and choose a password to create your account.")
        else:
            user = await self._prove_account(read, write, inv, user, data.current_password, meta)
        # The password check ran before any write (SQLite has one writer); now re-read the invitation under a
        # lock, so a link used twice at the same moment joins once.
        inv = await InvitationRepository(write, tenant.id).get(inv.id, for_update=True)
        if inv is None or inv.accepted_at or inv.revoked_at or inv.expires_at <= clock.utcnow():
            raise LinkInvalid()
        if user is None:
            assert data.password and data.display_name
            user = await identity.create_user(
                write, email=inv.email, display_name=data.display_name, password=data.password
            )
        inv.accepted_at = clock.utcnow()
        await write.flush()
        m = await self.add_member(write, tenant.id, user, inv.role)
        await audit.record(
            write,
            audit.Entry(
                action="member.invitation_accepted",
                tenant_id=tenant.id,
                actor_user_id=user.id,
                actor_label=user.email,
                target_type="invitation",
                target_id=str(inv.id),
                meta=meta,
                details={"role": inv.role, "account": "existing" if existing else "new"},
            ),
        )
        token, row = await identity.start_session(write, user=user, tenant_id=tenant.id, meta=meta)
        return token, _ctx(user, tenant, m.role, row, meta)

    async def _prove_account(
        self,
        read: AsyncSession,
        write: AsyncSession,
        inv: Invitation,
        user: User,
        current_password: str | None,
        meta: audit.RequestMeta,
    ) -> User:
        if not current_password:
            raise AccountPasswordRequired()
        try:
            return await identity.authenticate(read, write, inv.email, current_password)
        except ScribetreeError as exc:  # wrong password, locked, inactive: kept like a failed sign-in
            await audit.record(
                write,
                audit.Entry(
                    action="member.invitation_accepted",
                    outcome="failure",
                    tenant_id=inv.tenant_id,
                    actor_user_id=user.id,
                    actor_label=user.email,
                    target_type="invitation",
                    target_id=str(inv.id),
                    meta=meta,
                    details={"reason": exc.code},
                ),
            )
            if isinstance(exc, InvalidCredentials):
                raise AccountPasswordIncorrect(commits_work=True, user_id=user.id) from exc
            exc.commits_work = True
            raise

    async def change_role(
        self, session: AsyncSession, ctx: AuthContext, membership_id: uuid.UUID, role: Role
    ) -> MemberRead:
        _require(ctx, Permission.members_write)
        repo = MembershipRepository(session, _tenant(ctx))
        m = await repo.get(membership_id, for_update=True)
        if m is None:
            raise MembershipNotFound()
        before = m.role
        if (
            before == Role.institution_admin
            and role != Role.institution_admin
            and m.status == MembershipStatus.active
            and await repo.active_admin_count() <= 1
        ):
            raise LastAdmin()
        if before != role:
            m.role = role
            await session.flush()
            await audit.record(
                session,
                _entry(
                    ctx,
                    "member.role_changed",
                    target_type="user",
                    target_id=str(m.user_id),
                    details={"from": before, "to": role},
                ),
            )
        u = await identity.get_user(session, m.user_id)
        assert u is not None
        return _member(m, u)

    async def set_status(
        self, session: AsyncSession, ctx: AuthContext, membership_id: uuid.UUID, status: MembershipStatus
    ) -> MemberRead:
        _require(ctx, Permission.members_write)
        repo = MembershipRepository(session, _tenant(ctx))
        m = await repo.get(membership_id, for_update=True)
        if m is None:
            raise MembershipNotFound()
        if m.status != status:
            if (
                status == MembershipStatus.deactivated
                and m.role == Role.institution_admin
                and await repo.active_admin_count() <= 1
            ):
                raise LastAdmin()
            m.status = status
            await session.flush()
            if status == MembershipStatus.deactivated:
                await identity.end_tenant_access(session, m.tenant_id, m.user_id)
            action = "member.deactivated" if status == MembershipStatus.deactivated else "member.reactivated"
            await audit.record(session, _entry(ctx, action, target_type="user", target_id=str(m.user_id)))
        u = await identity.get_user(session, m.user_id)
        assert u is not None
        return _member(m, u)

    async def memberships_of(self, session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Membership, Tenant]]:
        return await UserMemberships(session).of_user(user_id)


class AccessService:
    """Sign-in, sessions, API tokens and support access: turning credentials into an AuthContext."""

    async def sign_in(
        self,
        read: AsyncSession,
        write: AsyncSession,
        tenant: Tenant,
        email: str,
        password: str,
        meta: audit.RequestMeta,
    ) -> tuple[str, UserSession, AuthContext]:
        email = normalize_email(email)
        fail = audit.Entry(
            action="auth.signin", outcome="failure", tenant_id=tenant.id, actor_label=email[:320], meta=meta
        )
        if tenant.status == TenantStatus.suspended:
            fail.details = {"reason": "tenant_suspended"}
            await audit.record(write, fail)
            raise TenantSuspended(commits_work=True)
        try:
            user = await identity.authenticate(read, write, email, password)
        except ScribetreeError as exc:  # wrong password, unknown account, locked
            fail.actor_user_id = exc.extra.get("user_id")
            fail.details = {"reason": exc.code}
            await audit.record(write, fail)
            exc.commits_work = True
            raise
        # Through the write session: it holds the (SQLite: only) writer now, and waiting for a read connection
        # while holding it stalls every other writer behind the read pool's queue.
        m = await MembershipRepository(write, tenant.id).for_user(user.id)
        if m is None or m.status != MembershipStatus.active:
            fail.actor_user_id, fail.details = user.id, {"reason": "not_a_member"}
            await audit.record(write, fail)
            raise InvalidCredentials(commits_work=True)
        token, row = await identity.start_session(write, user=user, tenant_id=tenant.id, meta=meta)
        ctx = _ctx(user, tenant, m.role, row, meta)
        await audit.record(write, _entry(ctx, "auth.signin", target_type="session", target_id=str(row.id)))
        return token, row, ctx

    async def sign_in_platform(
        self, read: AsyncSession, write: AsyncSession, email: str, password: str, meta: audit.RequestMeta
    ) -> tuple[str, UserSession, AuthContext]:
        """Operators and support staff sign in to the platform area, outside any tenant."""
        email = normalize_email(email)
        fail = audit.Entry(action="auth.signin", outcome="failure", actor_label=email[:320], meta=meta)
        try:
            user = await identity.authenticate(read, write, email, password)
        except ScribetreeError as exc:
            fail.actor_user_id = exc.extra.get("user_id")
            fail.details = {"reason": exc.code, "area": "platform"}
            await audit.record(write, fail)
            exc.commits_work = True
            raise
        if user.platform_role is None:
            fail.actor_user_id, fail.details = user.id, {"reason": "no_platform_role", "area": "platform"}
            await audit.record(write, fail)
            raise InvalidCredentials(commits_work=True)
        token, row = await identity.start_session(write, user=user, tenant_id=None, meta=meta)
        ctx = _ctx(user, None, None, row, meta)
        await audit.record(
            write,
            _entry(ctx, "auth.signin", target_type="session", target_id=str(row.id), details={"area": "platform"}),
        )
        return token, row, ctx

    async def context_from_session(
        self, session: AsyncSession, token: str, meta: audit.RequestMeta
    ) -> AuthContext | None:
        found = await identity.resolve_session(session, token)
        if found is None:
            return None
        row, user = found
        if row.tenant_id is None:
            return _ctx(user, None, None, row, meta) if user.platform_role else None
        tenant = await TenantDirectory(session).get(row.tenant_id)
        if tenant is None or tenant.status == TenantStatus.suspended:
            return None
        if row.support_grant_id is not None:
            grant = await SupportGrantRepository(session, tenant.id).get(row.support_grant_id)
            if (
                grant is None
                or grant.ended_at
                or grant.expires_at <= clock.utcnow()
                or user.platform_role != PlatformRole.support
            ):
                return None
            return _ctx(user, tenant, None, row, meta, support_grant_id=grant.id)
        m = await MembershipRepository(session, tenant.id).for_user(user.id)
        if m is None or m.status != MembershipStatus.active:
            return None
        return _ctx(user, tenant, m.role, row, meta)

    async def context_from_token(
        self, session: AsyncSession, secret: str, meta: audit.RequestMeta
    ) -> AuthContext | None:
        found = await identity.resolve_token(session, secret)
        if found is None:
            return None
        token, user = found
        tenant = await TenantDirectory(session).get(token.tenant_id)
        if tenant is None or tenant.status == TenantStatus.suspended:
            return None
        m = await MembershipRepository(session, tenant.id).for_user(user.id)
        if m is None or m.status != MembershipStatus.active:
            return None
        scopes = frozenset(Scope(s) for s in token.scopes if s in Scope.__members__) & ROLE_SCOPES[m.role]
        return AuthContext(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            tenant_id=tenant.id,
            tenant_slug=tenant.slug,
            role=m.role,
            platform_role=None,
            via="token",
            scopes=scopes,
            token_id=token.id,
            meta=meta,
        )

    async def sign_out(self, session: AsyncSession, ctx: AuthContext) -> None:
        if ctx.session_id is not None:
            await identity.end_session_by_id(session, ctx.session_id)
        await audit.record(session, _entry(ctx, "auth.signout", target_type="session", target_id=str(ctx.session_id)))

    async def sign_out_everywhere(self, session: AsyncSession, ctx: AuthContext) -> None:
        await identity.sign_out_everywhere(session, ctx.user_id)
        await audit.record(
            session, _entry(ctx, "auth.signout_everywhere", target_type="user", target_id=str(ctx.user_id))
        )

    # ---- tokens ----

    async def create_token(
        self, session: AsyncSession, ctx: AuthContext, *, name: str, scopes: list[str], expires_in_days: int
    ) -> tuple[str, object]:
        _require(ctx, Permission.profile_write)
        if ctx.tenant_id is None or ctx.role is None or ctx.is_support_session:
            raise Forbidden("API tokens belong to a membership in an institution; sign in to your institution first.")
        wanted = set(scopes)
        allowed = {s.value for s in ROLE_SCOPES[ctx.role]}
        unknown = wanted - {s.value for s in Scope}
        if unknown:
            known = ", ".join(s.value for s in Scope)
            raise ScopeNotAllowed(f"Unknown scope(s): {', '.join(sorted(unknown))}. Use one of: {known}.")
        if not wanted <= allowed:
            raise ScopeNotAllowed(f"Your role can grant only: {', '.join(sorted(allowed))}.")
        secret, row = await identity.create_token(
            session,
            tenant_id=ctx.tenant_id,
            user_id=ctx.user_id,
            name=name,
            scopes=sorted(wanted),
            expires_in_days=expires_in_days,
        )
        await audit.record(
            session,
            _entry(
                ctx,
                "token.created",
                target_type="api_token",
                target_id=str(row.id),
                details={"name": name, "scopes": sorted(wanted), "days": expires_in_days},
            ),
        )
        return secret, row

    async def list_tokens(self, session: AsyncSession, ctx: AuthContext) -> list:
        _require(ctx, Permission.profile_read)
        if ctx.tenant_id is None:
            return []
        return await identity.list_tokens(session, ctx.tenant_id, ctx.user_id)

    async def revoke_token(self, session: AsyncSession, ctx: AuthContext, token_id: uuid.UUID) -> object:
        _require(ctx, Permission.profile_write)
        row = await identity.revoke_token(session, _tenant(ctx), ctx.user_id, token_id)
        await audit.record(session, _entry(ctx, "token.revoked", target_type="api_token", target_id=str(row.id)))
        return row

    # ---- passwords ----

    async def request_reset(
        self, session: AsyncSession, email: str, meta: audit.RequestMeta, tenant: Tenant | None = None
    ) -> None:
        """Email a reset link if the account exists; the answer is the same either way."""
        found = await identity.start_reset(session, email)
        if found is None:
            return
        user, token = found
        base = tenant_base_url(tenant) if tenant else settings.BASE_URL.rstrip("/")
        await mail.send_mail(
            session,
            to=user.email,
            subject="Reset your Scribe Tree password",
            body=(
                f"Hello {user.display_name},\n\nSomeone (hopefully you) asked to reset your Scribe Tree password. "
                f"Choose a new one here (the link works once and expires in {settings.RESET_LINK_MINUTES} "
                f"minutes):\n\n{base}/reset/{token}\n\nIf you did not ask for this, ignore this email; your "
                "password stays as it is.\n"
            ),
        )
        await audit.record(
            session,
            audit.Entry(
                action="auth.password_reset_requested", actor_user_id=user.id, actor_label=user.email, meta=meta
            ),
        )

    async def complete_reset(
        self, session: AsyncSession, token: str, new_password: str, meta: audit.RequestMeta
    ) -> User:
        user = await identity.complete_reset(session, token, new_password)
        await audit.record(
            session, audit.Entry(action="auth.password_reset", actor_user_id=user.id, actor_label=user.email, meta=meta)
        )
        return user

    async def change_password(
        self, read: AsyncSession, write: AsyncSession, ctx: AuthContext, current: str, new: str
    ) -> None:
        _require(ctx, Permission.profile_write)
        user = await identity.get_user(read, ctx.user_id)
        assert user is not None
        await identity.change_password(read, write, user, current, new, keep_session_id=ctx.session_id)
        await audit.record(write, _entry(ctx, "auth.password_changed", target_type="user", target_id=str(user.id)))

    # ---- support access ----

    async def enter_as_support(
        self, session: AsyncSession, ctx: AuthContext, data: SupportAccessCreate
    ) -> tuple[str, SupportAccessGrant, Tenant]:
        """Open a time-boxed, read-only support session in a tenant; its admins see the grant and reason."""
        _require(ctx, Permission.support_enter)
        if data.minutes > settings.SUPPORT_ACCESS_MAX_MINUTES:
            raise SupportAccessInvalid(f"Support access lasts at most {settings.SUPPORT_ACCESS_MAX_MINUTES} minutes.")
        tenant = await tenant_service.resolve(session, slug=data.tenant_slug)
        user = await identity.get_user(session, ctx.user_id)
        assert user is not None
        now = clock.utcnow()
        grant = await SupportGrantRepository(session, tenant.id).add(
            SupportAccessGrant(
                tenant_id=tenant.id,
                support_user_id=user.id,
                reason=data.reason,
                expires_at=now + timedelta(minutes=data.minutes),
            )
        )
        token, _row = await identity.start_session(
            session,
            user=user,
            tenant_id=tenant.id,
            meta=ctx.meta,
            support_grant_id=grant.id,
            lifetime=timedelta(minutes=data.minutes),
        )
        details = {"reason": data.reason, "minutes": data.minutes, "grant_id": str(grant.id)}
        await audit.record(
            session,
            _entry(
                ctx,
                "support.access_started",
                tenant_id=tenant.id,
                target_type="support_grant",
                target_id=str(grant.id),
                details=details,
            ),
        )
        await audit.record(
            session,
            _entry(
                ctx,
                "support.access_started",
                tenant_id=None,
                target_type="tenant",
                target_id=str(tenant.id),
                details=details,
            ),
        )
        return token, grant, tenant

    async def end_support(self, session: AsyncSession, ctx: AuthContext) -> None:
        if ctx.support_grant_id is None or ctx.tenant_id is None:
            raise Forbidden("This is not a support session.")
        grant = await SupportGrantRepository(session, ctx.tenant_id).get(ctx.support_grant_id)
        if grant is not None and grant.ended_at is None:
            grant.ended_at = clock.utcnow()
        if ctx.session_id:
            await identity.end_session_by_id(session, ctx.session_id)
        await audit.record(
            session,
            _entry(ctx, "support.access_ended", target_type="support_grant", target_id=str(ctx.support_grant_id)),
        )

    async def list_support_grants(self, session: AsyncSession, ctx: AuthContext) -> list[dict]:
        _require(ctx, Permission.support_grants_read)
        grants = await SupportGrantRepository(session, _tenant(ctx)).recent()
        users = await identity.users_by_ids(session, list({g.support_user_id for g in grants}))
        return [
            {
                **{
                    k: getattr(g, k)
                    for k in ("id", "support_user_id", "reason", "created_at", "expires_at", "ended_at")
                },
                "support_email": users[g.support_user_id].email if g.support_user_id in users else None,
            }
            for g in grants
        ]


def _ctx(
    user: User,
    tenant: Tenant | None,
    role: Role | None,
    row: UserSession,
    meta: audit.RequestMeta,
    support_grant_id: uuid.UUID | None = None,
) -> AuthContext:
    return AuthContext(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        tenant_id=tenant.id if tenant else None,
        tenant_slug=tenant.slug if tenant else None,
        role=role,
        platform_role=user.platform_role,
        via="session",
        session_id=row.id,
        support_grant_id=support_grant_id,
        meta=meta,
    )


def _member(m: Membership, u: User) -> MemberRead:
    return MemberRead(
        membership_id=m.id,
        user_id=u.id,
        email=u.email,
        display_name=u.display_name,
        role=m.role,
        status=m.status,
        joined_at=m.created_at,
        last_signin_at=u.last_signin_at,
    )


def _tenant(ctx: AuthContext) -> uuid.UUID:
    """The caller's tenant. A platform session is signed in (so not 401) but has none here: 403."""
    if ctx.tenant_id is None:
        raise TenantRequired()
    return ctx.tenant_id


def _require(ctx: AuthContext, permission: Permission) -> None:
    """Services re-check what the route declared (defence in depth for MCP and jobs)."""
    if not ctx.can(permission):
        raise Forbidden()


tenant_service = TenantService()
member = MemberService()
access = AccessService()
