"""The institution's AI provider: reading and changing it (institution admins), and the ``ProviderConfig`` the
partner uses on every request (docs/ai-partner.md, "Provider settings").

The API key is stored only encrypted: Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from
``SECRET_KEY`` with HKDF-SHA256 and a fixed context string, so it is useless without the deployment's secret.
No API, page, audit entry or log line carries it; admins see whether one is set and its last 4 characters.
Students' words go to an external provider only when the institution has opted in (``external_allowed``).
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.engine.types import ProviderConfig
from scribetree.ai_partner.exceptions import ProviderSettingsForbidden, ProviderSettingsInvalid
from scribetree.ai_partner.models import AiProviderSettings, ProviderName
from scribetree.ai_partner.repository import ProviderSettingsRepository
from scribetree.ai_partner.schemas import AiProviderRead, AiProviderUpdate
from scribetree.core import audit, clock
from scribetree.core.config import settings
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.permissions import Permission

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

KEY_CONTEXT = b"scribetree ai_partner provider api key v1"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
DEFAULT_TIMEOUT_S = 8
_FIELDS = ("provider", "base_url", "model", "timeout_s", "external_allowed")


# ---- the key at rest ------------------------------------------------------------------------------------------


def _fernet() -> Fernet:
    # cryptography (its Rust and OpenSSL bindings, about 6 MB of a serve process's RSS) is imported when a key is
    # first stored or read, not at start: an institution on the builtin partner never needs it
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = settings.SECRET_KEY.get_secret_value().encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_CONTEXT).derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_key(api_key: str) -> str:
    return _fernet().encrypt(api_key.encode()).decode("ascii")


def decrypt_key(token: str | None) -> str | None:
    """The stored key, or None when none is stored or it cannot be read (SECRET_KEY changed): fail closed."""
    if not token:
        return None
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None


# ---- rules ----------------------------------------------------------------------------------------------------


def url_problem(url: str) -> str | None:
    """Why ``url`` may not receive students' words and the institution's key (None: it may)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number
    except ValueError:
        return "Enter the provider's address like https://api.example.com/v1."
    del port
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return "Enter the provider's address like https://api.example.com/v1."
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        return "The address may not contain a user name, password, ?query or #fragment; put the key in the key field."
    if parts.scheme == "http" and (settings.is_production or host not in LOCAL_HOSTS):
        return "The address must start with https:// (plain http is allowed only for localhost in development)."
    return None


