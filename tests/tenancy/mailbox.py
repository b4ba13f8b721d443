"""Deliver queued mail through the real job worker and read it back from the development mailbox."""

from __future__ import annotations

import re

from scribetree.core import jobs, mail


async def deliver() -> list[dict]:
    await jobs.run_pending()
    return mail.list_dev_mail(limit=200)


async def last_link(to: str, kind: str) -> str:
    """The newest /{kind}/<token> link mailed to ``to``."""
    for msg in await deliver():
        if msg["to"] == to:
            full = mail.read_dev_mail(msg["name"]) or msg
            m = re.search(rf"/{kind}/([A-Za-z0-9_-]+)", full["body"])
            if m:
                return m.group(1)
    raise AssertionError(f"no {kind} link mailed to {to}")
