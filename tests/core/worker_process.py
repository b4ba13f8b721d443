"""A worker in its own process, on the database named by ``SCRIBETREE_DATABASE_URL`` (set by the test).

``python -m tests.core.worker_process <worker_id>`` runs a plain worker (the test kills it);
``python -m tests.core.worker_process --forever`` runs what ``scribetree worker`` runs.
"""

from __future__ import annotations

import asyncio
import sys

from scribetree.core import jobs
from tests.core import job_actors_for_tests  # noqa: F401 (registers the actors)


async def main(arg: str) -> None:
    if arg == "--forever":
        await jobs.run_worker_forever()
    else:
        await jobs.Worker(arg, concurrency=1).run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
