"""Style drift: the comparison on crafted texts (same writer: no observation; a different register: observations
with the measured values and the baseline), "not enough earlier writing", group work, access, audit and the API."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import AssignmentKind, CourseRole
from scribetree.identity.models import User
from scribetree.integrity.style_drift import FUNCTION_WORDS, burrows_delta, compare, profile, style_drift
from scribetree.writing.exceptions import SubmissionNotFound
from scribetree.writing.models import Submission
from tests.factories.courses import create_assignment, create_course, create_course_member, create_group
from tests.factories.writing import create_document, create_submission
from tests.writing.conftest import ClientFor, CtxFor, Klass

PLAIN = [
    "I like to write in the morning when the house is quiet.",
    "My sister thinks this is strange but it works for me.",
    "Last week I wrote about my grandfather and his old farm.",
    "He kept cows and a few pigs and one very angry goose.",
    "We went there every summer when I was small.",
    "I remember the smell of hay and the sound of the rain on the roof.",
    "The goose chased me once and I cried for an hour.",
    "Now the farm is gone and there are houses on the fields.",
    "I think about it when I drive past on the way to school.",
    "My teacher asked us to write about a place that changed.",
    "So I picked the farm because it changed the most.",
    "It was hard to start but then the words came fast.",
    "I wrote three pages and then I stopped to eat.",
    "After lunch I read it again and cut the boring parts.",
    "I am not sure the ending is good yet.",
    "Maybe I will ask my friend to read it.",
    "She is good at finding the parts that do not make sense.",
    "I also want to add a photo of the barn if I can find one.",
    "My mom has a box of old pictures in the closet.",
    "We looked through it on Sunday and laughed a lot.",
    "There was one of me with a bucket on my head.",
    "I do not remember that day at all.",
    "My dad says I was a funny kid.",
    "I still like the rain and the smell of hay.",
    "When I finish school I want to live near fields again.",
    "It feels calm there and I can think.",
    "Cities are fine but they are loud.",
    "I wrote this part fast because I knew what to say.",
    "The next part will be harder for me.",
    "I need to explain why the change matters to me.",
    "My friend read the draft and said the goose part was the best.",
    "I laughed because that part was true.",
]
ACADEMIC = [
    "The transformation of agricultural land into suburban housing, which accelerated considerably during the latter "
    "half of the twentieth century, thus reflects a broader reconfiguration of the relationship between rural "
    "communities and metropolitan economies.",
    "Whereas earlier scholarship tended to romanticise the family farm as a repository of authentic national values, "
    "more recent historiography has emphasised the extent to which such enterprises were embedded within commercial "
    "networks upon which their survival depended.",
    "It is therefore necessary to consider not merely the physical disappearance of the farmstead but also the "
    "attendant erosion of those forms of sociability through which neighbouring households had hitherto sustained "
    "one another.",
    "Such a perspective, although it risks overstating the coherence of pre-war rural life, nonetheless permits an "
    "analysis whereby memory itself becomes an object of inquiry rather than a transparent record of the past.",
    "Consequently, the narrator's recollection of the landscape ought to be understood as a construction shaped by "
    "subsequent experience, within which nostalgia operates as an interpretive framework.",
    "Moreover, the juxtaposition of pastoral imagery with the encroaching residential development thereby "
    "foregrounds the tension between continuity and rupture upon which the entire argument ultimately rests.",
    "In this respect the essay participates in a long tradition of elegiac writing about the countryside.",
    "Yet the most striking feature of the account is its refusal to resolve that tension into a simple lament.",
]


def plain(seed: int, n: int = 32) -> str:
    rng = random.Random(seed)
    return " ".join(rng.sample(PLAIN, n))


def academic(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.sample(ACADEMIC, len(ACADEMIC)))


class TestCompare:
    def test_the_same_writer_shows_no_shift(self) -> None:
        result = compare(plain(10, 24), [plain(1), plain(2), plain(3)])
        assert result["observations"] == []
        assert all(not m.shifted for m in result["measures"])  # type: ignore[attr-defined]

    def test_a_different_register_is_observed_with_values_and_baseline(self) -> None:
        result = compare(academic(5), [plain(1), plain(2), plain(3)])
        measures = {m.name: m for m in result["measures"]}  # type: ignore[attr-defined]
        length = measures["sentence_length_mean"]
        assert length.shifted and length.value > 2 * length.baseline_mean
        said = length.observation
        assert said.startswith("Sentence length: ") and " words here; " in said and " ± " in said
        assert f"{length.value:.1f} words here" in said and f"{length.baseline_mean:.1f} ± " in said
        assert measures["syllables_per_word"].shifted
        assert said in result["observations"]  # type: ignore[operator]
        assert not any("cheat" in o.lower() or "plagiar" in o.lower() for o in result["observations"])  # type: ignore[union-attr]

    def test_function_word_profile(self) -> None:
        assert len(FUNCTION_WORDS) >= 100 and len(set(FUNCTION_WORDS)) == len(FUNCTION_WORDS)
        p = profile(["the", "cat", "and", "the", "dog", "of", "the", "house"])
        assert abs(p[FUNCTION_WORDS.index("the")] - 3 / 8) < 1e-9 and abs(sum(p) - 5 / 8) < 1e-9
        base = [profile(plain(s).split()) for s in (1, 2, 3)]
        same = burrows_delta(profile(plain(9).split()), base)
        other = burrows_delta(profile(academic(1).split()), base)
        assert other > 2 * same


async def earlier_and_now(session: AsyncSession, klass: Klass, texts: list[str], now_text: str) -> Submission:
    """``texts`` as the student's earlier submissions (one assignment each, a day apart), then ``now_text``."""
    start = clock.utcnow() - timedelta(days=len(texts) + 1)
    for i, text in enumerate(texts):
        a = await create_assignment(session, klass.course, title=f"Earlier {i}")
        doc = await create_document(session, a, owner=klass.student, text=text)
        sub = await create_submission(session, doc, klass.student)
        sub.submitted_at = start + timedelta(days=i)
    doc = await create_document(session, klass.assignment, owner=klass.student, text=now_text)
    sub = await create_submission(session, doc, klass.student)
    await session.commit()
    return sub


