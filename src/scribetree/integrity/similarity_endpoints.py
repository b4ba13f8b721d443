"""JSON API of similarity and style drift (docs/integrity.md, "Similarity" and "Style drift").

Reading a report needs a tenant sign-in; the object rule (the submission's author and its course's staff) is the
service's. The institution's consent setting needs ``tenant:settings`` (institution admins; ``admin`` scope).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses
from scribetree.integrity import similarity
from scribetree.integrity.similarity_schemas import (
    SimilarityRead,
    SimilaritySettingsRead,
    SimilaritySettingsUpdate,
    StyleDriftRead,
)
from scribetree.integrity.style_drift import style_drift
from scribetree.tenancy.auth import TenantSettingsWrite, TenantSigned

router = APIRouter(route_class=UnitOfWorkRoute, tags=["integrity"])


@router.get(
    "/submissions/{submission_id}/similarity",
    response_model=SimilarityRead,
    operation_id="similarity:get",
    responses=error_responses(),
)
async def get_similarity(
    submission_id: uuid.UUID, ctx: TenantSigned, session: ReadSession, audit_session: WriteSession
) -> SimilarityRead:
    """Overlapping passages between this submission and others (same assignment, same course, and other courses
    when the institution allows it), quoted and cited text apart. The author sees their own side only; a staff
    member's view is audited. ``state`` is ``pending`` until the indexing job has run."""
    return await similarity.similarity_summary(session, ctx, submission_id, audit_session=audit_session)


@router.get(
    "/submissions/{submission_id}/style-drift",
    response_model=StyleDriftRead,
    operation_id="style_drift:get",
    responses=error_responses(),
)
async def get_style_drift(
    submission_id: uuid.UUID, ctx: TenantSigned, session: ReadSession, audit_session: WriteSession
) -> StyleDriftRead:
    """This submission's style against the author's own earlier submissions: observations with the measured values
    and the baseline, or ``not_enough_earlier_writing``. A staff member's view is audited."""
    return await style_drift(session, ctx, submission_id, audit_session=audit_session)


@router.get(
    "/similarity-settings",
    response_model=SimilaritySettingsRead,
    operation_id="similarity_settings:get",
    responses=error_responses(403),
)
async def get_similarity_settings(ctx: TenantSettingsWrite, session: ReadSession) -> SimilaritySettingsRead:
    """Whether submissions are compared across the institution's courses (institution admins)."""
    return await similarity.get_settings(session, ctx)


@router.put(
    "/similarity-settings",
    response_model=SimilaritySettingsRead,
    operation_id="similarity_settings:put",
    responses=error_responses(403, 422),
)
async def put_similarity_settings(
    body: SimilaritySettingsUpdate, ctx: TenantSettingsWrite, session: WriteSession
) -> SimilaritySettingsRead:
    """Turn comparison across courses on or off (institution admins; audited). Applies to submissions indexed from
    then on; matches across courses are shown only while it is on."""
    return await similarity.put_settings(session, ctx, body)
