"""JSON API: sign-in and sessions, the caller's account and tokens, invitations, members, institutions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from scribetree.core import ratelimit
from scribetree.core.config import settings
from scribetree.core.errors import ErrorBody
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, request_meta
from scribetree.identity.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    PasswordChange,
    ResetComplete,
    ResetRequest,
)
from scribetree.tenancy import auth
from scribetree.tenancy.models import MembershipStatus, Role, Tenant
from scribetree.tenancy.schemas import (
    BrandingUpdate,
    InvitationAccept,
    InvitationCreate,
    InvitationPreview,
    InvitationRead,
    MemberPage,
    MemberRead,
    MemberUpdate,
    MeRead,
    SessionStarted,
    SignIn,
    SupportAccessCreate,
    SupportGrantRead,
    TenantCreate,
    TenantPublic,
    TenantRead,
    TenantUpdate,
)
from scribetree.tenancy.service import access, member, tenant_service

E401 = {401: {"model": ErrorBody, "description": "No valid credential"}}
E403 = {403: {"model": ErrorBody, "description": "Your role does not allow this"}}
E404 = {404: {"model": ErrorBody, "description": "Not found (or not yours)"}}
E409 = {409: {"model": ErrorBody, "description": "Conflicts with the current state"}}
E429 = {429: {"model": ErrorBody, "description": "Too many attempts; see Retry-After"}}

router = APIRouter(route_class=UnitOfWorkRoute)


# ---- sessions -----------------------------------------------------------------------------------------


@router.get(
    "/tenants/{slug}", response_model=TenantPublic, operation_id="tenants:public", responses=E404, tags=["sign-in"]
)
async def get_public_tenant(slug: str, session: ReadSession) -> Tenant:
    """An institution's name and branding, for its sign-in page. Needs no credential."""
    return await tenant_service.resolve(session, slug=slug)


@router.post(
    "/tenants/{slug}/session",
    response_model=SessionStarted,
    operation_id="session:signin",
    responses={**E401, **E404, **E429},
    tags=["sign-in"],
)
async def sign_in(
    slug: str, body: SignIn, request: Request, response: Response, read: ReadSession, write: WriteSession
) -> SessionStarted:
    """Sign in to an institution with email and password; sets the HttpOnly session cookie.

    Repeated failures lock the account for a growing time (see ``Retry-After``). Use the returned
    ``csrf_token`` as ``X-CSRF-Token`` on state-changing requests made with the cookie.
    """
    await auth.signin_limits(request)
    tenant = await tenant_service.resolve(read, slug=slug)
    token, _row, ctx = await access.sign_in(read, write, tenant, body.email, body.password, request_meta(request))
    return auth.started(response, token, ctx)


@router.post(
    "/session",
    response_model=SessionStarted,
    operation_id="session:signin_by_host",
    responses={**E401, **E404, **E429},
    tags=["sign-in"],
)
async def sign_in_by_host(
    body: SignIn, request: Request, response: Response, read: ReadSession, write: WriteSession
) -> SessionStarted:
    """Sign in to the institution that owns this host name (e.g. ``writing.northfield.edu``)."""
    await auth.signin_limits(request)
    tenant = await tenant_service.resolve(read, host=request.headers.get("host", ""))
    token, _row, ctx = await access.sign_in(read, write, tenant, body.email, body.password, request_meta(request))
    return auth.started(response, token, ctx)


@router.post(
    "/platform/session",
    response_model=SessionStarted,
    operation_id="session:signin_platform",
    responses={**E401, **E429},
    tags=["sign-in"],
)
async def sign_in_platform(
    body: SignIn, request: Request, response: Response, read: ReadSession, write: WriteSession
) -> SessionStarted:
    """Sign in as platform staff (operator or support), outside any institution."""
    await auth.signin_limits(request)
    token, _row, ctx = await access.sign_in_platform(read, write, body.email, body.password, request_meta(request))
    return auth.started(response, token, ctx)


@router.delete(
    "/session", status_code=status.HTTP_204_NO_CONTENT, operation_id="session:signout", responses=E401, tags=["sign-in"]
)
async def sign_out(ctx: auth.Signed, response: Response, session: WriteSession) -> None:
    """End this session."""
    await access.sign_out(session, ctx)
    auth.clear_session_cookie(response)


