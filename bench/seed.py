"""Create the benchmark institution and its people through the app's own models, in one unit of work.

Run as a subprocess with the same ``SCRIBETREE_*`` environment as the server (so it writes to the same
database with the same argon2 parameters):

    .venv/bin/python -m bench.seed --users 900 --slug bench

The password is hashed ONCE (with the server's argon2 settings, so verifying it costs what a real sign-in
costs) and the hash is reused for every user, so seeding 1,000 people takes a second, not a minute.
Every ``--admin-every``-th user is an institution admin (they also read ``/api/v1/members``); the rest are
students. With ``--course`` it also makes one course with every student enrolled and one published
assignment (the "class writing" scenario); admins see it as institution admins. With ``--long-doc-words W
--long-doc-events N`` the first student's document for that assignment starts with W words of text, a
snapshot at its current revision and N past batches in the edit log that type that text from the start (so
replaying the log ends at the text), so a batch on a long document with a long history can be compared with a batch on
a new one. Prints one JSON line describing what it made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import timedelta

PASSWORD = "bench-storm-password-2026"
EMAIL_DOMAIN = "bench.example.edu"


def email_for(i: int) -> str:
    return f"user{i:05d}@{EMAIL_DOMAIN}"


def is_admin(i: int, admin_every: int) -> bool:
    return admin_every > 0 and i % admin_every == 0


async def seed(
    users: int, slug: str, admin_every: int, course: bool = False, long_doc_words: int = 0, long_doc_events: int = 0
) -> dict[str, object]:
    from scribetree.core.config import settings
    from scribetree.core.db import dispose_engines, unit_of_work
    from scribetree.identity.models import User
    from scribetree.identity.passwords import hash_password
    from scribetree.tenancy.models import Membership, MembershipStatus, Role, Tenant, TenantStatus, TenantType

    started = time.perf_counter()
    password_hash = await hash_password(PASSWORD)
    try:
        async with unit_of_work() as session:
            tenant = Tenant(
                slug=slug,
                name=f"Benchmark University ({slug})",
                type=TenantType.higher_ed,
                region="us",
                status=TenantStatus.active,
            )
            session.add(tenant)
            await session.flush()
            people = [
                User(
                    email=email_for(i),
                    display_name=f"Bench User {i}",
                    password_hash=password_hash,
                    is_active=True,
                    failed_signins=0,
                )
                for i in range(users)
            ]
            session.add_all(people)
            await session.flush()
            session.add_all(
                [
                    Membership(
                        tenant_id=tenant.id,
                        user_id=u.id,
                        role=Role.institution_admin if is_admin(i, admin_every) else Role.student,
                        status=MembershipStatus.active,
                    )
                    for i, u in enumerate(people)
                ]
            )
            await session.flush()
            tenant_id = str(tenant.id)
            made: dict[str, object] = {}
            if course:
                students = [u for i, u in enumerate(people) if not is_admin(i, admin_every)]
                made = await _course(session, tenant.id, students, long_doc_words, long_doc_events)
        if long_doc_events:
            # A document's history is folded into its analytics as it is written; a seeded one is folded here,
            # so the server does not spend the first minutes of a measurement catching up 100,000 batches.
            from scribetree.analytics.service import analytics

            more = True
            while more:
                async with unit_of_work() as session:
                    more = (await analytics.refresh_tenant(session, tenant.id)).more
    finally:
        await dispose_engines()
    effective = {  # what the server, started with the same environment, runs with
        "database": settings.database_url.split("@")[-1].split("///")[-1],
        "argon2_memory_kib": settings.ARGON2_MEMORY_KIB,
        "argon2_time_cost": settings.ARGON2_TIME_COST,
        "argon2_parallelism": settings.ARGON2_PARALLELISM,
        "password_hash_concurrency": settings.PASSWORD_HASH_CONCURRENCY,
        "rate_limit_enabled": settings.RATE_LIMIT_ENABLED,
        "database_pool_size": settings.DATABASE_POOL_SIZE,
        "worker_in_process": settings.WORKER_IN_PROCESS,
        "log_level": settings.LOG_LEVEL,
        "env": str(settings.ENV),
    }
    return {
        "tenant": slug,
        "tenant_id": tenant_id,
        "users": users,
        "admin_every": admin_every,
        "email_pattern": f"user{{i:05d}}@{EMAIL_DOMAIN}",
        "seconds": round(time.perf_counter() - started, 2),
        "settings": effective,
        **made,
    }


async def _course(session, tenant_id, students, long_doc_words: int, long_doc_events: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import hashlib
    import uuid

    from sqlalchemy import insert

    from scribetree.core import clock
    from scribetree.core.ids import uuid7
    from scribetree.courses.models import Assignment, Course, CourseMember, CourseRole
    from scribetree.writing.models import Document, DocumentVersion, EditBatch, VersionKind
    from scribetree.writing.ops import word_count

    now = clock.utcnow()
    c = Course(tenant_id=tenant_id, title="Benchmark Writing 101", join_code=None)
    session.add(c)
    await session.flush()
    session.add_all(
        [CourseMember(tenant_id=tenant_id, course_id=c.id, user_id=u.id, role=CourseRole.student) for u in students]
    )
    a = Assignment(
        tenant_id=tenant_id,
        course_id=c.id,
        title="Argumentative essay",
        instructions_md="Write an argumentative essay.",
        stages=[],
        published_at=now,
    )
    session.add(a)
    await session.flush()
    out: dict[str, object] = {"course_id": str(c.id), "assignment_id": str(a.id), "students": len(students)}
    if long_doc_words and students:
        words = "Writing is thinking made visible, one careful revision after another. " * (long_doc_words // 10 + 1)
        text = " ".join(words.split()[:long_doc_words])
        digest = hashlib.sha256(text.encode()).hexdigest()
        rev = long_doc_events
        owner = students[0]
        doc = Document(
            tenant_id=tenant_id,
            assignment_id=a.id,
            owner_user_id=owner.id,
            text=text,
            revision=rev,
            content_hash=digest,
            word_count=word_count(text),
            snapshot_revision=rev,
            last_activity_at=now,
        )
        session.add(doc)
        await session.flush()
        session.add(
            DocumentVersion(
                tenant_id=tenant_id,
                document_id=doc.id,
                revision=rev,
                kind=VersionKind.auto,
                text=text,
                content_hash=digest,
                word_count=doc.word_count,
            )
        )
        # The history types the text from the start, one piece per batch, so replaying it (the analytics fold, a
        # rebuild) ends exactly at the seeded text, and later real batches apply on top of it. Its batches are 20 s
        # apart and end just over a minute ago (100,000 of them: 23 days of writing), as a long history is written.
        past = uuid.uuid4()
        cuts = [len(text) * k // long_doc_events for k in range(long_doc_events + 1)]
        running = hashlib.sha256()
        for start in range(0, long_doc_events, 5_000):
            rows = []
            for k in range(start, min(long_doc_events, start + 5_000)):
                piece = text[cuts[k] : cuts[k + 1]]
                running.update(piece.encode())
                ops = [{"kind": "insert", "pos": cuts[k], "text": piece, "t": 0}] if piece else []
                rows.append(
                    {
                        "id": uuid7(),
                        "tenant_id": tenant_id,
                        "document_id": doc.id,
                        "session_id": past,
                        "seq": k + 1,
                        "base_revision": k,
                        "revision": k + 1,
                        "content_hash": running.copy().hexdigest(),
                        "author_user_id": owner.id,
                        "ops": ops,
                        "chars_inserted": len(piece),
                        "chars_deleted": 0,
                        "received_at": now - timedelta(seconds=60 + 20 * (long_doc_events - k)),
                    }
                )
            await session.execute(insert(EditBatch), rows)
        out.update(long_doc_email=owner.email, long_doc_words=doc.word_count, long_doc_events=long_doc_events)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=900)
    parser.add_argument("--slug", default="bench")
    parser.add_argument("--admin-every", type=int, default=20, help="every k-th user is an admin (0: none)")
    parser.add_argument("--course", action="store_true", help="a course with every student and one assignment")
    parser.add_argument("--long-doc-words", type=int, default=0)
    parser.add_argument("--long-doc-events", type=int, default=0)
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(
                seed(args.users, args.slug, args.admin_every, args.course, args.long_doc_words, args.long_doc_events)
            )
        )
    )


if __name__ == "__main__":
    main()
