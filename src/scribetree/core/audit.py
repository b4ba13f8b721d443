"""The append-only, hash-chained audit trail (ARCHITECTURE §6).

One chain per tenant plus one ``platform`` chain for actions outside any tenant. Each entry stores the
SHA-256 of its canonical content and of the previous entry's hash, so altering, deleting or inserting
a row breaks the chain at that row. Appends lock the chain's head row (``FOR UPDATE`` on PostgreSQL;
SQLite serialises writers anyway), so concurrent writers cannot fork a chain. The entry is written in
the caller's transaction: an action and its audit entry commit or roll back together.

This lives in ``core`` because every domain records entries; compliance owns reading, reporting and
export. Verification is in :func:`verify_chain`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core import clock
from scribetree.core.db import Base, UTCDateTime
from scribetree.core.ids import uuid7

PLATFORM_CHAIN = "platform"
GENESIS = "0" * 64


class AuditChainHead(Base):
    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class AuditEvent(Base):
    """Global table with a nullable ``tenant_id``: NULL is the platform chain (on the allowlist)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(80), index=True)
    outcome: Mapped[str] = mapped_column(String(20), default="success")  # success | failure | denied
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    actor_label: Mapped[str | None] = mapped_column(String(320), nullable=True)
    target_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(400), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class RequestMeta:
    """Who is asking from where; filled by the HTTP layer, empty for jobs and the CLI."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass
class Entry:
    action: str
    tenant_id: uuid.UUID | None = None
    outcome: str = "success"
    actor_user_id: uuid.UUID | None = None
    actor_label: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    meta: RequestMeta = field(default_factory=RequestMeta)


def chain_for(tenant_id: uuid.UUID | None) -> str:
    return str(tenant_id) if tenant_id else PLATFORM_CHAIN


def _canonical(e: AuditEvent) -> bytes:
    body = {
        "id": str(e.id),
        "chain": e.chain,
        "seq": e.seq,
        "tenant_id": str(e.tenant_id) if e.tenant_id else None,
        "occurred_at": clock.as_utc(e.occurred_at).isoformat(timespec="microseconds"),
        "action": e.action,
        "outcome": e.outcome,
        "actor_user_id": str(e.actor_user_id) if e.actor_user_id else None,
        "actor_label": e.actor_label,
        "target_type": e.target_type,
        "target_id": e.target_id,
        "ip": e.ip,
        "user_agent": e.user_agent,
        "request_id": e.request_id,
        "details": e.details,
        "prev_hash": e.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compute_hash(e: AuditEvent) -> str:
    return hashlib.sha256(_canonical(e)).hexdigest()


async def _lock_head(session: AsyncSession, chain: str) -> AuditChainHead:
    stmt = select(AuditChainHead).where(AuditChainHead.chain == chain).with_for_update()
    head = (await session.execute(stmt)).scalar_one_or_none()
    if head is not None:
        return head
    # First entry of a chain: create the head; a concurrent creator loses on the primary key and retries.
    head = AuditChainHead(chain=chain, seq=0, last_hash=GENESIS)
    try:
        async with session.begin_nested():
            session.add(head)
            await session.flush()
    except IntegrityError:  # a racing first writer created it; re-read under lock
        return (await session.execute(stmt)).scalar_one()
    return head


async def record(session: AsyncSession, entry: Entry) -> AuditEvent:
    """Append ``entry`` to its chain inside the caller's transaction."""
    chain = chain_for(entry.tenant_id)
    head = await _lock_head(session, chain)
    details = json.loads(json.dumps(entry.details, default=str))  # what is hashed is what is stored
    event = AuditEvent(
        id=uuid7(),
        chain=chain,
        seq=head.seq + 1,
        tenant_id=entry.tenant_id,
        occurred_at=clock.utcnow(),
        action=entry.action,
        outcome=entry.outcome,
        actor_user_id=entry.actor_user_id,
        actor_label=entry.actor_label,
        target_type=entry.target_type,
        target_id=entry.target_id,
        ip=entry.meta.ip,
        user_agent=(entry.meta.user_agent or None) and entry.meta.user_agent[:400],
        request_id=entry.meta.request_id,
        details=details,
        prev_hash=head.last_hash,
    )
    event.hash = compute_hash(event)
    head.seq = event.seq
    head.last_hash = event.hash
    session.add(event)
    await session.flush()
    return event


@dataclass
class VerifyResult:
    chain: str
    checked: int
    ok: bool
    first_bad_seq: int | None = None
    first_bad_id: uuid.UUID | None = None
    problem: str | None = None


async def verify_chain(session: AsyncSession, chain: str, *, batch: int = 2000) -> VerifyResult:
    """Walk one chain in order; report the first row that is altered, missing or out of place."""
    head = (await session.execute(select(AuditChainHead).where(AuditChainHead.chain == chain))).scalar_one_or_none()
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.chain == chain, AuditEvent.seq >= expected_seq)
                    .order_by(AuditEvent.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return VerifyResult(
                    chain,
                    checked,
                    False,
                    expected_seq,
                    None,
                    f"entry {expected_seq} is missing (next present entry is {row.seq})",
                )
            if row.prev_hash != expected_prev:
                return VerifyResult(
                    chain,
                    checked,
                    False,
                    row.seq,
                    row.id,
                    f"entry {row.seq} does not link to entry {row.seq - 1} (previous hash differs)",
                )
            if compute_hash(row) != row.hash:
                return VerifyResult(
                    chain,
                    checked,
                    False,
                    row.seq,
                    row.id,
                    f"entry {row.seq} was altered after it was written (its hash does not match)",
                )
            expected_prev, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
            checked += 1
    if head is not None and (head.seq != last_seq or head.last_hash != expected_prev):
        return VerifyResult(
            chain,
            checked,
            False,
            last_seq + 1,
            None,
            f"the chain ends at entry {last_seq} but {head.seq} entries were written "
            "(entries were removed from the end)",
        )
    return VerifyResult(chain, checked, True)


async def list_chains(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(AuditChainHead.chain).order_by(AuditChainHead.chain))).scalars())
