from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from scribetree.identity.models import PlatformRole

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=256)]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    platform_role: PlatformRole | None
    is_active: bool
    last_signin_at: datetime | None


class UserCreate(BaseModel):
    email: EmailStr
    display_name: DisplayName
    password: Password | None = None
    platform_role: PlatformRole | None = None


class ApiTokenCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scopes: list[str] = Field(default_factory=lambda: ["read"], min_length=1, max_length=10)
    expires_in_days: int = Field(default=90, ge=1, le=365)


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="The secret. Shown once: store it now; it cannot be shown again.")


class PasswordChange(BaseModel):
    current_password: Password
    new_password: Password


class ResetRequest(BaseModel):
    email: EmailStr


class ResetComplete(BaseModel):
    token: Annotated[str, Field(min_length=10, max_length=200)]
    new_password: Password
