"""Similarity between submissions: an incremental winnowing index and the overlap report (docs/integrity.md).

**Indexing.** ``writing`` calls its submission hooks inside the submit transaction; the hook registered here
enqueues ``integrity.similarity.index`` for the new submission (``core.jobs``, idempotent per submission), so
the job exists exactly when the submission does. The job fingerprints the submitted text (``similarity_text``),
stores the fingerprints, and looks their hashes up in the index (``(tenant_id, hash)``): only submissions that
share a fingerprint are read and aligned, nothing is rescanned. It compares within the course, and across the
institution's courses only when the institution has consented (``similarity_settings.cross_course``, off by
default, as it is at indexing time). A periodic sweep enqueues any submission still without an index row (a
process that did not import this module, submissions from before this feature), and :func:`rebuild` re-indexes
a whole institution in submission order; the result equals the incremental one.

**Attempts.** A resubmission supersedes the document's earlier attempts: their fingerprints leave the index
(their own reports stay), and a document is never compared with itself.

**Who sees what.** A report is readable by whoever may read the submission (``writing.access``): its author and
the course's staff. The author sees their own passages only, never another student's text or name. Staff see the
other side of a match when they may teach that other submission's course (institution admins: every course);
otherwise the match is shown without it. Matches across courses are shown only while the institution's consent
is on. A staff member's view of a report is audited (``similarity.viewed``), naming the other submissions shown.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock, jobs
from scribetree.core.errors import Forbidden
from scribetree.integrity import similarity_text as st
from scribetree.integrity.similarity_models import IndexState, MatchScope, SimilarityMatch, SimilaritySettings
from scribetree.integrity.similarity_models import SimilaritySubmission as IndexRow
from scribetree.integrity.similarity_repository import Described, SimilarityRepository, Source
from scribetree.integrity.similarity_schemas import (
    Excerpt,
    MatchRead,
    OtherSubmission,
    PassageRead,
    SimilarityRead,
    SimilaritySettingsRead,
    SimilaritySettingsUpdate,
)
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.permissions import Permission
from scribetree.tenancy.service import tenant_service
from scribetree.writing import submission_hooks
from scribetree.writing.access import DocumentAccess, Need, access_document
from scribetree.writing.exceptions import DocumentNotFound, SubmissionNotFound
from scribetree.writing.models import Submission

log = logging.getLogger("scribetree.integrity.similarity")

INDEX_ACTOR = "integrity.similarity.index"
SWEEP_ACTOR = "integrity.similarity.sweep"
SWEEP_EVERY = timedelta(minutes=10)
SWEEP_BATCH = 500  # submissions enqueued per tenant per sweep
MAX_CANDIDATES = 50  # submissions aligned per indexed submission (those sharing the most fingerprints)
MAX_MATCHES_SHOWN = 25
MAX_PASSAGES_SHOWN = 60  # per match


class SimilaritySettingsForbidden(Forbidden):
    default_detail = "Only institution admins can change whether submissions are compared across courses."


# ---- indexing -----------------------------------------------------------------------------------------------


async def _cross_course(repo: SimilarityRepository) -> bool:
    row = await repo.settings()
    return bool(row and row.cross_course)


def _scope(a: Source, b: Source) -> MatchScope:
    if a.assignment_id == b.assignment_id:
        return MatchScope.assignment
    if a.course_id == b.course_id:
        return MatchScope.course
    return MatchScope.institution


def _match(tenant_id: uuid.UUID, a: Source, b: Source, passages: list[st.Passage], shared: int) -> SimilarityMatch:
    plain_a = [(p.a_start, p.a_end) for p in passages if not (p.quoted_a or p.quoted_b)]
    plain_b = [(p.b_start, p.b_end) for p in passages if not (p.quoted_a or p.quoted_b)]
    quoted_a = [(p.a_start, p.a_end) for p in passages if p.quoted_a or p.quoted_b]
    chars, other_chars = st.covered_chars(plain_a), st.covered_chars(plain_b)
    return SimilarityMatch(
        tenant_id=tenant_id,
        submission_id=a.submission_id,
        other_submission_id=b.submission_id,
        scope=_scope(a, b),
        shared_fingerprints=shared,
        chars=chars,
        other_chars=other_chars,
        quoted_chars=st.covered_chars(quoted_a),
        share=round(chars / max(1, len(a.text)), 4),
        other_share=round(other_chars / max(1, len(b.text)), 4),
        passages=[p.as_json() for p in passages],
    )


async def index_submission(session: AsyncSession, tenant_id: uuid.UUID, submission_id: uuid.UUID) -> IndexRow | None:
    """Fingerprint one submission and record its matches with the indexed submissions (idempotent: a second run
    replaces what the first wrote). None when the submission no longer exists."""
    repo = SimilarityRepository(session, tenant_id)
    me = await repo.source(submission_id)
    if me is None:
        return None
    row = await repo.index_row(submission_id)
    if row is not None:  # indexed before: replace what that run wrote (a first run has nothing to delete)
        await repo.clear(submission_id)
    cross = await _cross_course(repo)
    earlier = [s for s in await repo.earlier_attempts(me.document_id, me.submitted_at) if s != submission_id]
    superseded = []
    for sid in earlier:
        old = await repo.index_row(sid)
        if old is not None and old.state == IndexState.indexed:
            old.state = IndexState.superseded
            superseded.append(sid)
    if superseded:
        await repo.drop_fingerprints(superseded)
    doc = st.analyse(me.text)
    prints = st.fingerprints(doc)
    if row is None:
        row = IndexRow(tenant_id=tenant_id, submission_id=submission_id)
        session.add(row)
    row.document_id, row.assignment_id, row.course_id = me.document_id, me.assignment_id, me.course_id
    row.author_user_id = me.author_user_id
    row.state, row.k, row.window, row.error = IndexState.indexed, st.K, st.W, None
    row.token_count, row.fingerprint_count, row.quoted_chars = len(doc.tokens), len(prints), doc.quoted_chars
    row.cross_course, row.indexed_at = cross, clock.utcnow()
    await session.flush()
    await repo.add_fingerprints(
        [
            {
                "tenant_id": tenant_id,
                "submission_id": submission_id,
                "start": f.start,
                "end": f.end,
                "hash": f.hash,
                "quoted": f.quoted,
            }
            for f in prints
        ]
    )
    if not prints:
        return row
    mine: dict[int, list[int]] = defaultdict(list)  # hash -> token indexes in this text
    for f in prints:
        mine[f.hash].append(f.index)
    found = await repo.candidates(
        list(mine), exclude_document=me.document_id, course_id=None if cross else me.course_id
    )
    by_other: dict[uuid.UUID, list[tuple[int, int]]] = defaultdict(list)  # other -> (hash, char start)
    for other_id, h, start in found:
        if other_id != submission_id:
            by_other[other_id].append((h, start))
    ranked = sorted(by_other, key=lambda o: (-len(by_other[o]), str(o)))[:MAX_CANDIDATES]
    others = await repo.sources(ranked)
    matches = []
    for other_id in ranked:
        other = others.get(other_id)
        if other is None:
            continue
        theirs = st.analyse(other.text)
        at = {t.start: i for i, t in enumerate(theirs.tokens)}
        seeds = [(i, at[start]) for h, start in by_other[other_id] if start in at for i in mine[h]]
        passages = st.align(doc, theirs, seeds)
        if passages:
            matches.append(_match(tenant_id, me, other, passages, len(by_other[other_id])))
    await repo.add_matches(matches)
    return row


async def rebuild(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Forget the institution's index and index every submission again in submission order."""
    repo = SimilarityRepository(session, tenant_id)
    await repo.clear_all()
    ids = await repo.submission_ids_in_order()
    for sid in ids:
        await index_submission(session, tenant_id, sid)
    return len(ids)


