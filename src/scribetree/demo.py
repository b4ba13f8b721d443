"""The demo institution for the embedded default: an admin, two educators, a dozen students, and
platform staff, plus a course with a published assignment (stages, rubric, objectives) that every demo
student is enrolled in, and one student's draft already under way, so every role has something to see.
Three weeks of writing history (two earlier assignments, written day by day through the real batch path with
the clock moved back) give the insight pages real figures: steady writers, a bursty one, a last-minute one, a
stalled one, one who never started, a heavy reviser and one behind the stage schedule.
Idempotent: running it again adds only what is missing. Refused in production.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.analytics.service import analytics as analytics_service
from scribetree.core import clock
from scribetree.core.audit import RequestMeta
from scribetree.core.config import settings
from scribetree.courses.schemas import AssignmentCreate, CourseCreate, CourseMemberAdd
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.identity.models import PlatformRole
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.exceptions import TenantNotFound
from scribetree.tenancy.models import Role, Tenant, TenantStatus, TenantType
from scribetree.tenancy.schemas import TenantCreate
from scribetree.tenancy.service import member, tenant_service
from scribetree.writing import ops as writing_ops
from scribetree.writing.schemas import BatchCreate
from scribetree.writing.service import document as document_service

DEMO_SLUG = "demo"
DEMO_NAME = "Maplewood University (demo)"
STUDENTS = [
    "Amara Okafor",
    "Benjamin Hughes",
    "Chen Wei",
    "Daniela Restrepo",
    "Elif Yilmaz",
    "Farah Haddad",
    "Gabriel Santos",
    "Hana Sato",
    "Isaac Mensah",
    "Julia Kowalska",
    "Kofi Asante",
    "Lena Fischer",
]
PEOPLE: list[tuple[str, str, Role | PlatformRole]] = [
    ("admin@maplewood.example.edu", "Morgan Reyes", Role.institution_admin),
    ("r.patel@maplewood.example.edu", "Dr. Riya Patel", Role.educator),
    ("t.nguyen@maplewood.example.edu", "Thomas Nguyen", Role.educator),
    *[
        (f"{n.split()[0].lower()}.{n.split()[1].lower()}@students.maplewood.example.edu", n, Role.student)
        for n in STUDENTS
    ],
    ("operator@scribetree.example.com", "Sam Operator", PlatformRole.operator),
    ("support@scribetree.example.com", "Alex Support", PlatformRole.support),
]


@dataclass
class DemoResult:
    created_tenant: bool
    created_people: int
    accounts: list[dict[str, str]]


async def seed_demo(session: AsyncSession) -> DemoResult:
    if settings.is_production:
        raise SystemExit("The demo institution is never created in production.")
    password = settings.DEMO_PASSWORD.get_secret_value()
    created_tenant = False
    try:
        tenant = await tenant_service.resolve(session, slug=DEMO_SLUG)
    except TenantNotFound:  # first run
        tenant = await tenant_service.create(
            session, None, TenantCreate(slug=DEMO_SLUG, name=DEMO_NAME, type=TenantType.higher_ed, region="us")
        )
        tenant.status, tenant.is_demo = TenantStatus.active, True
        tenant.primary_color, tenant.accent_color = "#1f5f8b", "#b45309"
        created_tenant = True
    created = 0
    accounts = []
    for email, name, role in PEOPLE:
        user = await identity.get_by_email(session, email)
        if user is None:
            platform_role = role if isinstance(role, PlatformRole) else None
            user = await identity.create_user(
                session, email=email, display_name=name, password=password, platform_role=platform_role
            )
            created += 1
        if isinstance(role, Role):
            memberships = {t.id for _, t in await member.memberships_of(session, user.id)}
            if tenant.id not in memberships:
                await member.add_member(session, tenant.id, user, role)
        accounts.append(
            {
                "email": email,
                "name": name,
                "role": role.value,
                "area": "platform" if isinstance(role, PlatformRole) else "institution",
            }
        )
    await session.flush()
    await _demo_course(session, tenant)
    await _demo_history(session, tenant)
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "demo-accounts.json").write_text(json.dumps(accounts, indent=2))
    return DemoResult(created_tenant, created, accounts)


COURSE_TITLE = "ENG 101: Academic Writing"
INSTRUCTIONS = """Write an argumentative essay (900-1,200 words) on the question:
**Should every secondary school teach AI literacy as a required subject?**

