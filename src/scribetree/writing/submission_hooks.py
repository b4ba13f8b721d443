"""What higher domains do inside the transaction of a submission (writing never imports them).

A higher domain registers ``async def hook(session, submission)`` with :func:`on_submitted` when it is
imported (``scribetree.tasks`` and the app import them all); :meth:`DocumentService.submit` awaits every hook
after the submission row is flushed and before its unit of work commits, so whatever a hook writes (typically
a job through ``core.jobs.enqueue``) commits or rolls back with the submission. Hooks must be quick and must
not fail for reasons the student could not fix: the submission fails with them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.writing.models import Submission

SubmittedHook = Callable[[AsyncSession, Submission], Awaitable[None]]

_hooks: dict[str, SubmittedHook] = {}


def on_submitted(name: str) -> Callable[[SubmittedHook], SubmittedHook]:
    """Register a hook under ``name`` (registering the same name again replaces it: imports may repeat)."""

    def register(fn: SubmittedHook) -> SubmittedHook:
        _hooks[name] = fn
        return fn

    return register


async def submitted(session: AsyncSession, submission: Submission) -> None:
    for fn in list(_hooks.values()):
        await fn(session, submission)
