"""Object-level access to documents (STYLE N4). Missing and forbidden are the same ``DocumentNotFound`` (404).

Who sees a document: its author (individual assignment) or a member of its group (group assignment), and the
staff of the assignment's course (instructor, teaching assistant, institution admin), all through
``courses.service.assignment_access`` (so a student loses access with the assignment or the course). Only the
author or the group edits it; staff who can see it but try to edit get 403 ``StudentsOnly``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import cache_epochs
from scribetree.core.errors import NotFound
from scribetree.courses.service import AssignmentAccess, assignment_access
from scribetree.tenancy.context import AuthContext
from scribetree.writing.exceptions import DocumentNotFound, StaffOnly, StudentsOnly
from scribetree.writing.models import Document
from scribetree.writing.repository import DocumentRepository

STUDENT = "student"


class Need(Enum):
    read = "read"  # the author, the group, the course's staff
    edit = "edit"  # the author or the group only
    teach = "teach"  # the course's staff only


@dataclass(frozen=True)
class DocumentAccess:
    document: Document
    access: AssignmentAccess

    @property
    def is_staff(self) -> bool:
        return self.access.course_role != STUDENT


class Owned(Protocol):
    owner_user_id: uuid.UUID | None
    group_id: uuid.UUID | None


def is_author(ctx: AuthContext, doc: Owned, acc: AssignmentAccess) -> bool:
    if acc.course_role != STUDENT:
        return False
    if doc.owner_user_id is not None:
        return doc.owner_user_id == ctx.user_id
    return doc.group_id is not None and doc.group_id == acc.group_id


async def access_document(
    session: AsyncSession,
    ctx: AuthContext,
    document_id: uuid.UUID,
    need: Need = Need.read,
    *,
    for_update: bool = False,
) -> DocumentAccess:
    """The document and the caller's assignment access, or ``DocumentNotFound`` for anyone who may not see it.

    ``for_update`` locks the document row (``SELECT ... FOR UPDATE`` on PostgreSQL) until the unit of work ends.
    """
    if ctx.tenant_id is None:
        raise DocumentNotFound()
    doc = await DocumentRepository(session, ctx.tenant_id).get(document_id, for_update=for_update)
    if doc is None:
        raise DocumentNotFound()
    try:
        acc = await assignment_access(session, ctx, doc.assignment_id)
    except NotFound:
        raise DocumentNotFound() from None
    author = is_author(ctx, doc, acc)
    if acc.course_role == STUDENT and not author:
        raise DocumentNotFound()
    if need is Need.edit and not author:
        raise StudentsOnly()
    if need is Need.teach and acc.course_role == STUDENT:
        raise StaffOnly()
    return DocumentAccess(document=doc, access=acc)


# ---- the batch path's access check, cached ----------------------------------------------------------------
# A student sends a batch every ~2 s; the answer to "may this caller edit this document" changes only when a
# course, its roster, an assignment or its groups change (the tables of the 'edit_access' cache epoch,
# core.cache_epochs); nothing in it depends on the time. Positive answers are kept EDIT_ACCESS_TTL seconds. Within
# this process they are all dropped the moment a unit of work commits a change to one of those tables; a change
# committed by another process (another app node, the worker, a CLI command) is seen within
# CACHE_EPOCH_CHECK_SECONDS (docs/security.md). Sign-in, membership and the session itself are checked on every
# request (tenancy.auth).

EDIT_ACCESS_TTL = 60.0  # seconds
_edit_ok: dict[tuple[object, ...], tuple[float, int]] = {}


@cache_epochs.EDIT_ACCESS.on_change
def _forget_edit_access() -> None:
    _edit_ok.clear()


async def check_edit(session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> None:
    """``access_document(..., Need.edit)`` without loading the document (the batch path: no text, no lock).

    The batch path runs this on the request's read session, before its short write transaction. A positive
    answer is cached (see above); a refusal is never cached.
    """
    if ctx.tenant_id is None:
        raise DocumentNotFound()
    key = (ctx.tenant_id, ctx.user_id, ctx.role, ctx.is_support_session, document_id)
    now = time.monotonic()
    await cache_epochs.check(session)  # at most once a second for the process: changes made by other processes
    hit = _edit_ok.get(key)
    if hit is not None and hit[0] > now and hit[1] == cache_epochs.EDIT_ACCESS.generation:
        return
    keep = await cache_epochs.settle(session, cache_epochs.EDIT_ACCESS)  # as of this transaction, before the answer
    generation = cache_epochs.EDIT_ACCESS.generation  # taken before reading: a change seen meanwhile makes it stale
    doc = await DocumentRepository(session, ctx.tenant_id).ownership(document_id)
    if doc is None:
        raise DocumentNotFound()
    try:
        acc = await assignment_access(session, ctx, doc.assignment_id)
    except NotFound:
        raise DocumentNotFound() from None
    if not is_author(ctx, doc, acc):
        if acc.course_role == STUDENT:
            raise DocumentNotFound()
        raise StudentsOnly()
    if not keep:
        return
    if len(_edit_ok) >= 100_000:
        _edit_ok.clear()
    _edit_ok[key] = (now + EDIT_ACCESS_TTL, generation)
