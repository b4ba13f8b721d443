"""The demo institution for the embedded default: an admin, two educators, a dozen students, and
platform staff, plus a course with a published assignment (stages, rubric, objectives) that every demo
student is enrolled in, and one student's draft already under way, so every role has something to see.
Idempotent: running it again adds only what is missing. Refused in production.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

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