async def enqueue_index(session: AsyncSession, tenant_id: uuid.UUID, submission_id: uuid.UUID) -> None:
    await jobs.enqueue(
        session,
        INDEX_ACTOR,
        tenant_id=tenant_id,
        idempotency_key=f"{INDEX_ACTOR}:{submission_id}",
        submission_id=submission_id,
    )


@submission_hooks.on_submitted("integrity.similarity")
async def _on_submitted(session: AsyncSession, submission: Submission) -> None:
    await enqueue_index(session, submission.tenant_id, submission.id)


@jobs.actor(INDEX_ACTOR, max_attempts=5, timeout_seconds=120)
async def index_job(session: AsyncSession, *, tenant_id: str, submission_id: str) -> None:
    row = await index_submission(session, uuid.UUID(tenant_id), uuid.UUID(submission_id))
    if row is not None:
        log.info(
            "similarity indexed",
            extra={"tenant_id": tenant_id, "submission_id": submission_id, "fingerprints": row.fingerprint_count},
        )


@jobs.actor(SWEEP_ACTOR, queue="maintenance", max_attempts=3)
async def sweep(session: AsyncSession) -> None:
    for tenant in await tenant_service.list_active(session):
        for sid in await SimilarityRepository(session, tenant.id).unindexed(SWEEP_BATCH):
            await enqueue_index(session, tenant.id, sid)


