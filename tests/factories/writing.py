"""Writing factories: documents through the domain's models (flush, never commit), and batch bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.courses.models import Assignment, AssignmentGroup, AssignmentKind, Course, CourseRole
from scribetree.identity.models import User
from scribetree.tenancy.models import Role, Tenant
from scribetree.writing import ops
from scribetree.writing.models import Document, DocumentStatus, DocumentVersion, EditBatch, Submission, VersionKind
from tests.factories.courses import create_assignment, create_course, create_group, enroll
from tests.factories.tenancy import create_member


async def create_document(
    session: AsyncSession,
    assignment: Assignment,
    *,
    owner: User | None = None,
    group: AssignmentGroup | None = None,
    text: str = "",
    status: DocumentStatus = DocumentStatus.draft,
) -> Document:
    """A document at revision 0 holding ``text``, with its revision-0 snapshot (as the service creates it)."""
    assert (owner is None) != (group is None), "a document belongs to one student or one group"
    now = clock.utcnow()
    doc = Document(
        tenant_id=assignment.tenant_id,
        assignment_id=assignment.id,
        owner_user_id=owner.id if owner else None,
        group_id=group.id if group else None,
        text=text,
        revision=0,
        content_hash=ops.content_hash(text),
        word_count=ops.word_count(text),
        status=status,
        snapshot_at=now,
        snapshot_revision=0,
        chars_since_snapshot=0,
    )
    session.add(doc)
    await session.flush()
    session.add(
        DocumentVersion(
            tenant_id=doc.tenant_id,
            document_id=doc.id,
            revision=0,
            kind=VersionKind.auto,
            text=text,
            content_hash=doc.content_hash,
            word_count=doc.word_count,
            created_at=now,
        )
    )
    await session.flush()
    return doc


def batch_body(
    text_before: str,
    raw_ops: list[dict[str, Any]],
    *,
    seq: int,
    base_revision: int,
    session_id: uuid.UUID | str,
    content_hash: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A batch as the editor sends it, and the text the client then shows (its hash is the batch's)."""
    after = ops.apply(text_before, ops.parse_ops(raw_ops))
    body = {
        "session_id": str(session_id),
        "seq": seq,
        "base_revision": base_revision,
        "ops": raw_ops,
        "content_hash": content_hash or ops.content_hash(after),
    }
    return body, after


def ins(pos: int, text: str, t: int = 1_764_000_000_000) -> dict[str, Any]:
    return {"kind": "insert", "t": t, "pos": pos, "text": text}


def dele(pos: int, length: int, t: int = 1_764_000_000_000) -> dict[str, Any]:
    return {"kind": "delete", "t": t, "pos": pos, "len": length}


async def write(session: AsyncSession, doc: Document, author: User, raw_ops: list[dict[str, Any]]) -> EditBatch:
    """Append an accepted batch the way the service does (without the access checks)."""
    parsed = ops.parse_ops(raw_ops)
    applied = ops.apply_counted(doc.text, parsed)
    base = doc.revision
    if applied.changed:
        doc.text = applied.text
        doc.revision += 1
        doc.content_hash = ops.content_hash(applied.text)
        doc.word_count += applied.word_delta
    batch = EditBatch(
        tenant_id=doc.tenant_id,
        document_id=doc.id,
        session_id=uuid.uuid4(),
        seq=1,
        base_revision=base,
        revision=doc.revision,
        content_hash=doc.content_hash,
        author_user_id=author.id,
        ops=[o.to_json() for o in parsed],
        chars_inserted=applied.chars_inserted,
        chars_deleted=applied.chars_deleted,
    )
    session.add(batch)
    await session.flush()
    return batch


async def create_submission(
    session: AsyncSession, doc: Document, by: User, *, late: bool = False, attempt: int = 1, at: datetime | None = None
) -> Submission:
    now = at or clock.utcnow()
    version = DocumentVersion(
        tenant_id=doc.tenant_id,
        document_id=doc.id,
        revision=doc.revision,
        kind=VersionKind.submission,
        text=doc.text,
        content_hash=doc.content_hash,
        word_count=doc.word_count,
        created_by=by.id,
        created_at=now,
    )
    session.add(version)
    await session.flush()
    sub = Submission(
        tenant_id=doc.tenant_id,
        document_id=doc.id,
        assignment_id=doc.assignment_id,
        version_id=version.id,
        submitted_by=by.id,
        attempt=attempt,
        revision=doc.revision,
        content_hash=doc.content_hash,
        word_count=doc.word_count,
        submitted_at=now,
        late=late,
    )
    session.add(sub)
    doc.status = DocumentStatus.submitted
    doc.submitted_at = now
    await session.flush()
    return sub


async def matrix_ids(session: AsyncSession, tenant: Tenant, assignment_id: uuid.UUID | None) -> dict[str, uuid.UUID]:
    """Real writing objects of ``tenant`` for the authorization matrix: a document with one batch (revision 1),
    its submission and that submission's version. Uses the given assignment, or a new one."""
    if assignment_id is None:
        assignment = await create_assignment(session, await create_course(session, tenant), title="Their essay")
    else:
        found = await session.get(Assignment, assignment_id)
        assert found is not None
        assignment = found
    student, _ = await create_member(session, tenant, Role.student)
    course = await session.get(Course, assignment.course_id)
    assert course is not None
    await enroll(session, course, student, CourseRole.student)
    if assignment.kind == AssignmentKind.group:
        doc = await create_document(session, assignment, group=await create_group(session, assignment, [student]))
    else:
        doc = await create_document(session, assignment, owner=student)
    await write(session, doc, student, [ins(0, "Their own words.")])
    sub = await create_submission(session, doc, student)
    return {
        "assignment_id": assignment.id,
        "document_id": doc.id,
        "version_id": sub.version_id,
        "submission_id": sub.id,
    }