1. Take a clear position in your introduction.
2. Support it with at least two pieces of evidence and explain how each supports your claim.
3. Answer the strongest counter-argument fairly.

Work through the stages below. Your writing partner asks questions; it never writes for you."""


def _criterion(title: str, *levels: tuple[str, int]) -> dict[str, object]:
    return {"title": title, "levels": [{"label": label, "points": points} for label, points in levels]}


RUBRIC = {
    "criteria": [
        _criterion("Thesis and position", ("Unclear", 0), ("Stated", 3), ("Precise and arguable", 5)),
        _criterion("Evidence and reasoning", ("Missing", 0), ("Some support", 5), ("Well chosen and explained", 10)),
        _criterion("Counter-argument", ("Absent", 0), ("Named", 3), ("Answered fairly", 5)),
        _criterion("Organisation and style", ("Hard to follow", 0), ("Mostly clear", 3), ("Clear and engaging", 5)),
    ]
}
DRAFT = (
    "Artificial intelligence already shapes what students read, watch and write. Schools should teach AI literacy "
    "because students who understand how these systems work can question them instead of simply trusting them.\n\n"
    "First, "
)


def _as(user_id: uuid.UUID, email: str, name: str, tenant: Tenant, role: Role) -> AuthContext:
    """The demo acts as its people (never from a request: this runs only in the `scribetree demo` command)."""
    return AuthContext(user_id=user_id, email=email, display_name=name, tenant_id=tenant.id, tenant_slug=tenant.slug,
                       role=role, platform_role=None, via="demo", meta=RequestMeta(user_agent="scribetree demo"))


async def _demo_course(session: AsyncSession, tenant: Tenant) -> None:
    email, name, _ = PEOPLE[1]  # Dr. Riya Patel teaches it; Thomas Nguyen assists
    teacher = await identity.get_by_email(session, email)
    assert teacher is not None
    ctx = _as(teacher.id, email, name, tenant, Role.educator)
    if any(c.title == COURSE_TITLE for c in await course_service.list_courses(session, ctx, archived=None)):
        return
    today = clock.utcnow()
    course = await course_service.create(session, ctx, CourseCreate(
        title=COURSE_TITLE, section="A", term="Autumn 2026", description="Reading, arguing and revising.",
        starts_on=(today - timedelta(days=30)).date(), ends_on=(today + timedelta(days=90)).date()))
    await course_service.add_member(session, ctx, course.id, CourseMemberAdd(email=PEOPLE[2][0], role="ta"))
    students = [(e, n) for e, n, r in PEOPLE if r == Role.student]
    for student_email, _ in students:
        await course_service.add_member(session, ctx, course.id, CourseMemberAdd(email=student_email))
    due = (today + timedelta(days=14)).replace(hour=23, minute=59, second=0, microsecond=0)
    stages = [{"key": k, "label": k.capitalize(), "due_at": (due - timedelta(days=d)).isoformat()}
              for k, d in (("brainstorm", 11), ("outline", 8), ("draft", 5), ("revise", 2), ("edit", 0))]
    essay = await assignment_service.create(session, ctx, course.id, AssignmentCreate.model_validate({
        "title": "Argument essay: AI literacy in schools", "instructions_md": INSTRUCTIONS, "due_at": due.isoformat(),
        "stages": stages, "word_min": 900, "word_max": 1200, "rubric": RUBRIC,
        "objectives": [{"text": "Construct an argument supported by evidence", "bloom": "create"},
                       {"text": "Evaluate a counter-argument", "bloom": "evaluate"}],
    }))
    await assignment_service.set_published(session, ctx, essay.id, True)
    student_email, student_name = students[0]
    student = await identity.get_by_email(session, student_email)
    assert student is not None
    sctx = _as(student.id, student_email, student_name, tenant, Role.student)
    doc = await document_service.open_mine(session, sctx, essay.id)
    await document_service.apply_batch(session, sctx, doc.id, BatchCreate(
        session_id=uuid.uuid4(), seq=1, base_revision=doc.revision,
        ops=[{"kind": "insert", "pos": 0, "text": DRAFT, "t": int(today.timestamp() * 1000)}],
        content_hash=hashlib.sha256(DRAFT.encode()).hexdigest()))


# ---- three weeks of writing history ----------------------------------------------------------------------------

HISTORY_ASSIGNMENTS = (
    # title, published (days ago), due (days from now; negative: past), word_min, stage due days
    ("Reading response: a source you trust", 21, -7, 300, (-17, -11, -7)),
    ("Evidence log for your essay", 6, 5, 250, (-3, -1, 5)),
)
SENTENCES = (
    "The article I chose explains how recommendation systems decide what a student sees first.",
    "Its author is a researcher who has studied classroom technology for more than ten years.",
    "I trust it because the claims are linked to studies that anyone can check.",
    "One weakness is that most of the examples come from a single country.",
    "The strongest evidence is a survey of two thousand teachers about their students' habits.",
    "I was surprised that many students could not tell an advertisement from a search result.",
    "This supports my view that schools need to teach how these systems are built.",
    "A critic might say that families, not schools, should teach this.",
    "However, not every family has the time or the knowledge to do it well.",
    "The second source is a report from a public library network.",
    "It describes workshops where students tested chatbots with tricky questions.",
    "Students who took part asked better follow-up questions afterwards.",
    "I need to check whether the workshop results lasted beyond a few weeks.",
    "My notes show three themes: trust, evidence and responsibility.",
    "Responsibility matters because students will use these tools at work.",
    "I still have to decide which example to put first in my paragraph.",
    "The quotation from the teacher survey could open the essay.",
    "A clear definition of AI literacy would help the reader from the start.",
    "The library report is less formal but gives concrete classroom details.",
    "Comparing the two sources shows where the evidence is strong and where it is thin.",
)
# Per student (first names): the days (ago) they wrote on, per assignment, and how.
# kind: steady (2-4 sentences a day), big (a burst of ~25 sentences), small (one sentence),
# reviser (seven sentences typed, four deleted again).
HISTORY: dict[str, tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]] = {
    "Amara": (
        ((20, "steady"), (17, "steady"), (14, "steady"), (11, "steady"), (8, "steady")),
        ((5, "steady"), (3, "steady"), (1, "steady")),
    ),
    "Benjamin": (
        ((20, "steady"), (18, "steady"), (16, "steady"), (14, "steady"), (12, "steady"), (10, "steady")),
        ((5, "steady"), (3, "steady"), (1, "steady"), (0, "steady")),
    ),
    "Chen": (
        ((19, "steady"), (17, "steady"), (15, "steady"), (13, "steady"), (11, "steady"), (9, "steady")),
        ((6, "steady"), (4, "steady"), (2, "steady"), (0, "steady")),
    ),
    "Daniela": (((20, "small"), (13, "big"), (8, "small")), ((4, "steady"), (3, "steady"))),  # bursty
    "Elif": (((15, "small"), (8, "big"), (7, "big")), ((4, "steady"), (3, "steady"), (1, "steady"))),  # last-minute
    "Farah": (((19, "steady"), (16, "steady"), (12, "steady"), (9, "steady")), ((6, "small"),)),  # stalled
    "Gabriel": (
        ((18, "reviser"), (15, "reviser"), (12, "reviser"), (9, "reviser")),
        ((6, "reviser"), (5, "reviser"), (4, "reviser"), (2, "reviser"), (1, "reviser")),
    ),  # heavy reviser
    "Hana": (((16, "steady"), (12, "steady"), (8, "steady")), ((5, "steady"), (4, "steady"), (2, "steady"))),
    "Isaac": (((14, "small"), (10, "small")), ((2, "small"), (1, "small"))),  # behind the stage schedule
    "Julia": (
        ((20, "steady"), (17, "steady"), (15, "steady"), (13, "steady"), (10, "steady"), (7, "steady")),
        ((5, "steady"), (3, "steady"), (2, "steady"), (0, "steady")),
    ),
    "Kofi": ((), ()),  # never started
    "Lena": (
        ((19, "steady"), (16, "steady"), (14, "steady"), (11, "steady"), (9, "steady")),
        ((4, "steady"), (2, "steady"), (1, "steady")),
    ),
}
BATCH_GAP = timedelta(seconds=45)  # within the active-time gap, so a day's batches count as writing time


class _Writer:
    """Types into one document through ``apply_batch`` at moved-back clock times, one editor session a day."""

    def __init__(self, session: AsyncSession, ctx: AuthContext, doc_id: uuid.UUID, text: str, revision: int) -> None:
        self.session, self.ctx, self.doc_id, self.text, self.revision = session, ctx, doc_id, text, revision

    async def day(self, ago: int, steps: list[tuple[str, str]], rng: random.Random) -> None:
        start = (clock.utcnow() - timedelta(days=ago)).replace(hour=16, minute=0, second=0, microsecond=0)
        start += timedelta(minutes=rng.randrange(0, 240))
        # never in the future, and not "writing now" when the demo starts: today's session ends 30 minutes ago
        start = min(start, clock.utcnow() - (len(steps) + 1) * BATCH_GAP - timedelta(minutes=30))
        session_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        for seq, (kind, sentence) in enumerate(steps, start=1):
            at = start + seq * BATCH_GAP + timedelta(seconds=rng.randrange(0, 10))
            t = int(at.timestamp() * 1000)
            if kind == "insert":
                raw = [{"kind": "insert", "pos": len(self.text), "text": sentence, "t": t}]
            else:  # delete the last sentence typed
                cut = self.text.rstrip().rfind(". ", 0, len(self.text.rstrip()) - 1)
                cut = 0 if cut < 0 else cut + 2
                raw = [{"kind": "delete", "pos": cut, "len": len(self.text) - cut, "t": t}]
            after = writing_ops.apply(self.text, writing_ops.parse_ops(raw))
            with clock.travel(at - clock.utcnow()):
                accepted = await document_service.apply_batch(
                    self.session,
                    self.ctx,
                    self.doc_id,
                    BatchCreate(
                        session_id=session_id,
                        seq=seq,
                        base_revision=self.revision,
                        ops=raw,
                        content_hash=writing_ops.content_hash(after),
                    ),
                )
            self.text, self.revision = after, accepted.revision


def _steps(kind: str, rng: random.Random) -> list[tuple[str, str]]:
    def pick() -> tuple[str, str]:
        return ("insert", rng.choice(SENTENCES) + " ")

    if kind == "big":
        return [pick() for _ in range(rng.randrange(22, 28))]
    if kind == "small":
        return [pick()]
    if kind == "reviser":
        steps = [pick(), pick()]
        for _ in range(4):
            steps += [pick(), ("delete", "")]
        return [*steps, pick()]
    return [pick() for _ in range(rng.randrange(4, 6))]


async def _demo_history(session: AsyncSession, tenant: Tenant) -> None:
    email, name, _ = PEOPLE[1]
    teacher = await identity.get_by_email(session, email)
    assert teacher is not None
    ctx = _as(teacher.id, email, name, tenant, Role.educator)
    course = next(
        (c for c in await course_service.list_courses(session, ctx, archived=None) if c.title == COURSE_TITLE), None
    )
    if course is None:
        return
    existing = {a.title for a in await assignment_service.list_for_course(session, ctx, course.id)}
    if HISTORY_ASSIGNMENTS[0][0] in existing:
        return
    now = clock.utcnow()
    essays = []
    for title, published, due_in, word_min, stage_days in HISTORY_ASSIGNMENTS:
        due = (now + timedelta(days=due_in)).replace(hour=23, minute=59, second=0, microsecond=0)
        stages = [
            {
                "key": k,
                "label": k.capitalize(),
                "due_at": (now + timedelta(days=d)).replace(hour=23, minute=59, second=0, microsecond=0).isoformat(),
            }
            for k, d in zip(("notes", "draft", "final"), stage_days, strict=True)
        ]
        with clock.travel(timedelta(days=-published)):
            a = await assignment_service.create(
                session,
                ctx,
                course.id,
                AssignmentCreate.model_validate(
                    {
                        "title": title,
                        "instructions_md": "Write in your own words; the writing partner only asks questions.",
                        "due_at": due.isoformat(),
                        "stages": stages,
                        "word_min": word_min,
                    }
                ),
            )
            await assignment_service.set_published(session, ctx, a.id, True)
        essays.append(a)
    students = {n.split()[0]: (e, n) for e, n, r in PEOPLE if r == Role.student}
    for first, plans in HISTORY.items():
        student_email, student_name = students[first]
        student = await identity.get_by_email(session, student_email)
        assert student is not None
        sctx = _as(student.id, student_email, student_name, tenant, Role.student)
        rng = random.Random(f"demo-history-{first}")  # the same history on every machine
        for essay, days in zip(essays, plans, strict=True):
            if not days:
                continue
            with clock.travel(timedelta(days=-max(ago for ago, _ in days), hours=-1)):
                doc = await document_service.open_mine(session, sctx, essay.id)
            writer = _Writer(session, sctx, doc.id, "", doc.revision)
            for ago, kind in sorted(days, reverse=True):
                await writer.day(ago, _steps(kind, rng), rng)
    # fold the history into the figures now (the catch-up job would within 30 s of `scribetree serve`)
    await analytics_service.refresh_tenant(session, tenant.id)


# ---- one student who leans on the AI partner ------------------------------------------------------------------

PARTNER_STUDENT = "Hana"
# (days ago, questions that day) on the evidence log: more questions as the week goes on
PARTNER_PLAN = ((4, 1), (2, 2), (1, 3))
REFLECTIONS = (
    "I am trying to show that my two sources agree about trust, but I am not sure my second paragraph explains "
    "why the teacher survey matters. I think I describe the numbers without saying what they prove for my "
    "argument, and I want to find out how to connect them to my claim.",
    "After the last question I will rewrite the sentence about the survey so it says what the numbers prove, "
    "because right now a reader cannot tell why they matter.",
    "I will move the library example before the survey, since it is more concrete and it prepares the reader "
    "for the numbers that come after it.",
    "Next I will add one sentence saying what the library report cannot show, because I noticed I only "
    "summarise it and never judge how strong it is.",
    "I plan to cut the second half of my opening, because the question made me see that it repeats the title "
    "instead of stating my own position clearly.",
    "I will write a short paragraph on the objection about families, since answering it fairly would make my "
    "argument more convincing than ignoring it.",
)
QUESTIONS = (
    "How do I connect the survey numbers to my claim?",
    "Is my second source strong enough?",
    "What should my next paragraph be about?",
    "How can I make my opening clearer?",
    "Where should the counter-argument go?",
)


async def seed_demo_partner() -> int:
    """Hana Sato's partner use on the evidence log: reflections and questions through the partner service, at
    moved-back times, each in its own units of work as the web does it (the service reads on one session and
    writes on another). Run after ``seed_demo`` has committed; skipped when she already has exchanges.
    Returns how many questions were asked."""
    from scribetree.ai_partner.exceptions import ReflectionRequired
    from scribetree.ai_partner.schemas import PartnerAsk, ReflectionCreate
    from scribetree.ai_partner.service import partner as partner_service
    from scribetree.core.db import unit_of_work

    async with unit_of_work(write=False) as read:
        tenant = await tenant_service.resolve(read, slug=DEMO_SLUG)
        student_email, student_name = next((e, n) for e, n, _ in PEOPLE if n.startswith(PARTNER_STUDENT + " "))
        student = await identity.get_by_email(read, student_email)
        assert student is not None
        ctx = _as(student.id, student_email, student_name, tenant, Role.student)
        mine = await assignment_service.list_mine(read, ctx)
        log = next((a for a in mine if a.title == HISTORY_ASSIGNMENTS[1][0]), None)
        if log is None:
            return 0
        doc = await document_service.open_mine(read, ctx, log.id)
        history = await partner_service.history(read, read, ctx, doc.id)
        if history.exchanges:
            return 0
        doc_id = doc.id  # the read session's objects expire when it ends
    asked = turn = reflected = 0
    for ago, questions in PARTNER_PLAN:
        at = (clock.utcnow() - timedelta(days=ago)).replace(hour=19, minute=0, second=0, microsecond=0)
        for i in range(questions):
            with clock.travel(at + timedelta(minutes=8 * i) - clock.utcnow()):
                for attempt in range(2):
                    try:
                        async with unit_of_work(write=False) as read, unit_of_work() as write:
                            question = PartnerAsk(question=QUESTIONS[turn % len(QUESTIONS)])
                            await partner_service.ask(read, write, ctx, doc_id, question)
                        break
                    except ReflectionRequired as due:
                        if attempt:
                            raise
                        kind = "initial" if due.extra.get("due") == "initial" else "follow_up"
                        async with unit_of_work(write=False) as read, unit_of_work() as write:
                            body = ReflectionCreate.model_validate(
                                {"text": REFLECTIONS[reflected], "kind": kind, "seconds_spent": 150}
                            )
                            await partner_service.reflect(read, write, ctx, doc_id, body)
                        reflected += 1
            turn += 1
            asked += 1
    return asked
