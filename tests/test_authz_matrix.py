"""The authorization matrix: every route of the app against every kind of caller (STYLE N2-N7, §9).

Routes are read from ``app.routes`` (through FastAPI's public ``iter_route_contexts``, which expands included
routers with their prefixes), so a new route is covered the moment it is added:

- with no credential it must answer 401 (API) or send the browser to a sign-in page (web), unless it is listed
  in ``PUBLIC_ROUTES`` with a reason; every other route must declare an ``Authorize`` dependency;
- every role, platform role and a support session gets 403/404 exactly where the route's ``Authorize``
  permissions (``ROLE_PERMISSIONS``, ``PLATFORM_PERMISSIONS``, ``SUPPORT_IN_TENANT``) say so, and never
  401/403 where they allow it;
- an institution admin of another tenant gets 404 for this tenant's real object ids and sees none of its data;
- API tokens: a ``read``-only token cannot call write routes, revoked, expired or malformed tokens get 401.

Every caller gets a fresh session (and, for support, a fresh grant) per request, so routes that end sessions
(sign-out, password change, leaving support access) cannot disturb the rest of the matrix.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Mount

from scribetree.core import clock
from scribetree.core.audit import RequestMeta
from scribetree.core.config import Environment, settings
from scribetree.core.http import csrf_token
from scribetree.identity.models import ApiToken, PlatformRole, User
from scribetree.identity.service import digest, identity
from scribetree.tenancy.auth import Authorize
from scribetree.tenancy.models import Invitation, Membership, Role, SupportAccessGrant, Tenant
from scribetree.tenancy.permissions import (
    PLATFORM_PERMISSIONS,
    ROLE_PERMISSIONS,
    SCOPE_FOR,
    SUPPORT_IN_TENANT,
    Permission,
    Scope,
)
from scribetree.writing.notification_models import Notification
from tests.factories.alerts import matrix_ids as alerts_matrix_ids
from tests.factories.courses import create_assignment, create_course, create_group, create_template, enroll
from tests.factories.feedback import matrix_ids as feedback_matrix_ids
from tests.factories.interventions import matrix_ids as interventions_matrix_ids
from tests.factories.tenancy import PASSWORD, create_member, create_platform_user
from tests.factories.writing import matrix_ids as writing_matrix_ids

# (method, path template) → why it needs no credential. A route that is not listed must reject anonymous callers.
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness probe for the orchestrator; checks nothing and reveals nothing",
    ("GET", "/readyz"): "readiness probe for the load balancer; reports only infrastructure state",
    ("GET", "/metrics"): "Prometheus scrape; the reverse proxy limits it to the monitoring network",
    ("GET", "/api/v1/tenants/{slug}"): "an institution's public name and branding, shown on its sign-in page",
    ("POST", "/api/v1/tenants/{slug}/session"): "sign-in: the email and password are the credential",
    ("POST", "/api/v1/session"): "sign-in to the institution that owns the request's host name",
    ("POST", "/api/v1/platform/session"): "platform staff sign-in: the email and password are the credential",
    ("POST", "/api/v1/password-resets"): "asking for a reset link; same answer whether or not the account exists",
    ("POST", "/api/v1/password-resets/complete"): "the reset link's one-time token is the credential",
    ("GET", "/api/v1/invitation-links/{token}"): "invitation preview: the invitation link's token is the credential",
    ("POST", "/api/v1/invitation-links/accept"): "accepting an invitation: its token is the credential",
    # MCP discovery (RFC 9728 / RFC 8414): how a client learns to authenticate at /mcp/ (docs/mcp.md)
    ("GET", "/.well-known/oauth-protected-resource"): "MCP: protected-resource metadata, static, no data",
    ("GET", "/.well-known/oauth-protected-resource/mcp"): "MCP: protected-resource metadata, static, no data",
    ("GET", "/.well-known/oauth-authorization-server"): "MCP: where API tokens come from, static, no data",
    # web pages
    ("GET", "/"): "landing page: choose the institution to sign in to",
    ("GET", "/find"): "looks up an institution's sign-in page by its short name",
    ("GET", "/t/{slug}"): "an institution's address: sends the visitor to its sign-in page",
    ("GET", "/t/{slug}/brand.css"): "an institution's colours, used by its (public) sign-in page",
    ("GET", "/t/{slug}/signin"): "sign-in page of an institution",
    ("POST", "/t/{slug}/signin"): "sign-in form (CSRF-bound to the pre-session cookie)",
    ("GET", "/signin"): "sign-in page of the institution that owns the host name",
    ("POST", "/signin"): "sign-in form for the host's institution",
    ("GET", "/ops/signin"): "platform staff sign-in page",
    ("POST", "/ops/signin"): "platform staff sign-in form",
    ("GET", "/t/{slug}/reset"): "asking for a password reset link",
    ("POST", "/t/{slug}/reset"): "asking for a password reset link; same answer whether or not the account exists",
    ("GET", "/reset"): "asking for a password reset link (host's institution)",
    ("POST", "/reset"): "asking for a password reset link (host's institution)",
    ("GET", "/reset/{token}"): "the reset link's one-time token is the credential",
    ("POST", "/reset/{token}"): "the reset link's one-time token is the credential",
    ("GET", "/invite/{token}"): "the invitation link's token is the credential",
    ("POST", "/invite/{token}"): "the invitation link's token is the credential",
    ("GET", "/dev/mail"): "development-only mailbox; 404 in every other environment (tested below)",
    ("GET", "/dev/mail/{name}"): "development-only mailbox; 404 in every other environment (tested below)",
}
# Where a page sends a visitor who must sign in (path templates; the query may carry ``next``).
SIGN_IN_PAGES = ("/", "/signin", "/t/{slug}/signin", "/ops/signin")
# Public routes that may legitimately answer 503 (they report that the service is not ready).
MAY_BE_UNAVAILABLE = {("GET", "/readyz")}
# FastAPI's own documentation routes and the static files are not application endpoints.
SKIPPED_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# /mcp has its own matrix: tests/mcp (every tool without a token, per role, per scope, cross-tenant)
SKIPPED_MOUNTS = {"/static", "/mcp"}

# A service may narrow what a route's Authorize declares (a domain rule). Callers listed here get 403/404
# although the route's permissions admit them; the test fails if they stop being refused, so the list stays true.
DOMAIN_RULES: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("POST", "/api/v1/support-access/end"): (
        frozenset({"student", "teaching_assistant", "educator", "institution_admin"}),
        "only a support session can leave support access (AccessService.end_support)",
    ),
    ("POST", "/support/end"): (
        frozenset({"student", "teaching_assistant", "educator", "institution_admin"}),
        "the page form of POST /api/v1/support-access/end",
    ),
    ("POST", "/api/v1/courses"): (
        frozenset({"student", "teaching_assistant"}),
        "only educators and admins create courses (courses CourseService.create)",
    ),
    ("POST", "/api/v1/courses/join"): (
        frozenset({"educator", "institution_admin"}),
        "a join code enrolls students; staff are added to a course by its instructor (CourseService.join)",
    ),
    ("GET", "/api/v1/assignment-templates"): (
        frozenset({"student", "teaching_assistant", "support-in-tenant"}),
        "the template library is for educators and admins (TemplateService.list_templates)",
    ),
    ("POST", "/api/v1/assignment-templates"): (
        frozenset({"student", "teaching_assistant"}),
        "the template library is for educators and admins (TemplateService.create)",
    ),
    ("POST", "/api/v1/assignment-templates/from-assignment"): (
        frozenset({"student", "teaching_assistant"}),
        "the template library is for educators and admins (TemplateService.from_assignment)",
    ),
    ("GET", "/courses/new"): (
        frozenset({"student", "teaching_assistant", "support-in-tenant"}),
        "the page form of POST /api/v1/courses (CourseService.check_may_create)",
    ),
    ("POST", "/courses/new"): (
        frozenset({"student", "teaching_assistant"}),
        "the page form of POST /api/v1/courses (CourseService.check_may_create)",
    ),
}
# Known defects: (method, path, caller) → (the status they get today, why it is wrong). Remove an entry when the
# code is fixed; the test fails while a listed defect no longer happens.
KNOWN_DEFECTS: dict[tuple[str, str, str], tuple[int, str]] = {}

# Defects the cross-tenant test's control requests (the tenant's own admin, real ids) run into today.
CONTROL_DEFECTS: dict[tuple[str, str], tuple[int, str]] = {}
# State-changing routes that a read-scoped permission may call, and why that is safe.
READ_SCOPED_WRITES: dict[tuple[str, str], str] = {
    ("DELETE", "/api/v1/session"): "signing out ends only the caller's own session",
    ("POST", "/signout"): "signing out ends only the caller's own session",
    ("POST", "/api/v1/support-access/end"): "leaving support access only ends the caller's own grant and session",
    ("POST", "/support/end"): "leaving support access only ends the caller's own grant and session",
}

SAMPLE_STRINGS = ("matrix-probe", "us", "#1f5f8b", "probe.example.edu", "https://example.edu/logo.png")
SAMPLE_BY_NAME = {
    "password": PASSWORD,
    "current_password": PASSWORD,
    "new_password": "an entirely new passphrase 7",
    "role": "student",
    "minutes": "30",
}
# Path parameters that are not ids and must hold one of a few words for the route to reach its object.
PATH_SAMPLES = {
    ("/admin/members/{membership_id}/{action}", "action"): "deactivate",
    ("/ops/tenants/{tenant_id}/{action}", "action"): "suspend",
    ("/courses/{course_id}/assignments/{assignment_id}/{action}", "action"): "publish",
}


def is_object_id(name: str, annotation: Any) -> bool:
    """API routes type their ids as UUID; pages take them as text (a malformed one is a 404)."""
    return annotation is uuid.UUID or name.endswith("_id")


# ---- the routes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: Any  # fastapi.routing.RouteContext

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def is_public(self) -> bool:
        return self.key in PUBLIC_ROUTES

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @cached_property
    def guards(self) -> list[Authorize]:
        found: list[Authorize] = []
        stack = [getattr(self.route, "dependant", None)]
        while stack:
            dep = stack.pop()
            if dep is None:
                continue
            if isinstance(dep.call, Authorize):
                found.append(dep.call)
            stack.extend(dep.dependencies)
        return found

    @property
    def permissions(self) -> frozenset[Permission]:
        return frozenset(p for g in self.guards for p in g.permissions)

    @property
    def platform(self) -> bool | None:
        """True: platform staff only; False: inside a tenant only; None: either."""
        flags = {g.platform for g in self.guards}
        if True in flags:
            return True
        return False if False in flags else None

    @property
    def path_params(self) -> dict[str, Any]:
        dependant = getattr(self.route, "dependant", None)
        params = {f.name: f.field_info.annotation for f in (dependant.path_params if dependant else [])}
        for name in re.findall(r"\{(\w+)", self.path):
            params.setdefault(name, str)
        return params

    def url(self, ids: dict[str, Any] | None = None) -> str:
        ids = ids or {}
        params = self.path_params

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in ids:
                return str(ids[name])
            if is_object_id(name, params.get(name)):
                return str(uuid.uuid4())
            if (self.path, name) in PATH_SAMPLES:
                return PATH_SAMPLES[(self.path, name)]
            if params.get(name) is int:
                return "1"
            return "matrix-probe-value"

        return re.sub(r"\{(\w+)(?::[^}]*)?\}", fill, self.path)

    @cached_property
    def body_type(self) -> Any:
        field = getattr(self.route, "body_field", None)
        return field.field_info.annotation if field is not None else None

    @property
    def is_form(self) -> bool:
        field = getattr(self.route, "body_field", None)
        media_type = getattr(getattr(field, "field_info", None), "media_type", "") or ""
        return media_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))

    @cached_property
    def body(self) -> Any:
        """A valid body for the route's body model (None: it takes none): a minimal JSON one for the API; every
        field for a page's form, whose fields are all optional and checked by the handler."""
        if self.body_type is None:
            return None
        adapter = TypeAdapter(self.body_type)
        schema = adapter.json_schema()
        value = _sample(schema, schema, full=self.is_form)
        try:
            adapter.validate_python(value)
        except ValidationError as exc:  # pragma: no cover (a new body model the generator cannot fill yet)
            raise AssertionError(
                f"{self}: extend the body generator in this module for {self.body_type}: {exc}"
            ) from exc
        return value


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, Mount):
            assert route.path in SKIPPED_MOUNTS, f"mounted app at {route.path}: give it its own authorization matrix"
            continue
        if route.path in SKIPPED_PATHS:
            continue
        methods = set(route.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")
        found.extend(Endpoint(m, route.path, route) for m in sorted(methods))
    assert len(found) > 20, "the route walk found almost nothing: has FastAPI changed how routes are exposed?"
    return found


def _sample(schema: dict[str, Any], root: dict[str, Any], name: str = "", *, full: bool = False) -> Any:
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _sample(target, root, name, full=full)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _sample(options[0], root, name)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _sample(props[k], root, k) for k in (props if full else schema.get("required", []))}
    if kind == "array":
        return [_sample(schema.get("items", {}), root, name) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        if "minimum" in schema:
            return schema["minimum"]
        return schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else 1
    if kind == "boolean":
        return False
    if kind == "string":
        return _sample_string(schema, name)
    return None


def _sample_string(schema: dict[str, Any], name: str) -> str:
    if name in SAMPLE_BY_NAME:
        return SAMPLE_BY_NAME[name]
    fmt = schema.get("format")
    if fmt == "email":
        return "matrix.probe@example.edu"
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return clock.utcnow().isoformat()
    if fmt == "uri":
        return "https://example.edu/probe"
    value = "matrix probe value"
    if pattern := schema.get("pattern"):
        value = next((s for s in SAMPLE_STRINGS if re.search(pattern, s)), value)
    value = value.ljust(schema.get("minLength", 0), "x")
    return value[: schema.get("maxLength", len(value))]


# ---- the callers ----------------------------------------------------------------------------------------


@dataclass
class Caller:
    name: str
    user: User
    tenant: Tenant | None
    permissions: frozenset[Permission]
    support: bool = False  # a support person inside the tenant, through a grant

    def may_call(self, ep: Endpoint) -> bool:
        if ep.platform is True and self.tenant is not None:
            return False
        if ep.platform is False and self.tenant is None:
            return False
        return ep.permissions <= self.permissions


async def fresh_session(session: AsyncSession, caller: Caller) -> str:
    """A new sign-in session for ``caller`` (a new support grant too), committed so the app sees it."""
    grant_id = None
    if caller.support:
        assert caller.tenant is not None
        grant = SupportAccessGrant(
            tenant_id=caller.tenant.id,
            support_user_id=caller.user.id,
            reason="authorization matrix probe",
            expires_at=clock.utcnow() + timedelta(hours=1),
        )
        session.add(grant)
        await session.flush()
        grant_id = grant.id
    token, _ = await identity.start_session(
        session,
        user=caller.user,
        tenant_id=caller.tenant.id if caller.tenant else None,
        meta=RequestMeta(ip="127.0.0.1"),
        support_grant_id=grant_id,
    )
    await session.commit()
    return token


async def call(
    http: httpx.AsyncClient,
    ep: Endpoint,
    *,
    cookie: str | None = None,
    bearer: str | None = None,
    ids: dict[str, Any] | None = None,
    body: Any = ...,
    raw: bytes | None = None,
) -> httpx.Response:
    http.cookies.clear()
    headers: dict[str, str] = {}
    if cookie is not None:
        http.cookies.set(settings.SESSION_COOKIE, cookie)
        headers["X-CSRF-Token"] = csrf_token(cookie)
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if raw is not None:
        headers["Content-Type"] = "application/json"
        return await http.request(ep.method, ep.url(ids), content=raw, headers=headers)
    payload = ep.body if body is ... else body
    if ep.is_form and payload is not None:
        return await http.request(ep.method, ep.url(ids), data=payload, headers=headers)
    return await http.request(ep.method, ep.url(ids), json=payload, headers=headers)


def sent_to_sign_in(r: httpx.Response) -> bool:
    """A page's way of saying 401: a 303 to a sign-in page (htmx: 204 with HX-Redirect)."""
    location = r.headers.get("hx-redirect") or r.headers.get("location") or ""
    if r.status_code not in (302, 303, 307, 204) or not location:
        return False
    path = urlsplit(location).path
    return any(re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", page), path) for page in SIGN_IN_PAGES)


def unauthenticated(ep: Endpoint, r: httpx.Response) -> bool:
    """The route answered "sign in first": 401 Unauthorized (API), or a redirect to a sign-in page (pages)."""
    if ep.is_api:
        return r.status_code == 401 and error_code(r) == "Unauthorized"
    return r.status_code == 401 or sent_to_sign_in(r)


def describe(ep: Endpoint, who: str, r: httpx.Response, expected: str) -> str:
    return f"{ep} as {who}: expected {expected}, got {r.status_code} {r.text[:200]}"


def error_code(r: httpx.Response) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


@pytest.fixture
async def callers(session: AsyncSession, tenant: Tenant) -> dict[str, Caller]:
    """One person per role in ``tenant``, an operator, a support person, and that support person inside ``tenant``."""
    found: dict[str, Caller] = {}
    for role in Role:
        user, _ = await create_member(session, tenant, role)
        found[role.value] = Caller(role.value, user, tenant, ROLE_PERMISSIONS[role])
    for prole in PlatformRole:
        user = await create_platform_user(session, prole)
        found[prole.value] = Caller(prole.value, user, None, PLATFORM_PERMISSIONS[prole])
    found["support-in-tenant"] = Caller(
        "support-in-tenant", found["support"].user, tenant, SUPPORT_IN_TENANT, support=True
    )
    await session.commit()
    return found


# ---- the tests ------------------------------------------------------------------------------------------


class TestRouteInventory:
    def test_public_routes_are_real_routes(self, app: FastAPI) -> None:
        real = {ep.key for ep in endpoints(app)}
        stale = sorted(set(PUBLIC_ROUTES) - real)
        assert not stale, f"PUBLIC_ROUTES lists routes that do not exist (stale entries): {stale}"

    def test_exception_lists_name_real_routes(self, app: FastAPI) -> None:
        real = {ep.key for ep in endpoints(app)}
        listed = set(DOMAIN_RULES) | {(m, p) for m, p, _ in KNOWN_DEFECTS} | MAY_BE_UNAVAILABLE | set(CONTROL_DEFECTS)
        listed |= set(READ_SCOPED_WRITES)
        assert not sorted(listed - real), f"stale entries: {sorted(listed - real)}"

    def test_every_other_route_declares_authorize(self, app: FastAPI) -> None:
        unguarded = [str(ep) for ep in endpoints(app) if not ep.is_public and not ep.guards]
        assert not unguarded, f"routes with neither an Authorize dependency nor a PUBLIC_ROUTES entry: {unguarded}"

    def test_state_changing_routes_need_a_write_permission(self, app: FastAPI) -> None:
        """The matrix trusts each route's declaration; this catches a write route declared with a read alias."""
        wrong = [
            f"{ep} {sorted(ep.permissions)}"
            for ep in endpoints(app)
            if ep.guards
            and ep.method not in ("GET", "HEAD")
            and ep.key not in READ_SCOPED_WRITES
            and all(SCOPE_FOR[p] == Scope.read for p in ep.permissions)
        ]
        assert not wrong, f"state-changing routes that a read-only token may call: {wrong}"

    def test_public_routes_declare_no_authorize(self, app: FastAPI) -> None:
        guarded = [str(ep) for ep in endpoints(app) if ep.is_public and ep.guards]
        assert not guarded, f"PUBLIC_ROUTES lists routes that require a credential: {guarded}"

    def test_every_body_model_gets_a_valid_sample(self, app: FastAPI) -> None:
        bodies = {str(ep): ep.body for ep in endpoints(app) if ep.body_type is not None}
        assert bodies, "no route takes a body? the body walk is broken"
        assert all(isinstance(b, dict) for b in bodies.values()), bodies


class TestAnonymous:
    async def test_every_route_needs_a_credential_unless_public(
        self, app: FastAPI, anon: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        failures = []
        for ep in endpoints(app):
            r = await call(anon, ep)
            if r.status_code >= 500 and not (ep.key in MAY_BE_UNAVAILABLE and r.status_code == 503):
                failures.append(describe(ep, "anonymous", r, "no 5xx"))
            if ep.is_public:
                continue
            if 200 <= r.status_code < 300:
                failures.append(describe(ep, "anonymous", r, "no 2xx"))
            elif not unauthenticated(ep, r):
                expected = "401 Unauthorized" if ep.is_api else "401 or a redirect to a sign-in page"
                failures.append(describe(ep, "anonymous", r, expected))
        assert not failures, "\n".join(failures)

    async def test_a_missing_body_is_not_validated_before_the_credential(
        self, app: FastAPI, anon: httpx.AsyncClient
    ) -> None:
        """A 422 for a missing body would be answered before authentication: it must be 401 first."""
        failures = []
        for ep in endpoints(app):
            if ep.is_public or ep.body_type is None:
                continue
            r = await call(anon, ep, body=None)
            if not unauthenticated(ep, r):
                failures.append(describe(ep, "anonymous without a body", r, "401 / sign-in"))
            r = await call(anon, ep, body={"unexpected": "shape"})
            if not unauthenticated(ep, r):
                failures.append(describe(ep, "anonymous with a wrong body", r, "401 / sign-in"))
        assert not failures, "\n".join(failures)

    @pytest.mark.parametrize("env", [Environment.testing, Environment.production])
    async def test_the_development_mailbox_is_closed_outside_development(
        self, anon: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, env: Environment
    ) -> None:
        """Why /dev/mail may be on PUBLIC_ROUTES: it answers only in development."""
        monkeypatch.setattr(settings, "ENV", env)
        for path in ("/dev/mail", "/dev/mail/some-message.eml"):
            assert (await anon.get(path)).status_code == 404, path

    async def test_malformed_json_never_succeeds(self, app: FastAPI, anon: httpx.AsyncClient) -> None:
        """FastAPI parses JSON before running dependencies, so this answers 400 MalformedJSON before 401 (noted
        as a finding); what must hold is that nothing succeeds and nothing breaks."""
        failures = []
        for ep in endpoints(app):
            if ep.body_type is None:
                continue
            r = await call(anon, ep, raw=b'{"email": ')
            if 200 <= r.status_code < 300 or r.status_code >= 500:
                failures.append(describe(ep, "anonymous with malformed JSON", r, "no 2xx, no 5xx"))
        assert not failures, "\n".join(failures)


class TestRoles:
    async def test_each_caller_is_refused_exactly_where_permissions_say(
        self,
        app: FastAPI,
        anon: httpx.AsyncClient,
        session: AsyncSession,
        callers: dict[str, Caller],
    ) -> None:
        failures = []
        checked = {"allowed": 0, "refused": 0}
        for ep in endpoints(app):
            if ep.is_public:
                continue
            for caller in callers.values():
                r = await call(anon, ep, cookie=await fresh_session(session, caller))
                who = caller.name
                if r.status_code >= 500:
                    failures.append(describe(ep, who, r, "no 5xx"))
                    continue
                if (defect := KNOWN_DEFECTS.get((ep.method, ep.path, who))) is not None:
                    if r.status_code != defect[0]:
                        failures.append(
                            describe(ep, who, r, f"the known defect ({defect[0]}); fixed? update KNOWN_DEFECTS")
                        )
                    continue
                narrowed = ep.key in DOMAIN_RULES and who in DOMAIN_RULES[ep.key][0]
                if caller.may_call(ep) and not narrowed:
                    checked["allowed"] += 1
                    if r.status_code in (401, 403) or (ep.method == "GET" and unauthenticated(ep, r)):
                        failures.append(describe(ep, who, r, f"not 401/403 (holds {sorted(ep.permissions)})"))
                else:
                    checked["refused"] += 1
                    if r.status_code not in (403, 404):
                        failures.append(describe(ep, who, r, "403 or 404"))
                    if not caller.may_call(ep) and ep.platform is True and r.status_code != 403:
                        failures.append(describe(ep, who, r, "403 on a platform route"))
                    if ep.platform is False and caller.tenant is None and r.status_code != 403:
                        failures.append(describe(ep, who, r, "403 for platform staff on an institution route"))
        assert not failures, "\n".join(failures)
        assert checked["allowed"] > 30 and checked["refused"] > 30, checked


class TestCrossTenant:
    async def test_other_tenant_admin_gets_404_for_real_ids_and_sees_nothing(
        self,
        app: FastAPI,
        anon: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        other_tenant: Tenant,
    ) -> None:
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        educator, membership = await create_member(session, tenant, Role.educator)
        invitation = Invitation(
            tenant_id=tenant.id,
            email="invited.person@example.edu",
            role=Role.educator,
            token_hash=digest(uuid.uuid4().hex),
            invited_by_id=admin.id,
            expires_at=clock.utcnow() + timedelta(days=7),
        )
        session.add(invitation)
        _, token = await identity.create_token(
            session,
            tenant_id=tenant.id,
            user_id=admin.id,
            name="theirs",
            scopes=["read", "write", "admin"],
            expires_in_days=30,
        )
        intruder, _ = await create_member(session, other_tenant, Role.institution_admin)
        course = await create_course(session, tenant, title="Their course", join_code="THEIRS23")
        await enroll(session, course, educator, "instructor")
        student, _ = await create_member(session, tenant, Role.student)
        await enroll(session, course, student, "student")
        assignment = await create_assignment(session, course, kind="group", title="Their assignment")
        group = await create_group(session, assignment, [student])
        template = await create_template(session, tenant, created_by=educator.id, title="Their template")
        await session.commit()
        ids = {"membership_id": membership.id, "invitation_id": invitation.id, "token_id": token.id}
        ids |= {
            "course_id": course.id,
            "user_id": student.id,
            "assignment_id": assignment.id,
            "group_id": group.id,
            "template_id": template.id,
        }
        # writing: a document with one batch, its submission and that version (on the assignment above, if any)
        ids = {**(await writing_matrix_ids(session, tenant, ids.get("assignment_id"))), **ids}
        # feedback: a comment on that document and a draft grade of that submission
        ids |= await feedback_matrix_ids(session, ids["document_id"], ids["submission_id"], educator.id)
        # notifications: one of the tenant's student's (web/review: mark read)
        note = Notification(tenant_id=tenant.id, user_id=student.id, kind="comment", title="Their notification.")
        session.add(note)
        await session.flush()
        ids["notification_id"] = note.id
        # alerts: one about a student of the course above
        ids |= await alerts_matrix_ids(session, tenant, ids["course_id"])
        # interventions: one for the course's student, from that alert
        ids |= await interventions_matrix_ids(session, tenant.id, ids, educator.id)
        await session.commit()
        theirs = [str(v) for v in ids.values()] + [
            admin.email,
            educator.email,
            invitation.email,
            str(tenant.id),
            tenant.slug,
            str(admin.id),
            str(educator.id),
            "Their course",
            "THEIRS23",
            "Their assignment",
            "Their template",
            "Their comment.",
            "Their feedback.",
            "Their notification.",
            "Their alert.",
            "Their intervention.",
        ]
        outsider = Caller("other tenant's admin", intruder, other_tenant, ROLE_PERMISSIONS[Role.institution_admin])
        insider = Caller("tenant's admin", admin, tenant, ROLE_PERMISSIONS[Role.institution_admin])

        failures, object_routes = [], 0
        for ep in endpoints(app):
            if ep.is_public or ep.platform is True:
                continue
            id_params = [n for n, t in ep.path_params.items() if is_object_id(n, t)]
            if id_params:
                missing = [n for n in id_params if n not in ids]
                assert not missing, f"{ep}: give this test a real object of the tenant for {missing}"
                object_routes += 1
                r = await call(anon, ep, cookie=await fresh_session(session, outsider), ids=ids)
                if r.status_code != 404:
                    failures.append(describe(ep, outsider.name, r, "404 for the other tenant's object"))
                if ep.method == "GET":  # control: the ids are real and visible in their own tenant
                    r = await call(anon, ep, cookie=await fresh_session(session, insider), ids=ids)
                    expected = CONTROL_DEFECTS.get(ep.key, (200, ""))[0]
                    if r.status_code != expected:
                        failures.append(describe(ep, insider.name, r, f"{expected} (control; see CONTROL_DEFECTS)"))
            elif ep.method == "GET" and outsider.may_call(ep):
                r = await call(anon, ep, cookie=await fresh_session(session, outsider))
                leaked = [v for v in theirs if v in r.text]
                if leaked:
                    failures.append(f"{ep} as {outsider.name} shows the other tenant's {leaked}")
        assert object_routes >= 5, object_routes
        assert not failures, "\n".join(failures)

        # nothing changed on the way
        m = (await session.execute(select(Membership).where(Membership.id == membership.id))).scalar_one()
        inv = (await session.execute(select(Invitation).where(Invitation.id == invitation.id))).scalar_one()
        tok = (await session.execute(select(ApiToken).where(ApiToken.id == token.id))).scalar_one()
        assert (m.role, m.status) == (Role.educator, "active")
        assert inv.revoked_at is None and tok.revoked_at is None
        await session.refresh(course)
        await session.refresh(assignment)
        assert (course.title, course.archived_at, course.join_code) == ("Their course", None, "THEIRS23")
        assert (assignment.title, assignment.published_at is not None) == ("Their assignment", True)
        await session.rollback()

    async def test_the_admin_sees_their_own_data(
        self,
        anon: httpx.AsyncClient,
        app: FastAPI,
        session: AsyncSession,
        tenant: Tenant,
    ) -> None:
        """Control for the leak check above: the same listing does show the data to its own tenant."""
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        educator, _ = await create_member(session, tenant, Role.educator)
        await session.commit()
        ep = next(e for e in endpoints(app) if e.key == ("GET", "/api/v1/members"))
        insider = Caller("admin", admin, tenant, ROLE_PERMISSIONS[Role.institution_admin])
        r = await call(anon, ep, cookie=await fresh_session(session, insider))
        assert r.status_code == 200 and educator.email in r.text


class TestTokens:
    @staticmethod
    def token_may_call(ep: Endpoint, scopes: set[Scope], role: Role) -> bool:
        if ep.platform is True:
            return False
        granted = {p for p in ROLE_PERMISSIONS[role] if SCOPE_FOR[p] in scopes}
        return ep.permissions <= granted

    async def test_read_only_token_cannot_call_write_routes(
        self,
        app: FastAPI,
        anon: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
    ) -> None:
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        secret, _ = await identity.create_token(
            session, tenant_id=tenant.id, user_id=admin.id, name="read only", scopes=["read"], expires_in_days=30
        )
        await session.commit()
        failures, refused = [], 0
        for ep in endpoints(app):
            if ep.is_public:
                continue
            r = await call(anon, ep, bearer=secret)
            if r.status_code >= 500:
                failures.append(describe(ep, "read token", r, "no 5xx"))
            elif ep.key in DOMAIN_RULES and Role.institution_admin.value in DOMAIN_RULES[ep.key][0]:
                if r.status_code not in (403, 404):
                    failures.append(describe(ep, "read token", r, "403/404 (domain rule)"))
            elif self.token_may_call(ep, {Scope.read}, Role.institution_admin):
                if r.status_code in (401, 403):
                    failures.append(describe(ep, "read token", r, "not 401/403"))
            else:
                refused += 1
                if r.status_code != 403:
                    failures.append(describe(ep, "read token", r, "403"))
        assert refused >= 10, refused
        assert not failures, "\n".join(failures)
        listing = await anon.get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {secret}"})
        assert listing.status_code == 200 and listing.json()[0]["revoked_at"] is None  # and it still works

    async def test_revoked_expired_or_malformed_tokens_get_401(
        self,
        app: FastAPI,
        anon: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
    ) -> None:
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        issued = {}
        for name in ("valid", "revoked", "expired"):
            issued[name] = await identity.create_token(
                session,
                tenant_id=tenant.id,
                user_id=admin.id,
                name=name,
                scopes=["read", "write", "admin"],
                expires_in_days=30,
            )
        await session.execute(
            update(ApiToken).where(ApiToken.id == issued["revoked"][1].id).values(revoked_at=clock.utcnow())
        )
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == issued["expired"][1].id)
            .values(expires_at=clock.utcnow() - timedelta(seconds=1))
        )
        await session.commit()
        valid = issued["valid"][0]
        me = await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {valid}"})
        assert me.status_code == 200, me.text  # control: the same kind of token works

        bad = {
            "revoked": issued["revoked"][0],
            "expired": issued["expired"][0],
            "unknown": "st_" + "x" * 43,
            "mistyped": valid[:-1] + ("A" if valid[-1] != "A" else "B"),
        }
        failures = []
        for ep in endpoints(app):
            if ep.is_public:
                continue
            for name, secret in bad.items():
                r = await call(anon, ep, bearer=secret)
                if not unauthenticated(ep, r):
                    failures.append(describe(ep, f"{name} token", r, "401 / sign-in"))
            anon.cookies.clear()
            r = await anon.request(ep.method, ep.url(), headers={"Authorization": f"Basic {valid}"})
            if not unauthenticated(ep, r):
                failures.append(describe(ep, "Basic scheme", r, "401 / sign-in"))
        assert not failures, "\n".join(failures)
