"""JSON API of the AI partner: the educator's settings, reflections, asking the partner, the history and the
class summary. Rules, scoring and levels are described in docs/ai-partner.md.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from scribetree.ai_partner import auth
from scribetree.ai_partner.providers_settings import provider_settings as provider_settings_service
from scribetree.ai_partner.schemas import (
    AiProviderRead,
    AiProviderUpdate,
    AiSettings,
    AiSettingsRead,
    AssignmentSummary,
    ExchangeRead,
    HistoryRead,
    PartnerAsk,
    ReflectionCreate,
    ReflectionResult,
)
from scribetree.ai_partner.service import partner as partner_service
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses, with_details

router = APIRouter(route_class=UnitOfWorkRoute, tags=["ai-partner"])


@router.get(
    "/assignments/{assignment_id}/ai-settings",
    response_model=AiSettingsRead,
    operation_id="ai_settings:get",
    responses=error_responses(),
)
async def get_ai_settings(assignment_id: uuid.UUID, ctx: auth.PartnerRead, session: ReadSession) -> AiSettingsRead:
    """The assignment's AI partner settings and what applies in the current stage (``effective``, with the reason
    when the partner is off). Course staff and the assignment's students; ``editable`` is true for instructors
    and admins only (teaching assistants and students read)."""
    return await partner_service.get_settings(session, ctx, assignment_id)


@router.put(
    "/assignments/{assignment_id}/ai-settings",
    response_model=AiSettingsRead,
    operation_id="ai_settings:put",
    responses=error_responses(403, 422),
)
async def put_ai_settings(
    assignment_id: uuid.UUID, body: AiSettings, ctx: auth.PartnerWrite, session: WriteSession
) -> AiSettingsRead:
    """Replace the AI settings (instructors and institution admins; teaching assistants get 403
    ``SettingsReadOnly``). Applies to the next request; audited. 422 ``UnknownStage`` when an override names a
    stage the assignment does not have."""
    return await partner_service.put_settings(session, ctx, assignment_id, body)


@router.post(
    "/documents/{document_id}/reflections",
    response_model=ReflectionResult,
    operation_id="partner:reflect",
    responses=error_responses(403, 409, 422),
)
async def post_reflection(
    document_id: uuid.UUID, body: ReflectionCreate, ctx: auth.PartnerWrite, read: ReadSession, session: WriteSession
) -> ReflectionResult | JSONResponse:
    """Write a reflection (the document's student): it is scored per dimension with reasons and how to improve,
    checked for gaming, stored, and may move the access level one step (``level_change``). In exam mode: 409
    ``PartnerDisabled``."""
    return await with_details(partner_service.reflect(read, session, ctx, document_id, body))


@router.post(
    "/documents/{document_id}/partner",
    response_model=ExchangeRead,
    operation_id="partner:ask",
    responses=error_responses(403, 409, 422, 429),
)
async def ask_partner(
    document_id: uuid.UUID, body: PartnerAsk, ctx: auth.PartnerWrite, read: ReadSession, session: WriteSession
) -> ExchangeRead | JSONResponse:
    """Ask the partner about your draft; it answers with questions about the server's copy of the draft.

    Checked in this order: the document is yours (404; staff get 403 ``PartnerStudentsOnly``), the partner is on
    for the current stage (409 ``PartnerDisabled`` with the reason), the reflection gate (409
    ``ReflectionRequired`` with ``due`` and ``min_words``), the budget (429 ``PartnerBudgetExhausted`` with
    ``resets_at`` and ``Retry-After``). Every exchange is stored and visible to the student and the staff.
    """
    return await with_details(partner_service.ask(read, session, ctx, document_id, body))


@router.get(
    "/documents/{document_id}/partner/history",
    response_model=HistoryRead,
    operation_id="partner:history",
    responses=error_responses(),
)
async def get_partner_history(
    document_id: uuid.UUID, ctx: auth.PartnerRead, session: ReadSession, audit_session: WriteSession
) -> HistoryRead:
    """Reflections (with scores and flags), exchanges (with validator verdicts) and level changes on a document:
    the student sees their own and their level; the course's staff see everyone's (audited)."""
    return await partner_service.history(session, audit_session, ctx, document_id)


@router.get(
    "/assignments/{assignment_id}/partner/summary",
    response_model=AssignmentSummary,
    operation_id="partner:summary",
    responses=error_responses(403),
)
async def get_partner_summary(
    assignment_id: uuid.UUID, ctx: auth.PartnerRead, session: ReadSession, audit_session: WriteSession
) -> AssignmentSummary:
    """Per student: requests, level, reflection scores over time and an over-reliance signal (course staff only;
    students get 403 ``PartnerStaffOnly``; audited)."""
    return await partner_service.summary(session, audit_session, ctx, assignment_id)


@router.get(
    "/ai-provider", response_model=AiProviderRead, operation_id="ai_provider:get", responses=error_responses(403)
)
async def get_ai_provider(ctx: auth.ProviderSettingsAdmin, session: ReadSession) -> AiProviderRead:
    """The institution's AI provider (institution admins): ``builtin`` (no network) until an admin configures
    Anthropic or an OpenAI-compatible endpoint. The API key is never returned: ``api_key_set`` and
    ``api_key_hint`` ("…" and its last 4 characters). ``in_effect`` says where students' requests go now."""
    return await provider_settings_service.get(session, ctx)


@router.put(
    "/ai-provider", response_model=AiProviderRead, operation_id="ai_provider:put", responses=error_responses(403, 422)
)
async def put_ai_provider(
    body: AiProviderUpdate, ctx: auth.ProviderSettingsAdmin, session: WriteSession
) -> AiProviderRead | JSONResponse:
    """Replace the institution's AI provider (institution admins; audited, the key only as "replaced" or
    "removed"). Students' words go to an external provider only with ``external_allowed: true``. 422
    ``ProviderSettingsInvalid`` with ``field`` when an external provider lacks an https address, a model or a
    key, or when the address changes and the stored key is not entered again. Applies to the next request."""
    return await with_details(provider_settings_service.put(session, ctx, body))
