from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int
    occurred_at: datetime
    action: str
    outcome: str
    actor_user_id: uuid.UUID | None
    actor_label: str | None
    target_type: str | None
    target_id: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    next_before_seq: int | None


class ChainVerification(BaseModel):
    chain: str
    checked: int
    ok: bool
    first_bad_seq: int | None = None
    first_bad_id: uuid.UUID | None = None
    problem: str | None = None
