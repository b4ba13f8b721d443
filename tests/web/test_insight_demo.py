"""The demo's writing history: written through the real batch path, idempotent, and each planned writer shows
the pattern and state the insight pages are meant to demonstrate."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree import demo
from scribetree.analytics.profile import State
from scribetree.analytics.profile import profiles as profile_service
from scribetree.courses.service import course as course_service
from scribetree.identity.service import identity
from scribetree.tenancy.models import Role
from scribetree.tenancy.service import tenant_service
from scribetree.writing.models import EditBatch


async def test_demo_history(session: AsyncSession) -> None:
    await demo.seed_demo(session)
    batches = (await session.execute(select(func.count()).select_from(EditBatch))).scalar_one()
    assert batches > 300
    await demo.seed_demo(session)  # a second run adds nothing
    assert (await session.execute(select(func.count()).select_from(EditBatch))).scalar_one() == batches

    tenant = await tenant_service.resolve(session, slug=demo.DEMO_SLUG)
    email, name, _ = demo.PEOPLE[1]
    teacher = await identity.get_by_email(session, email)
    assert teacher is not None
    ctx = demo._as(teacher.id, email, name, tenant, Role.educator)
    course = next(
        c for c in await course_service.list_courses(session, ctx, archived=None) if c.title == demo.COURSE_TITLE
    )
    metrics, profiles = await profile_service.course_profiles(session, ctx, course.id, audit_session=session)
    by_name = {row.name.split()[0]: profiles[row.user_id] for row in metrics.student_rows}
    assert "steady" in by_name["Benjamin"].pattern_codes and by_name["Benjamin"].state == State.progressing
    assert by_name["Daniela"].pattern_codes == ["bursty"]
    assert by_name["Elif"].pattern_codes == ["last_minute"]
    assert "heavy_reviser" in by_name["Gabriel"].pattern_codes
    assert by_name["Farah"].state == State.stalled
    assert by_name["Kofi"].state == State.stalled and by_name["Kofi"].words_added == 0
    assert by_name["Isaac"].state == State.struggling
    assert sum(metrics.cumulative_words[-1:]) == sum(p.words_added - p.words_deleted for p in profiles.values())