jobs.periodic(SWEEP_ACTOR, every=SWEEP_EVERY, actor=SWEEP_ACTOR)


# ---- the institution's consent --------------------------------------------------------------------------


def _tenant_admin(ctx: AuthContext) -> uuid.UUID:
    if ctx.tenant_id is None or not ctx.can(Permission.tenant_settings_write):
        raise SimilaritySettingsForbidden()
    return ctx.tenant_id


def _settings_read(row: SimilaritySettings | None) -> SimilaritySettingsRead:
    if row is None:
        return SimilaritySettingsRead(cross_course=False)
    return SimilaritySettingsRead(cross_course=row.cross_course, updated_by=row.updated_by, updated_at=row.updated_at)


async def get_settings(session: AsyncSession, ctx: AuthContext) -> SimilaritySettingsRead:
    return _settings_read(await SimilarityRepository(session, _tenant_admin(ctx)).settings())


async def put_settings(
    session: AsyncSession, ctx: AuthContext, data: SimilaritySettingsUpdate
) -> SimilaritySettingsRead:
    """Turn comparison across courses on or off (admins; audited). Applies to submissions indexed from now on;
    matches across courses are shown only while it is on."""
    tenant_id = _tenant_admin(ctx)
    repo = SimilarityRepository(session, tenant_id)
    row = await repo.settings(for_update=True)
    before = bool(row and row.cross_course)
    now = clock.utcnow()
    if row is None:
        row = SimilaritySettings(tenant_id=tenant_id, cross_course=data.cross_course, updated_at=now)
        session.add(row)
    row.cross_course, row.updated_by, row.updated_at = data.cross_course, ctx.user_id, now
    await session.flush()
    await audit.record(
        session,
        audit.Entry(
            action="similarity.settings_changed",
            tenant_id=tenant_id,
            actor_user_id=ctx.user_id,
            actor_label=ctx.actor_label,
            meta=ctx.meta,
            target_type="tenant",
            target_id=str(tenant_id),
            details={"cross_course": {"from": before, "to": data.cross_course}},
        ),
    )
    return _settings_read(row)


# ---- the report -------------------------------------------------------------------------------------------


def _percent(chars: int, total: int) -> float:
    return round(100.0 * chars / total, 1) if total else 0.0


