"""Create the benchmark institution and its people through the app's own models, in one unit of work.

Run as a subprocess with the same ``SCRIBETREE_*`` environment as the server (so it writes to the same
database with the same argon2 parameters):

    .venv/bin/python -m bench.seed --users 900 --slug bench

The password is hashed ONCE (with the server's argon2 settings, so verifying it costs what a real sign-in
costs) and the hash is reused for every user, so seeding 1,000 people takes a second, not a minute.
Every ``--admin-every``-th user is an institution admin (they also read ``/api/v1/members``); the rest are
students. Prints one JSON line describing what it made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

PASSWORD = "bench-storm-password-2026"
EMAIL_DOMAIN = "bench.example.edu"


def email_for(i: int) -> str:
    return f"user{i:05d}@{EMAIL_DOMAIN}"


def is_admin(i: int, admin_every: int) -> bool:
    return admin_every > 0 and i % admin_every == 0


async def seed(users: int, slug: str, admin_every: int) -> dict[str, object]:
    from scribetree.core.config import settings
    from scribetree.core.db import dispose_engines, unit_of_work
    from scribetree.identity.models import User
    from scribetree.identity.passwords import hash_password
    from scribetree.tenancy.models import Membership, MembershipStatus, Role, Tenant, TenantStatus, TenantType

    started = time.perf_counter()
    password_hash = await hash_password(PASSWORD)
    try:
        async with unit_of_work() as session:
            tenant = Tenant(slug=slug, name=f"Benchmark University ({slug})", type=TenantType.higher_ed,
                            region="us", status=TenantStatus.active)
            session.add(tenant)
            await session.flush()
            people = [User(email=email_for(i), display_name=f"Bench User {i}", password_hash=password_hash,
                           is_active=True, failed_signins=0) for i in range(users)]
            session.add_all(people)
            await session.flush()
            session.add_all([
                Membership(tenant_id=tenant.id, user_id=u.id,
                           role=Role.institution_admin if is_admin(i, admin_every) else Role.student,
                           status=MembershipStatus.active)
                for i, u in enumerate(people)
            ])
            await session.flush()
            tenant_id = str(tenant.id)
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
    return {"tenant": slug, "tenant_id": tenant_id, "users": users, "admin_every": admin_every,
            "email_pattern": f"user{{i:05d}}@{EMAIL_DOMAIN}", "seconds": round(time.perf_counter() - started, 2),
            "settings": effective}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=900)
    parser.add_argument("--slug", default="bench")
    parser.add_argument("--admin-every", type=int, default=20, help="every k-th user is an admin (0: none)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(seed(args.users, args.slug, args.admin_every))))


if __name__ == "__main__":
    main()
