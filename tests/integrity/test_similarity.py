"""Similarity: winnowing and alignment on crafted texts, the incremental index against a full rebuild, tenant
and course isolation, the institution's consent, who sees what, the submit hook and the API."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import jobs
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment, CourseRole
from scribetree.identity.models import User
from scribetree.integrity import similarity
from scribetree.integrity import similarity_text as st
from scribetree.integrity.similarity_models import SimilarityFingerprint, SimilarityMatch, SimilaritySubmission
from scribetree.integrity.similarity_repository import SimilarityRepository
from scribetree.integrity.similarity_schemas import SimilaritySettingsUpdate
from scribetree.tenancy.models import Role, Tenant
from scribetree.writing.exceptions import SubmissionNotFound
from scribetree.writing.models import DocumentVersion, Submission
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.tenancy import create_member
from tests.factories.writing import create_document, create_submission
from tests.writing import conftest as writing_fixtures
from tests.writing.conftest import ClientFor, CtxFor, Klass
from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer

# the writing tests' class (also exposed by tests/integrity/conftest.py; repeated so this file stands alone)
klass = writing_fixtures.klass
ctx_for = writing_fixtures.ctx_for
client_for = writing_fixtures.client_for

SOURCE = (
    "The printing press did more than make books cheaper. It changed who could take part in arguments about "
    "religion and politics, because pamphlets could be printed in a few days and sold in the street. Within a "
    "generation, ordinary readers expected to form their own opinions about questions that had once belonged to "
    "scholars and priests. Historians still disagree about how quickly literacy spread in the countryside, but "
    "most accept that the towns changed first and fastest."
)
SHARED_1 = (
    "It changed who could take part in arguments about religion and politics, because pamphlets could be printed "
    "in a few days and sold in the street."
)
SHARED_2 = "Historians still disagree about how quickly literacy spread in the countryside"
PARAPHRASE = (
    "My essay looks at cheap print in early modern Europe and what it meant for my own town. "
    + SHARED_1
    + " I found parish records that show a school opening in 1560 and a bookseller a decade later. "
    + SHARED_2
    + ", and my records are too thin to settle it either way."
)
QUOTED = (
    "Cheap print mattered for politics. As one historian puts it, “it changed who could take part in arguments "
    "about religion and politics, because pamphlets could be printed in a few days and sold in the street” "
    "(Eisenstein, 1979, p. 12). My own view is narrower: the change came slowly and unevenly. Historians still "
    "disagree about how quickly literacy spread in the countryside (Cressy 1980). I agree with the cautious side."
)
UNRELATED = (
    "Photosynthesis turns light into chemical energy. Plants capture photons with chlorophyll in their leaves, "
    "split water, and release oxygen while they build sugars from carbon dioxide over the course of the day."
)


async def submit(session: AsyncSession, assignment: Assignment, student: User, text: str) -> Submission:
    doc = await create_document(session, assignment, owner=student, text=text)
    return await create_submission(session, doc, student)


async def indexed(session: AsyncSession, sub: Submission) -> None:
    await similarity.index_submission(session, sub.tenant_id, sub.id)
    await session.commit()


async def pair(session: AsyncSession, klass: Klass, text: str) -> tuple[Submission, Submission]:
    """SOURCE by the student, ``text`` by the classmate, both indexed in that order."""
    first = await submit(session, klass.assignment, klass.student, SOURCE)
    await indexed(session, first)
    second = await submit(session, klass.assignment, klass.classmate, text)
    await indexed(session, second)
    return first, second


# ---- pure -------------------------------------------------------------------------------------------------


class TestWinnowing:
    def test_a_shared_run_of_w_plus_k_minus_1_words_always_shares_a_fingerprint(self) -> None:
        rng = random.Random(6)
        vocab = [f"w{i}" for i in range(400)]
        for _ in range(200):
            run = " ".join(rng.choice(vocab) for _ in range(st.W + st.K - 1))
            a = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30))) + " " + run
            b = run + " " + " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30)))
            ha = {f.hash for f in st.fingerprints(st.analyse(a))}
            hb = {f.hash for f in st.fingerprints(st.analyse(b))}
            assert ha & hb, (a, b)

    def test_fingerprints_are_stable_case_and_punctuation_blind_and_map_to_characters(self) -> None:
        a = st.fingerprints(st.analyse("One two three, four five six seven eight."))
        b = st.fingerprints(st.analyse("ONE two  three four; five six seven eight"))
        assert [f.hash for f in a] == [f.hash for f in b]
        text = "Alpha beta gamma delta epsilon zeta"
        (f, *_) = st.fingerprints(st.analyse(text))
        assert text[f.start : f.end].split()[0].lower() in {"alpha", "beta"}
        assert st.fingerprints(st.analyse("too short")) == []

    def test_quoted_and_cited_text_is_detected(self) -> None:
        text = (
            'She wrote "a quoted passage here" and then more.\n'
            "> A block quote line\n"
            "My claim is supported by evidence (Smith, 2019). Another own sentence.\n"
            "A numbered source says so [3]. Mine again.\n"
            "References\nSmith, J. (2019). A book. Press."
        )
        spans = [text[s:e] for s, e in st.quoted_spans(text)]
        assert '"a quoted passage here"' in spans
        assert any(s.startswith("> A block quote") for s in spans)
        assert any("supported by evidence (Smith, 2019)" in s and "Another" not in s for s in spans)
        assert any(s.strip().startswith("A numbered source says so [3]") for s in spans)
        assert any(s.startswith("References") and s.endswith("Press.") for s in spans)
        assert not any("Mine again" in s or "Another own sentence" in s for s in spans)

    def test_alignment_drops_hash_collisions_and_merges_runs_separated_by_a_small_gap(self) -> None:
        a = st.analyse("one two three four five six seven eight nine ten eleven twelve")
        b = st.analyse("one two three four five six seven eight nein ten eleven twelve thirteen fourteen")
        assert st.align(a, b, [(0, 3)]) == []  # the words at the seed differ: a collision, dropped
        (p,) = st.align(a, b, [(0, 0)], min_run=8)
        assert (p.a_start, p.b_start, p.words) == (0, 0, 8)
        c = st.analyse("x " * 3 + "one two three four five six seven eight nine ten eleven twelve")
        d = st.analyse("one two three four five six seven eight q ten eleven twelve thirteen fourteen fifteen 16 17")
        merged = st.align(c, d, [(3, 0), (12, 9)], k=3, min_run=3)
        assert len(merged) == 1 and merged[0].words == 12


# ---- crafted texts through the index -------------------------------------------------------------------------


class TestCraftedTexts:
    async def test_exact_copy(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        first, second = await pair(session, klass, SOURCE)
        ctx = await ctx_for(klass.instructor, klass.tenant)
        report = await similarity.similarity_summary(session, ctx, second.id)
        assert report.state == "indexed" and report.viewer == "staff"
        (m,) = report.matches
        assert m.scope == "assignment" and m.other is not None and m.other.submission_id == first.id
        assert m.share_percent >= 95 and m.other_share_percent >= 95 and report.overlap_percent >= 95
        (p,) = m.passages
        assert p.here.text == p.there.text if p.there else False
        assert not p.quoted
        # the earlier submission's report shows the same match, seen from its side
        back = await similarity.similarity_summary(session, ctx, first.id)
        assert back.matches[0].other is not None and back.matches[0].other.submission_id == second.id

    async def test_paraphrase_with_shared_sentences(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        _, second = await pair(session, klass, PARAPHRASE)
        report = await similarity.similarity_summary(session, await ctx_for(klass.instructor, klass.tenant), second.id)
        (m,) = report.matches
        texts = [p.here.text for p in m.passages]
        assert texts == [SHARED_1.rstrip("."), SHARED_2]
        assert all(p.there is not None and p.there.text == p.here.text for p in m.passages)
        expected = 100 * (len(SHARED_1) - 1 + len(SHARED_2)) / len(PARAPHRASE)
        assert abs(report.overlap_percent - expected) < 0.2
        assert 20 < report.overlap_percent < 80

    async def test_quoted_passage_with_citation_is_reported_apart(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        _, second = await pair(session, klass, QUOTED)
        report = await similarity.similarity_summary(session, await ctx_for(klass.instructor, klass.tenant), second.id)
        (m,) = report.matches
        assert len(m.passages) == 2 and all(p.quoted for p in m.passages)
        assert report.overlap_percent == 0 and m.share_percent == 0
        assert report.quoted_percent > 30 and m.quoted_percent == report.quoted_percent

    async def test_unrelated_text_has_no_match(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        _, second = await pair(session, klass, UNRELATED)
        report = await similarity.similarity_summary(session, await ctx_for(klass.instructor, klass.tenant), second.id)
        assert report.matches == [] and report.overlap_percent == 0 and report.state == "indexed"

    async def test_a_common_short_phrase_is_not_a_passage(self, session: AsyncSession, klass: Klass) -> None:
        _, second = await pair(session, klass, "On the other hand, the printing press did more than I thought.")
        assert await SimilarityRepository(session, klass.tenant.id).matches_of(second.id) == []


# ---- the index ------------------------------------------------------------------------------------------------


async def _snapshot(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[object, object, object]:
    await session.rollback()
    repo = SimilarityRepository(session, tenant_id)
    matches = sorted(
        (m.submission_id, m.other_submission_id, m.scope, m.chars, m.other_chars, m.quoted_chars, str(m.passages))
        for m in await repo.all_matches()
    )
    prints = sorted(await repo.all_fingerprints())
    rows = (
        await session.scalars(select(SimilaritySubmission).where(SimilaritySubmission.tenant_id == tenant_id))
    ).all()
    states = sorted((r.submission_id, r.state, r.fingerprint_count, r.token_count, r.quoted_chars) for r in rows)
    return matches, prints, states


class TestIndex:
    async def test_incremental_indexing_equals_a_full_rebuild(self, session: AsyncSession, klass: Klass) -> None:
        rng = random.Random(1)
        sentences = [s.strip() + "." for s in (SOURCE + " " + PARAPHRASE + " " + UNRELATED).split(".") if s.strip()]
        students = [klass.student, klass.classmate]
        for i in range(4):
            students.append(
                await create_course_member(
                    session, klass.course, klass.tenant, CourseRole.student, display_name=f"S{i}"
                )
            )
        for i, who in enumerate(students):
            text = " ".join(rng.sample(sentences, 4)) if i else QUOTED
            await indexed(session, await submit(session, klass.assignment, who, text))
        incremental = await _snapshot(session, klass.tenant.id)
        assert incremental[0], "the crafted texts share sentences: there must be matches"
        assert await similarity.rebuild(session, klass.tenant.id) == len(students)
        await session.commit()
        assert await _snapshot(session, klass.tenant.id) == incremental

    async def test_indexing_twice_changes_nothing(self, session: AsyncSession, klass: Klass) -> None:
        _, second = await pair(session, klass, PARAPHRASE)
        before = await _snapshot(session, klass.tenant.id)
        await indexed(session, second)
        assert (await _snapshot(session, klass.tenant.id))[:2] == before[:2]

    async def test_a_resubmission_supersedes_the_earlier_attempt(self, session: AsyncSession, klass: Klass) -> None:
        first = await submit(session, klass.assignment, klass.student, SOURCE)
        await indexed(session, first)
        version = await session.get(DocumentVersion, first.version_id)
        assert version is not None
        again = Submission(
            tenant_id=first.tenant_id,
            document_id=first.document_id,
            assignment_id=first.assignment_id,
            version_id=version.id,
            submitted_by=klass.student.id,
            attempt=2,
            revision=first.revision,
            content_hash=first.content_hash,
            word_count=first.word_count,
            submitted_at=first.submitted_at + timedelta(minutes=5),
        )
        session.add(again)
        await session.flush()
        await indexed(session, again)
        repo = SimilarityRepository(session, klass.tenant.id)
        assert await repo.matches_of(again.id) == []  # never compared with its own first attempt
        assert (await repo.index_row(first.id)).state == "superseded"  # type: ignore[union-attr]
        left = await session.scalars(
            select(SimilarityFingerprint.submission_id).where(SimilarityFingerprint.tenant_id == klass.tenant.id)
        )
        assert set(left.all()) == {again.id}

    async def test_a_new_submission_is_compared_through_the_index_without_rescanning(
        self, session: AsyncSession, klass: Klass
    ) -> None:
        """Only submissions sharing a fingerprint are read: an unrelated indexed text is never loaded."""
        first = await submit(session, klass.assignment, klass.student, UNRELATED)
        await indexed(session, first)
        loaded: list[uuid.UUID] = []
        original = SimilarityRepository.sources

        async def spy(self: SimilarityRepository, ids: list[uuid.UUID]) -> object:
            loaded.extend(ids)
            return await original(self, ids)

        SimilarityRepository.sources = spy  # type: ignore[method-assign,assignment]
        try:
            second = await submit(session, klass.assignment, klass.classmate, SOURCE)
            await indexed(session, second)
        finally:
            SimilarityRepository.sources = original  # type: ignore[method-assign]
        assert first.id not in loaded


# ---- isolation and consent --------------------------------------------------------------------------------


class TestIsolation:
    async def test_other_tenants_are_never_compared(
        self, session: AsyncSession, klass: Klass, other_tenant: Tenant
    ) -> None:
        course = await create_course(session, other_tenant)
        stranger = await create_course_member(session, course, other_tenant, CourseRole.student)
        theirs = await submit(session, await create_assignment(session, course), stranger, SOURCE)
        await indexed(session, theirs)
        mine = await submit(session, klass.assignment, klass.student, SOURCE)
        await indexed(session, mine)
        assert await SimilarityRepository(session, klass.tenant.id).matches_of(mine.id) == []
        assert await SimilarityRepository(session, other_tenant.id).matches_of(theirs.id) == []

    async def test_courses_are_compared_only_with_the_institutions_consent(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        other_course = await create_course(session, klass.tenant, title="Another course")
        other_teacher = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        outsider = await create_course_member(session, other_course, klass.tenant, CourseRole.student)
        admin, _ = await create_member(session, klass.tenant, Role.institution_admin)
        await session.commit()
        elsewhere = await submit(session, await create_assignment(session, other_course), outsider, SOURCE)
        await indexed(session, elsewhere)
        same_course = await create_assignment(session, klass.course, title="Second essay")
        mine = await submit(session, same_course, klass.student, SOURCE)
        await indexed(session, mine)
        teacher = await ctx_for(klass.instructor, klass.tenant)
        assert (await similarity.similarity_summary(session, teacher, mine.id)).matches == []  # consent off

        admin_ctx = await ctx_for(admin, klass.tenant)
        await similarity.put_settings(session, admin_ctx, SimilaritySettingsUpdate(cross_course=True))
        await session.commit()
        classmate_sub = await submit(session, same_course, klass.classmate, SOURCE)
        await indexed(session, classmate_sub)
        seen = await similarity.similarity_summary(session, teacher, classmate_sub.id)
        scopes = sorted(m.scope for m in seen.matches)
        assert scopes == ["assignment", "institution"]
        cross = next(m for m in seen.matches if m.scope == "institution")
        # the instructor does not teach the other course: the match shows, the other student's text does not
        assert cross.other is None and all(p.there is None for p in cross.passages)
        full = await similarity.similarity_summary(session, await ctx_for(admin, klass.tenant), classmate_sub.id)
        cross = next(m for m in full.matches if m.scope == "institution")
        assert cross.other is not None and cross.other.submission_id == elsewhere.id
        assert cross.passages[0].there is not None
        other_view = await similarity.similarity_summary(
            session, await ctx_for(other_teacher, klass.tenant), elsewhere.id
        )
        assert [m.other for m in other_view.matches] == [None]  # the other course's teacher: only their side

        await similarity.put_settings(session, admin_ctx, SimilaritySettingsUpdate(cross_course=False))
        await session.commit()
        hidden = await similarity.similarity_summary(session, teacher, classmate_sub.id)
        assert [m.scope for m in hidden.matches] == ["assignment"]


class TestWhoSeesWhat:
    async def test_the_author_sees_only_their_own_side(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        first, second = await pair(session, klass, PARAPHRASE)
        report = await similarity.similarity_summary(session, await ctx_for(klass.classmate, klass.tenant), second.id)
        assert report.viewer == "student"
        (m,) = report.matches
        assert m.other is None and m.passages and all(p.there is None for p in m.passages)
        assert "printing press did more" not in report.model_dump_json()  # the other student's own sentences
        with pytest.raises(SubmissionNotFound):  # and never the other student's report
            await similarity.similarity_summary(session, await ctx_for(klass.classmate, klass.tenant), first.id)

    async def test_a_student_sees_both_sides_of_their_own_reused_text(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        earlier = await submit(
            session, await create_assignment(session, klass.course, title="First"), klass.student, SOURCE
        )
        await indexed(session, earlier)
        later = await submit(session, klass.assignment, klass.student, PARAPHRASE)
        await indexed(session, later)
        (m,) = (
            await similarity.similarity_summary(session, await ctx_for(klass.student, klass.tenant), later.id)
        ).matches
        assert m.scope == "course" and m.other is not None and m.other.submission_id == earlier.id
        assert all(p.there is not None and p.there.text == p.here.text for p in m.passages)

    async def test_staff_of_another_course_get_404(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        _, second = await pair(session, klass, SOURCE)
        other_course = await create_course(session, klass.tenant)
        stranger = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        await session.commit()
        with pytest.raises(SubmissionNotFound):
            await similarity.similarity_summary(session, await ctx_for(stranger, klass.tenant), second.id)
        with pytest.raises(SubmissionNotFound):
            await similarity.similarity_summary(session, await ctx_for(klass.student, klass.tenant), uuid.uuid4())


# ---- the hook, the job and the API ------------------------------------------------------------------------------


class TestApi:
    async def test_submitting_enqueues_indexing_in_the_same_transaction(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        first = await submit(session, klass.assignment, klass.classmate, SOURCE)
        await indexed(session, first)
        c = await client_for(klass.student, klass.tenant)
        w = Writer(c, await open_doc(c, klass.assignment.id))
        await w.send([{"kind": "insert", "t": 1_764_000_000_000, "pos": 0, "text": PARAPHRASE}])
        r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
        assert r.status_code == 201, r.text
        sid = r.json()["submission_id"] if "submission_id" in r.json() else r.json()["id"]
        await session.rollback()
        job = (await session.scalars(select(jobs.Job).where(jobs.Job.actor == similarity.INDEX_ACTOR))).one()
        assert job.args == {"submission_id": sid} and job.tenant_id == klass.tenant.id
        await jobs.run_pending()
        report = (await c.get(f"/api/v1/submissions/{sid}/similarity")).json()
        assert report["state"] == "indexed" and report["viewer"] == "student"
        assert [p["here"]["text"] for p in report["matches"][0]["passages"]] == [SHARED_1.rstrip("."), SHARED_2]
        # the integrity report carries both sections (integrity.service.SECTION_MODULES)
        r = await c.get(f"/api/v1/submissions/{sid}/integrity")
        assert r.status_code == 200, r.text
        sections = r.json()["sections"]
        assert sections["similarity"]["overlap_percent"] == report["overlap_percent"]
        assert sections["similarity"]["matches"][0]["other"] is None  # the student's own report: their side only
        assert sections["style_drift"]["status"] == "not_enough_earlier_writing"

    async def test_staff_view_is_audited_and_errors_have_codes(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        first, second = await pair(session, klass, SOURCE)
        ta = await client_for(klass.ta, klass.tenant)
        r = await ta.get(f"/api/v1/submissions/{second.id}/similarity")
        assert r.status_code == 200 and r.json()["matches"][0]["other"]["submission_id"] == str(first.id)
        await session.rollback()
        event = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "similarity.viewed", AuditEvent.actor_user_id == klass.ta.id
                )
            )
        ).one()
        assert event.target_id == str(second.id) and event.details["others"] == [str(first.id)]
        r = await ta.get(f"/api/v1/submissions/{uuid.uuid4()}/similarity")
        assert r.status_code == 404 and r.json()["error"] == "SubmissionNotFound"
        r = await ta.get("/api/v1/submissions/not-a-uuid/similarity")
        assert r.status_code == 422

    async def test_consent_setting_is_admin_only_validated_and_audited(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        admin, _ = await create_member(session, klass.tenant, Role.institution_admin)
        await session.commit()
        a = await client_for(admin, klass.tenant)
        assert (await a.get("/api/v1/similarity-settings")).json()["cross_course"] is False
        for bad in ({"cross_course": "yes"}, {}, {"cross_course": True, "extra": 1}):
            r = await a.put("/api/v1/similarity-settings", json=bad)
            assert r.status_code == 422, bad
        assert (await a.get("/api/v1/similarity-settings")).json()["cross_course"] is False
        r = await a.put("/api/v1/similarity-settings", json={"cross_course": True})
        assert r.status_code == 200 and r.json()["cross_course"] is True
        assert (await a.get("/api/v1/similarity-settings")).json()["updated_by"] == str(admin.id)
        teacher = await client_for(klass.instructor, klass.tenant)
        r = await teacher.put("/api/v1/similarity-settings", json={"cross_course": False})
        assert r.status_code == 403
        assert (await a.get("/api/v1/similarity-settings")).json()["cross_course"] is True
        await session.rollback()
        event = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "similarity.settings_changed"))
        ).one()
        assert event.details["cross_course"] == {"from": False, "to": True}

    async def test_sweep_enqueues_what_the_hook_missed(self, session: AsyncSession, klass: Klass) -> None:
        missed = await submit(session, klass.assignment, klass.student, SOURCE)
        await session.commit()
        await similarity.sweep(session)
        await session.commit()
        await jobs.run_pending()
        await session.rollback()
        row = await SimilarityRepository(session, klass.tenant.id).index_row(missed.id)
        assert row is not None and row.state == "indexed" and row.fingerprint_count > 0
        count = await session.scalar(select(SimilarityMatch.id).where(SimilarityMatch.tenant_id == klass.tenant.id))
        assert count is None