async def _may_teach(session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> bool:
    try:
        await access_document(session, ctx, document_id, Need.teach)
    except (DocumentNotFound, Forbidden):
        return False
    return True


def _oriented(m: SimilarityMatch, me: uuid.UUID) -> tuple[uuid.UUID, list[tuple[list[int], list[int], bool, int]]]:
    """The other submission and the passages as ``(here span, there span, quoted, words)`` for ``me``."""
    flip = m.submission_id != me
    out = []
    for p in m.passages:
        here, there = (p["b"], p["a"]) if flip else (p["a"], p["b"])
        out.append((here, there, bool(p["quoted_a"] or p["quoted_b"]), int(p["words"])))
    return (m.submission_id if flip else m.other_submission_id), out


def _other(d: Described) -> OtherSubmission:
    return OtherSubmission(
        submission_id=d.submission_id,
        document_id=d.document_id,
        assignment_id=d.assignment_id,
        assignment_title=d.assignment_title,
        course_id=d.course_id,
        course_title=d.course_title,
        author_name=d.author_name,
    )


async def readable(
    session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID
) -> tuple[SimilarityRepository, Source, DocumentAccess]:
    """The submission with its text and the caller's access to it, or 404 ``SubmissionNotFound`` for anyone who
    may not read it (its author or group, the course's staff; ``writing.access``)."""
    if ctx.tenant_id is None:
        raise SubmissionNotFound()
    repo = SimilarityRepository(session, ctx.tenant_id)
    me = await repo.source(submission_id)
    if me is None:
        raise SubmissionNotFound()
    try:
        da = await access_document(session, ctx, me.document_id)
    except DocumentNotFound:
        raise SubmissionNotFound() from None
    return repo, me, da


async def similarity_summary(
    session: AsyncSession,
    ctx: AuthContext,
    submission_id: uuid.UUID,
    *,
    audit_session: AsyncSession | None = None,
) -> SimilarityRead:
    """The overlap report of one submission for ``ctx`` (404 ``SubmissionNotFound`` for anyone who may not read
    it). ``audit_session`` (a write session) records a staff member's view."""
    repo, me, da = await readable(session, ctx, submission_id)
    staff = da.is_staff
    row = await repo.index_row(submission_id)
    cross = await _cross_course(repo)
    rows = await repo.matches_of(submission_id)
    oriented = [(m, *_oriented(m, submission_id)) for m in rows if cross or m.scope != MatchScope.institution]
    others = [other for _, other, _ in oriented]
    described = await repo.describe(others)
    # a student sees the other side only of their own earlier work (their own text, reused)
    own = {} if staff else await repo.sources(others)
    visible: dict[uuid.UUID, bool] = {}
    for m, other, _ in oriented:
        d = described.get(other)
        if d is None:
            visible[other] = False
        elif not staff:
            src = own.get(other)
            visible[other] = src is not None and src.author_user_id is not None and src.author_user_id == ctx.user_id
        elif m.scope != MatchScope.institution:
            visible[other] = True  # same course: the viewer is its staff
        else:
            visible[other] = await _may_teach(session, ctx, d.document_id)
    revealed = [o for o, v in visible.items() if v]
    texts = {o: own[o] for o in revealed} if not staff else await repo.sources(revealed)
    plain: list[tuple[int, int]] = []
    quoted: list[tuple[int, int]] = []
    matches: list[tuple[float, MatchRead]] = []
    n = len(me.text)
    for m, other, passages in oriented:
        here_plain = [(h[0], h[1]) for h, _, q, _ in passages if not q]
        here_quoted = [(h[0], h[1]) for h, _, q, _ in passages if q]
        plain += here_plain
        quoted += here_quoted
        other_src = texts.get(other) if visible[other] else None
        flip = m.submission_id != submission_id
        share, other_share = (m.other_share, m.share) if flip else (m.share, m.other_share)
        shown = [
            PassageRead(
                words=words,
                quoted=q,
                here=Excerpt(**st.excerpt(me.text, h[0], h[1])),  # type: ignore[arg-type]
                there=Excerpt(**st.excerpt(other_src.text, t[0], t[1])) if other_src else None,  # type: ignore[arg-type]
            )
            for h, t, q, words in passages[:MAX_PASSAGES_SHOWN]
        ]
        matches.append(
            (
                share,
                MatchRead(
                    scope=m.scope,  # type: ignore[arg-type]
                    other=_other(described[other]) if visible[other] else None,
                    share_percent=_percent(st.covered_chars(here_plain), n),
                    other_share_percent=round(100.0 * other_share, 1),
                    quoted_percent=_percent(st.covered_chars(here_quoted), n),
                    passages=shown,
                ),
            )
        )
    matches.sort(key=lambda x: (-x[0], -len(x[1].passages)))
    report = SimilarityRead(
        submission_id=submission_id,
        state=row.state if row is not None else "pending",  # type: ignore[arg-type]
        indexed_at=row.indexed_at if row is not None else None,
        overlap_percent=_percent(st.covered_chars(plain), n),
        quoted_percent=_percent(st.covered_chars(quoted), n),
        cross_course=cross,
        viewer="staff" if staff else "student",
        matches=[mr for _, mr in matches[:MAX_MATCHES_SHOWN]],
        matches_total=len(matches),
    )
    if staff and audit_session is not None:
        shown_others = [str(mr.other.submission_id) for mr in report.matches if mr.other is not None]
        await audit.record(audit_session, viewed_entry(ctx, me, "similarity", others=shown_others))
    return report


def viewed_entry(ctx: AuthContext, me: Source, what: str, **details: Any) -> audit.Entry:
    return audit.Entry(
        action=f"{what}.viewed",
        tenant_id=ctx.tenant_id,
        actor_user_id=ctx.user_id,
        actor_label=ctx.actor_label,
        meta=ctx.meta,
        target_type="submission",
        target_id=str(me.submission_id),
        details={"document_id": str(me.document_id), "assignment_id": str(me.assignment_id), **details},
    )


async def report_section(session: AsyncSession, ctx: AuthContext, report: Any) -> dict[str, Any] | None:
    """The similarity section of the integrity report (``integrity.service.SECTION_MODULES``): the same summary,
    for a submitted report only. The report's own view is audited by the integrity service."""
    if getattr(report, "submission_id", None) is None:
        return None
    return (await similarity_summary(session, ctx, report.submission_id)).model_dump(mode="json")
