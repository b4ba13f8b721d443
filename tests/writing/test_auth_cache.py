"""The short cache of cookie sign-ins (tenancy.auth), seen from the batch path it was made for: the next batch
asks the database nothing about the session, and a revocation committed in this process stops the very next
request (sign-out, sign-out everywhere, a deactivated membership)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.identity.service import identity
from scribetree.tenancy.models import Membership, MembershipStatus
from tests.factories.writing import batch_body, ins
from tests.sql_log import statements
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, send


class Typist:
    def __init__(self, c: httpx.AsyncClient, doc: dict[str, Any]) -> None:
        self.c, self.doc_id, self.text, self.rev = c, doc["id"], doc["text"], doc["revision"]
        self.seq, self.sid = 0, uuid.uuid4()

    async def type(self, word: str) -> int:
        body, after = batch_body(
            self.text, [ins(len(self.text), word)], seq=self.seq + 1, base_revision=self.rev, session_id=self.sid
        )
        r = await send(self.c, self.doc_id, body)
        if r.status_code == 200:
            self.text, self.rev, self.seq = after, r.json()["revision"], self.seq + 1
        return r.status_code


def session_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and "FROM user_sessions" in s]


async def typist(klass: Klass, client_for: ClientFor) -> Typist:
    c = await client_for(klass.student, klass.tenant)
    t = Typist(c, await open_doc(c, klass.assignment.id))
    assert await t.type("One ") == 200
    return t


async def test_the_next_request_is_answered_from_the_cache(klass: Klass, client_for: ClientFor) -> None:
    t = await typist(klass, client_for)
    with statements() as seen:
        assert await t.type("two ") == 200
    assert session_reads(seen) == [], seen


async def test_signing_out_stops_the_very_next_request(klass: Klass, client_for: ClientFor) -> None:
    t = await typist(klass, client_for)
    cookies = dict(t.c.cookies)
    assert (await t.c.delete("/api/v1/session")).status_code == 204
    t.c.cookies.update(cookies)  # the same cookie again, as a stolen copy would be
    assert await t.type("two") == 401


async def test_sign_out_everywhere_and_deactivation_stop_the_next_request(
    klass: Klass, client_for: ClientFor, session: AsyncSession
) -> None:
    t = await typist(klass, client_for)
    await identity.sign_out_everywhere(session, klass.student.id)
    await session.commit()
    assert await t.type("two") == 401

    t = await typist(klass, client_for)  # signed in again
    assert await t.type("two ") == 200
    await session.execute(
        update(Membership)
        .where(Membership.user_id == klass.student.id, Membership.tenant_id == klass.tenant.id)
        .values(status=MembershipStatus.deactivated)
    )
    await session.commit()
    assert await t.type("three") == 401
