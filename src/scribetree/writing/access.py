"""Object-level access to documents (STYLE N4). Missing and forbidden are the same ``DocumentNotFound`` (404).

Who sees a document: its author (individual assignment) or a member of its group (group assignment), and the
staff of the assignment's course (instructor, teaching assistant, institution admin), all through
``courses.service.assignment_access`` (so a student loses access with the assignment or the course). Only the
author or the group edits it; staff who can see it but try to edit get 403 ``StudentsOnly``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

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


async def check_edit(session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> None:
    """``access_document(..., Need.edit)`` without loading the document (the batch path: no text, no lock).

    The batch path runs this on the request's read session, before its short write transaction.
    """
    if ctx.tenant_id is None:
        raise DocumentNotFound()
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