@router.post(
    "/session/signout-everywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="session:signout_everywhere",
    responses=E401,
    tags=["sign-in"],
)
async def sign_out_everywhere(ctx: auth.ProfileWrite, response: Response, session: WriteSession) -> None:
    """End every session and invalidate every API token of your account, on every device."""
    await access.sign_out_everywhere(session, ctx)
    auth.clear_session_cookie(response)


# ---- me -----------------------------------------------------------------------------------------------


@router.get("/me", response_model=MeRead, operation_id="me:get", responses=E401, tags=["account"])
async def get_me(ctx: auth.Signed, session: ReadSession) -> MeRead:
    """Who you are signed in as, where, and what you may do."""
    tenant = await tenant_service.get(session, ctx.tenant_id) if ctx.tenant_id else None
    return MeRead(
        user_id=ctx.user_id,
        email=ctx.email,
        display_name=ctx.display_name,
        role=ctx.role,
        platform_role=ctx.platform_role,
        tenant=TenantPublic.model_validate(tenant) if tenant else None,
        via=ctx.via,
        scopes=sorted(ctx.scopes),
        permissions=sorted(ctx.permissions),
        support_session=ctx.is_support_session,
    )


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="me:change_password",
    responses={**E401, 422: {"model": ErrorBody}},
    tags=["account"],
)
async def change_password(body: PasswordChange, ctx: auth.ProfileWrite, read: ReadSession, write: WriteSession) -> None:
    """Change your password. This session stays signed in; every other session of yours ends and open reset links
    stop working. Your API tokens keep working (revoke them with ``DELETE /me/tokens/{id}``)."""
    await access.change_password(read, write, ctx, body.current_password, body.new_password)


@router.get(
    "/me/tokens", response_model=list[ApiTokenRead], operation_id="tokens:list", responses=E401, tags=["account"]
)
async def list_tokens(ctx: auth.TenantSigned, session: ReadSession) -> list:
    """Your personal API tokens in this institution (never the secrets)."""
    return await access.list_tokens(session, ctx)


@router.post(
    "/me/tokens",
    response_model=ApiTokenCreated,
    status_code=status.HTTP_201_CREATED,
    operation_id="tokens:create",
    responses={**E401, **E403, 422: {"model": ErrorBody}},
    tags=["account"],
)
async def create_token(body: ApiTokenCreate, ctx: auth.TenantProfileWrite, session: WriteSession) -> ApiTokenCreated:
    """Create a personal API token. The secret is in this response only: store it now."""
    secret, row = await access.create_token(
        session, ctx, name=body.name, scopes=body.scopes, expires_in_days=body.expires_in_days
    )
    return ApiTokenCreated.model_validate({**ApiTokenRead.model_validate(row).model_dump(), "token": secret})


@router.delete(
    "/me/tokens/{token_id}",
    response_model=ApiTokenRead,
    operation_id="tokens:revoke",
    responses={**E401, **E403, **E404},
    tags=["account"],
)
async def revoke_token(token_id: uuid.UUID, ctx: auth.TenantProfileWrite, session: WriteSession) -> object:
    """Revoke one of your tokens; it stops working at once."""
    return await access.revoke_token(session, ctx, token_id)


# ---- password reset and invitations (no credential: the link is the credential) ------------------------


@router.post(
    "/password-resets",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="password_resets:request",
    responses=E429,
    tags=["sign-in"],
)
async def request_password_reset(body: ResetRequest, request: Request, session: WriteSession) -> dict[str, str]:
    """Email a one-time reset link if an account exists. The answer is the same either way."""
    ip = request.client.host if request.client else "unknown"
    await ratelimit.hit(settings.RATE_LIMIT_RESET, "reset-ip", ip, "Too many reset requests from your network.")
    await ratelimit.hit(
        settings.RATE_LIMIT_RESET, "reset-email", str(body.email).lower(), "Too many reset requests for this address."
    )
    await access.request_reset(session, str(body.email), request_meta(request))
    return {
        "detail": "If an account uses this address, a reset link is on its way. It expires in "
        f"{settings.RESET_LINK_MINUTES} minutes."
    }