def _read(row: AiProviderSettings | None) -> AiProviderRead:
    if row is None:
        return AiProviderRead(
            provider=ProviderName.builtin,
            base_url=None,
            model=None,
            timeout_s=DEFAULT_TIMEOUT_S,
            external_allowed=False,
            api_key_set=False,
            api_key_hint=None,
            in_effect=ProviderName.builtin,
            updated_by=None,
            updated_at=None,
        )
    provider = ProviderName(row.provider)
    external = provider != ProviderName.builtin and row.external_allowed
    return AiProviderRead(
        provider=provider,
        base_url=row.base_url,
        model=row.model,
        timeout_s=row.timeout_s,
        external_allowed=row.external_allowed,
        api_key_set=row.api_key_encrypted is not None,
        api_key_hint=("…" + row.api_key_last4) if row.api_key_encrypted and row.api_key_last4 else None,
        in_effect=provider if external else ProviderName.builtin,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _tenant(ctx: AuthContext) -> uuid.UUID:
    if ctx.tenant_id is None or not ctx.can(Permission.tenant_settings_write):
        raise ProviderSettingsForbidden()
    return ctx.tenant_id


class ProviderSettingsService:
    async def get(self, session: AsyncSession, ctx: AuthContext) -> AiProviderRead:
        """The institution's provider settings (admins), the built-in engine when none were ever saved."""
        return _read(await ProviderSettingsRepository(session, _tenant(ctx)).current())

    async def put(self, session: AsyncSession, ctx: AuthContext, data: AiProviderUpdate) -> AiProviderRead:
        """Replace the settings (admins). Audited with what changed; the key only as "replaced" or "removed".

        422 ``ProviderSettingsInvalid`` (with ``field``) when an external provider lacks an address, a model or a
        key, when the address is not https, or when the address or provider changes while the stored key would be
        kept: a key is sent only to the address it was entered for, so changing the address needs the key again.
        """
        tenant_id = _tenant(ctx)
        repo = ProviderSettingsRepository(session, tenant_id)
        await repo.lock()
        row = await repo.current()
        new_key = data.api_key.get_secret_value() if data.api_key is not None else None
        if new_key is not None and data.clear_api_key:
            raise ProviderSettingsInvalid(
                "Either enter a new API key or remove the stored one, not both.", field="api_key"
            )
        keeps_key = new_key is None and not data.clear_api_key and row is not None and bool(row.api_key_encrypted)
        if data.base_url is not None and (problem := url_problem(data.base_url)):
            raise ProviderSettingsInvalid(problem, field="base_url")
        moved = row is not None and (row.base_url != data.base_url or row.provider != data.provider)
        if keeps_key and moved and data.provider != ProviderName.builtin:
            raise ProviderSettingsInvalid(
                "Enter the API key again: the provider or its address changed, and a stored key is only sent to "
                "the address it was entered for.",
                field="api_key",
            )
        if data.provider != ProviderName.builtin:
            name = "Anthropic" if data.provider == ProviderName.anthropic else "An OpenAI-compatible provider"
            if data.base_url is None:
                raise ProviderSettingsInvalid(
                    f"{name} needs the address of its API, like https://api.example.com.", field="base_url"
                )
            if data.model is None:
                raise ProviderSettingsInvalid(f"{name} needs the name of the model to use.", field="model")
            if new_key is None and not keeps_key:
                raise ProviderSettingsInvalid(f"{name} needs an API key.", field="api_key")

        before: dict[str, Any] = {f: getattr(row, f) if row else getattr(_read(None), f) for f in _FIELDS}
        after: dict[str, Any] = {f: getattr(data, f) for f in _FIELDS}
        changed = {
            f: {"from": _plain(before[f]), "to": _plain(after[f])}
            for f in _FIELDS
            if _plain(before[f]) != _plain(after[f])
        }
        key_change = None
        if new_key is not None:
            key_change = "replaced"
        elif data.clear_api_key and row is not None and row.api_key_encrypted:
            key_change = "removed"
        if row is not None and not changed and key_change is None:
            return _read(row)
        is_new = row is None
        if row is None:
            row = AiProviderSettings(tenant_id=tenant_id)
        for f in _FIELDS:
            setattr(row, f, after[f])
        if new_key is not None:
            row.api_key_encrypted = encrypt_key(new_key)
            row.api_key_last4 = new_key[-4:]
        elif data.clear_api_key:
            row.api_key_encrypted = None
            row.api_key_last4 = None
        row.updated_by = ctx.user_id
        row.updated_at = clock.utcnow()
        if is_new:
            await repo.add(row)
        await session.flush()
        details: dict[str, Any] = {"changed": changed}
        if key_change:
            details["api_key"] = key_change
        await audit.record(
            session,
            audit.Entry(
                action="ai_partner.provider_changed",
                tenant_id=tenant_id,
                actor_user_id=ctx.user_id,
                actor_label=ctx.actor_label,
                meta=ctx.meta,
                target_type="tenant",
                target_id=str(tenant_id),
                details=details,
            ),
        )
        return _read(row)

    async def config_for(self, session: AsyncSession, tenant_id: uuid.UUID) -> ProviderConfig:
        """What the engine gets for one request of this tenant: the built-in engine unless an external provider is
        configured and the institution opted in (and its address is still allowed here)."""
        row = await ProviderSettingsRepository(session, tenant_id).current()
        if row is None or row.provider == ProviderName.builtin or not row.external_allowed:
            return ProviderConfig(provider=ProviderName.builtin.value, external_allowed=False)
        if row.base_url is None or url_problem(row.base_url) is not None:
            return ProviderConfig(provider=ProviderName.builtin.value, external_allowed=False)
        return ProviderConfig(
            provider=ProviderName(row.provider).value,
            base_url=row.base_url,
            api_key=decrypt_key(row.api_key_encrypted),  # None when unreadable: the engine falls back
            model=row.model,
            timeout_s=float(row.timeout_s),
            external_allowed=True,
        )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, ProviderName) else value


provider_settings = ProviderSettingsService()


async def provider_config_for(session: AsyncSession, tenant_id: uuid.UUID) -> ProviderConfig:
    """The ``ProviderConfig`` for a request of ``tenant_id`` (see ``ProviderSettingsService.config_for``)."""
    return await provider_settings.config_for(session, tenant_id)