class TestService:
    async def test_observations_against_the_students_own_earlier_submissions(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        sub = await earlier_and_now(session, klass, [plain(1), plain(2)], academic(3))
        report = await style_drift(session, await ctx_for(klass.student, klass.tenant), sub.id)
        assert report.status == "ok" and report.earlier_texts == 2 and report.earlier_words >= 600
        assert report.observations and all("your earlier writing" in o for o in report.observations)
        assert "not a finding" in report.message
        staff = await style_drift(session, await ctx_for(klass.instructor, klass.tenant), sub.id)
        assert all("the student's earlier writing" in o for o in staff.observations)
        assert [m.value for m in staff.measures] == [m.value for m in report.measures]

    async def test_not_enough_earlier_writing(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        # one long earlier text and one under 300 words: not enough
        sub = await earlier_and_now(session, klass, [plain(1), plain(2, 12)], academic(3))
        report = await style_drift(session, await ctx_for(klass.instructor, klass.tenant), sub.id)
        assert report.status == "not_enough_earlier_writing" and report.earlier_texts == 1
        assert report.measures == [] and report.observations == []
        assert "Not enough earlier writing" in report.message and "300 words" in report.message

    async def test_a_short_submission_is_not_compared(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        sub = await earlier_and_now(session, klass, [plain(1), plain(2)], plain(3, 8))
        report = await style_drift(session, await ctx_for(klass.student, klass.tenant), sub.id)
        assert report.status == "too_short" and report.earlier_texts == 2 and report.measures == []
        assert f"{report.words} words" in report.message and report.words < 150

    async def test_later_and_other_students_texts_are_not_the_baseline(
        self, session: AsyncSession, klass: Klass, ctx_for: CtxFor
    ) -> None:
        sub = await earlier_and_now(session, klass, [plain(1)], academic(3))
        other = await create_assignment(session, klass.course, title="Classmate's")
        doc = await create_document(session, other, owner=klass.classmate, text=plain(4))
        await create_submission(session, doc, klass.classmate)
        later = await create_assignment(session, klass.course, title="Later")
        doc = await create_document(session, later, owner=klass.student, text=plain(5))
        await create_submission(session, doc, klass.student)  # submitted after ``sub``
        await session.commit()
        report = await style_drift(session, await ctx_for(klass.instructor, klass.tenant), sub.id)
        assert report.status == "not_enough_earlier_writing" and report.earlier_texts == 1

    async def test_group_work_is_not_compared(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        a = await create_assignment(session, klass.course, kind=AssignmentKind.group, title="Group")
        group = await create_group(session, a, [klass.student, klass.classmate])
        doc = await create_document(session, a, group=group, text=academic(1))
        sub = await create_submission(session, doc, klass.student)
        await session.commit()
        report = await style_drift(session, await ctx_for(klass.instructor, klass.tenant), sub.id)
        assert report.status == "not_applicable"

    async def test_only_the_author_and_course_staff(self, session: AsyncSession, klass: Klass, ctx_for: CtxFor) -> None:
        sub = await earlier_and_now(session, klass, [plain(1), plain(2)], academic(3))
        other_course = await create_course(session, klass.tenant)
        stranger: User = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        await session.commit()
        for who in (klass.classmate, stranger):
            with pytest.raises(SubmissionNotFound):
                await style_drift(session, await ctx_for(who, klass.tenant), sub.id)


class TestApi:
    async def test_endpoint_audits_staff_and_answers_404(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        sub = await earlier_and_now(session, klass, [plain(1), plain(2)], academic(3))
        ta = await client_for(klass.ta, klass.tenant)
        r = await ta.get(f"/api/v1/submissions/{sub.id}/style-drift")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        names = {m["name"] for m in r.json()["measures"]}
        assert {"sentence_length_mean", "mtld", "function_word_delta"} <= names
        student = await client_for(klass.student, klass.tenant)
        assert (await student.get(f"/api/v1/submissions/{sub.id}/style-drift")).status_code == 200
        await session.rollback()
        views = await session.scalar(
            select(func.count()).where(AuditEvent.action == "style_drift.viewed", AuditEvent.target_id == str(sub.id))
        )
        assert views == 1  # the TA's view; the author's own is not audited
        r = await ta.get(f"/api/v1/submissions/{uuid.uuid4()}/style-drift")
        assert r.status_code == 404 and r.json()["error"] == "SubmissionNotFound"