@router.post(
    "/password-resets/complete",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="password_resets:complete",
    responses={400: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    tags=["sign-in"],
)
async def complete_password_reset(body: ResetComplete, request: Request, session: WriteSession) -> None:
    """Set a new password with a reset link's token. Every session of the account ends."""
    await access.complete_reset(session, body.token, body.new_password, request_meta(request))


@router.get(
    "/invitation-links/{token}",
    response_model=InvitationPreview,
    operation_id="invitations:preview",
    responses={400: {"model": ErrorBody}},
    tags=["sign-in"],
)
async def preview_invitation(token: str, session: ReadSession) -> InvitationPreview:
    """What an invitation link offers: the institution, the role, and whether the email already has an account
    (``existing_account``: then accepting needs that account's current password)."""
    inv, tenant, user = await member.open_invitation(session, token)
    existing = user is not None
    return InvitationPreview(
        email=inv.email,
        role=inv.role,
        tenant=TenantPublic.model_validate(tenant),
        existing_account=existing,
        has_account=existing,
    )


@router.post(
    "/invitation-links/accept",
    response_model=SessionStarted,
    operation_id="invitations:accept",
    responses={
        400: {"model": ErrorBody},
        401: {"model": ErrorBody, "description": "AccountPasswordIncorrect: not the account's current password"},
        422: {"model": ErrorBody, "description": "AccountPasswordRequired, or a new account's name/password"},
        **E429,
    },
    tags=["sign-in"],
)
async def accept_invitation(
    body: InvitationAccept, request: Request, response: Response, read: ReadSession, write: WriteSession
) -> SessionStarted:
    """Accept an invitation; the response signs you in.

    New people give ``display_name`` and a new ``password``. When the email already has an account (the
    preview says ``existing_account``), send that account's ``current_password`` instead: it is checked like
    a sign-in (the same rate limit and lockout; failures are audited) and nothing is joined until it matches.
    """
    if body.current_password is not None:
        await auth.signin_limits(request)
    token, ctx = await member.accept_invitation(read, write, body, request_meta(request))
    return auth.started(response, token, ctx)


# ---- the institution --------------------------------------------------------------------------------------


@router.get("/tenant", response_model=TenantRead, operation_id="tenant:get", responses=E401, tags=["institution"])
async def get_tenant(ctx: auth.TenantSigned, session: ReadSession) -> Tenant:
    """Your institution."""
    return await tenant_service.get(session, ctx.tenant_id)  # type: ignore[arg-type]


@router.patch(
    "/tenant/branding",
    response_model=TenantRead,
    operation_id="tenant:update_branding",
    responses={**E401, **E403},
    tags=["institution"],
)
async def update_branding(body: BrandingUpdate, ctx: auth.TenantSettingsWrite, session: WriteSession) -> Tenant:
    """Change the institution's display name, logo and colours (admins)."""
    return await tenant_service.update_branding(session, ctx, body)


@router.get(
    "/members", response_model=MemberPage, operation_id="members:list", responses={**E401, **E403}, tags=["institution"]
)
async def list_members(
    ctx: auth.MembersRead,
    session: ReadSession,
    role: Role | None = None,
    status: MembershipStatus | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MemberPage:
    """Members of your institution, filtered by role, status or a name/email search (admins)."""
    return await member.list_members(session, ctx, role=role, status=status, query=q, limit=limit, offset=offset)


@router.get(
    "/members/{membership_id}",
    response_model=MemberRead,
    operation_id="members:get",
    responses={**E401, **E403, **E404},
    tags=["institution"],
)
async def get_member(membership_id: uuid.UUID, ctx: auth.MembersRead, session: ReadSession) -> MemberRead:
    """One member (admins)."""
    return await member.get_member(session, ctx, membership_id)


@router.patch(
    "/members/{membership_id}",
    response_model=MemberRead,
    operation_id="members:update",
    responses={**E401, **E403, **E404, **E409},
    tags=["institution"],
)
async def change_member_role(
    membership_id: uuid.UUID, body: MemberUpdate, ctx: auth.MembersWrite, session: WriteSession
) -> MemberRead:
    """Change a member's role. The last active admin cannot be demoted."""
    return await member.change_role(session, ctx, membership_id, body.role)


@router.post(
    "/members/{membership_id}/deactivate",
    response_model=MemberRead,
    operation_id="members:deactivate",
    responses={**E401, **E403, **E404, **E409},
    tags=["institution"],
)
async def deactivate_member(membership_id: uuid.UUID, ctx: auth.MembersWrite, session: WriteSession) -> MemberRead:
    """Deactivate a member: their sessions and tokens here end at once; their work is kept."""
    return await member.set_status(session, ctx, membership_id, MembershipStatus.deactivated)


@router.post(
    "/members/{membership_id}/reactivate",
    response_model=MemberRead,
    operation_id="members:reactivate",
    responses={**E401, **E403, **E404},
    tags=["institution"],
)
async def reactivate_member(membership_id: uuid.UUID, ctx: auth.MembersWrite, session: WriteSession) -> MemberRead:
    """Let a deactivated member sign in again."""
    return await member.set_status(session, ctx, membership_id, MembershipStatus.active)


@router.get(
    "/invitations",
    response_model=list[InvitationRead],
    operation_id="invitations:list",
    responses={**E401, **E403},
    tags=["institution"],
)
async def list_invitations(ctx: auth.MembersRead, session: ReadSession) -> list:
    """Invitations not yet accepted, revoked or expired (admins)."""
    return await member.list_invitations(session, ctx)


@router.post(
    "/invitations",
    response_model=InvitationRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="invitations:create",
    responses={**E401, **E403, **E409},
    tags=["institution"],
)
async def invite_member(body: InvitationCreate, ctx: auth.MembersWrite, session: WriteSession) -> object:
    """Email someone a one-time link to join with the given role (admins)."""
    return await member.invite(session, ctx, body)


@router.delete(
    "/invitations/{invitation_id}",
    response_model=InvitationRead,
    operation_id="invitations:revoke",
    responses={**E401, **E403, **E404},
    tags=["institution"],
)
async def revoke_invitation(invitation_id: uuid.UUID, ctx: auth.MembersWrite, session: WriteSession) -> object:
    """Withdraw an invitation; its link stops working."""
    return await member.revoke_invitation(session, ctx, invitation_id)


@router.get(
    "/support-grants",
    response_model=list[SupportGrantRead],
    operation_id="support_grants:list",
    responses={**E401, **E403},
    tags=["institution"],
)
async def list_support_grants(ctx: auth.SupportGrantsRead, session: ReadSession) -> list:
    """When platform support entered your institution, who, why, and for how long (admins)."""
    return await access.list_support_grants(session, ctx)


@router.post(
    "/support-access/end",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="support_access:end",
    responses={**E401, **E403},
    tags=["platform"],
)
async def end_support_access(ctx: auth.TenantSigned, response: Response, session: WriteSession) -> None:
    """Leave the institution you entered as support."""
    await access.end_support(session, ctx)
    auth.clear_session_cookie(response)


# ---- platform ----------------------------------------------------------------------------------------------


@router.get(
    "/platform/tenants",
    response_model=list[TenantRead],
    operation_id="platform_tenants:list",
    responses={**E401, **E403},
    tags=["platform"],
)
async def list_tenants(ctx: auth.TenantsManage, session: ReadSession) -> list:
    """Every institution (operators)."""
    return await tenant_service.list_all(session, ctx)


@router.post(
    "/platform/tenants",
    response_model=TenantRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="platform_tenants:create",
    responses={**E401, **E403, **E409},
    tags=["platform"],
)
async def create_tenant(body: TenantCreate, ctx: auth.TenantsManage, session: WriteSession) -> Tenant:
    """Create an institution (status onboarding) and optionally invite its first admin (operators)."""
    return await tenant_service.create(session, ctx, body)


@router.patch(
    "/platform/tenants/{tenant_id}",
    response_model=TenantRead,
    operation_id="platform_tenants:update",
    responses={**E401, **E403, **E404, **E409},
    tags=["platform"],
)
async def update_tenant(
    tenant_id: uuid.UUID, body: TenantUpdate, ctx: auth.TenantsManage, session: WriteSession
) -> Tenant:
    """Change an institution's plan, support tier, host name or status; ``suspended`` blocks every sign-in."""
    return await tenant_service.update(session, ctx, tenant_id, body)


@router.post(
    "/platform/support-access",
    response_model=SessionStarted,
    status_code=status.HTTP_201_CREATED,
    operation_id="support_access:start",
    responses={**E401, **E403, **E404},
    tags=["platform"],
)
async def start_support_access(
    body: SupportAccessCreate, ctx: auth.SupportEnter, response: Response, session: WriteSession
) -> SessionStarted:
    """Enter an institution as support, read-only, for a stated reason and a limited time.

    The session cookie switches to the institution; its admins see the grant and the reason.
    """
    token, _grant, tenant = await access.enter_as_support(session, ctx, body)
    return auth.started(response, token, replace(ctx, tenant_id=tenant.id, tenant_slug=tenant.slug), body.minutes * 60)
