"""Accounts, passwords, sessions and API tokens.

Secrets (session cookies, API tokens, reset links) are random and only their SHA-256 is stored, so a
database leak does not hand out sign-ins. Password checks run before the write transaction starts
(SQLite holds its single writer for the whole transaction), and the bookkeeping after them is one
short UPDATE.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock, db
from scribetree.core.config import settings
from scribetree.core.ids import new_token
from scribetree.identity import passwords
from scribetree.identity.exceptions import (
    AccountLocked,
    EmailTaken,
    InvalidCredentials,
    LinkInvalid,
    TokenNotFound,
)
from scribetree.identity.models import ApiToken, PasswordReset, PlatformRole, User, UserSession
from scribetree.identity.repository import (
    ApiTokenRepository,
    PasswordResetRepository,
    SessionRepository,
    UserRepository,
)

API_TOKEN_PREFIX = "st_"  # noqa: S105 (a marker, not a secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


class IdentityService:
    # ---- users ----------------------------------------------------------------------------------------

    async def get_user(self, session: AsyncSession, user_id: uuid.UUID) -> User | None:
        return await UserRepository(session).get(user_id)

    async def get_by_email(self, session: AsyncSession, email: str) -> User | None:
        return await UserRepository(session).by_email(normalize_email(email))

    async def users_by_ids(self, session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
        return {u.id: u for u in await UserRepository(session).by_ids(ids)}

    async def create_user(
        self,
        session: AsyncSession,
        *,
        email: str,
        display_name: str,
        password: str | None = None,
        platform_role: PlatformRole | None = None,
    ) -> User:
        email = normalize_email(email)
        repo = UserRepository(session)
        if await repo.by_email(email) is not None:
            raise EmailTaken()
        password_hash = None
        if password is not None:
            passwords.check_policy(password, email=email)
            password_hash = await passwords.hash_password(password)
        return await repo.add(
            User(
                email=email,
                display_name=display_name.strip(),
                password_hash=password_hash,
                platform_role=platform_role,
                password_changed_at=clock.utcnow() if password_hash else None,
            )
        )

    async def set_password(self, session: AsyncSession, user: User, new_password: str) -> None:
        passwords.check_policy(new_password, email=user.email)
        user.password_hash = await passwords.hash_password(new_password)
        now = clock.utcnow()
        user.password_changed_at = now
        user.failed_signins = 0
        user.locked_until = None
        # A new password ends every other sign-in (someone else may know the old one).
        user.sessions_valid_after = now
        await SessionRepository(session).revoke_all(user.id, now)
        await session.flush()

    # ---- sign-in --------------------------------------------------------------------------------------

    def lockout_remaining(self, user: User) -> int:
        if user.locked_until is None:
            return 0
        remaining = (user.locked_until - clock.utcnow()).total_seconds()
        return max(0, int(remaining + 0.999))

    async def authenticate(self, read: AsyncSession, write: AsyncSession, email: str, password: str) -> User:
        """Check a password. Repeated failures lock the account with exponential back-off.

        Raises ``InvalidCredentials`` (same message for unknown email and wrong password) or
        ``AccountLocked`` with the seconds to wait.
        """
        user = await UserRepository(read).by_email(normalize_email(email))
        if user is not None and (wait := self.lockout_remaining(user)):
            raise AccountLocked(
                f"Too many failed attempts for this account. Try again in {_human_seconds(wait)}, "
                "or reset your password.",
                retry_after=wait,
            )
        await db.release(read)  # no pooled connection is held through the hash
        ok = await passwords.verify_password(user.password_hash if user else None, password)
        if user is None or not user.is_active:
            raise InvalidCredentials()
        now = clock.utcnow()
        if not ok:
            failures = user.failed_signins + 1
            locked_until = None
            if failures >= settings.LOCKOUT_THRESHOLD:
                delay = min(
                    settings.LOCKOUT_BASE_SECONDS * 2 ** (failures - settings.LOCKOUT_THRESHOLD),
                    settings.LOCKOUT_MAX_SECONDS,
                )
                locked_until = now + timedelta(seconds=delay)
            await write.execute(
                update(User)
                .where(User.id == user.id)
                .values(failed_signins=User.failed_signins + 1, locked_until=locked_until)
            )
            raise InvalidCredentials(user_id=user.id)
        values: dict[str, object] = {"failed_signins": 0, "locked_until": None, "last_signin_at": now}
        if user.password_hash and passwords.needs_rehash(user.password_hash):
            values["password_hash"] = await passwords.hash_password(password)
        await write.execute(update(User).where(User.id == user.id).values(**values))
        user.last_signin_at = now
        return user

    # ---- sessions ---------------------------------------------------------------------------------------

    async def start_session(
        self,
        session: AsyncSession,
        *,
        user: User,
        tenant_id: uuid.UUID | None,
        meta: audit.RequestMeta,
        support_grant_id: uuid.UUID | None = None,
        lifetime: timedelta | None = None,
    ) -> tuple[str, UserSession]:
        token = new_token(32)
        now = clock.utcnow()
        row = UserSession(
            token_hash=digest(token),
            user_id=user.id,
            tenant_id=tenant_id,
            last_seen_at=now,
            expires_at=now + (lifetime or timedelta(hours=settings.SESSION_MAX_HOURS)),
            ip=meta.ip,
            user_agent=(meta.user_agent or "")[:400] or None,
            support_grant_id=support_grant_id,
        )
        await SessionRepository(session).add(row)
        return token, row

    def session_is_live(self, row: UserSession, user: User) -> bool:
        now = clock.utcnow()
        if row.revoked_at is not None or row.expires_at <= now or not user.is_active:
            return False
        if now - row.last_seen_at > timedelta(minutes=settings.SESSION_IDLE_MINUTES):
            return False
        return not (user.sessions_valid_after is not None and row.created_at < user.sessions_valid_after)

    async def resolve_session(self, session: AsyncSession, token: str) -> tuple[UserSession, User] | None:
        if not token or len(token) > 200:
            return None
        row = await SessionRepository(session).by_token_hash(digest(token))
        if row is None:
            return None
        user = await UserRepository(session).get(row.user_id)
        if user is None or not self.session_is_live(row, user):
            return None
        return row, user

    async def touch_session(self, session: AsyncSession, session_id: uuid.UUID) -> None:
        await SessionRepository(session).touch(session_id, clock.utcnow())

    async def touch_session_now(self, session_id: uuid.UUID) -> None:
        """Record the session's last use in a write of its own (``core.db.commit_now``): once a minute per browser."""
        now = clock.utcnow()
        await db.commit_now(lambda conn: SessionRepository.touch_on(conn, session_id, now))

    async def end_session(self, session: AsyncSession, token: str) -> UserSession | None:
        row = await SessionRepository(session).by_token_hash(digest(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = clock.utcnow()
            await session.flush()
        return row

    async def end_session_by_id(self, session: AsyncSession, session_id: uuid.UUID) -> None:
        row = await SessionRepository(session).get(session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = clock.utcnow()
            await session.flush()

    async def sign_out_everywhere(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        now = clock.utcnow()
        await session.execute(update(User).where(User.id == user_id).values(sessions_valid_after=now))
        await SessionRepository(session).revoke_all(user_id, now)

    async def end_tenant_access(self, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """A deactivated member loses their sessions and tokens in that tenant at once."""
        now = clock.utcnow()
        await SessionRepository(session).revoke_for_tenant_user(tenant_id, user_id, now)
        await ApiTokenRepository(session, tenant_id).revoke_for_user(user_id, now)

    async def prune_ended(self, session: AsyncSession, *, keep_days: int = 30) -> dict[str, int]:
        """Delete sessions and reset links that ended more than ``keep_days`` ago (the audit trail keeps
        the history; these rows are only credentials)."""
        cutoff = clock.utcnow() - timedelta(days=keep_days)
        return {
            "sessions": await SessionRepository(session).delete_ended_before(cutoff),
            "password_resets": await PasswordResetRepository(session).delete_ended_before(cutoff),
        }

    # ---- API tokens --------------------------------------------------------------------------------------

    async def create_token(
        self,
        session: AsyncSession,
        *,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        name: str,
        scopes: list[str],
        expires_in_days: int,
    ) -> tuple[str, ApiToken]:
        secret = API_TOKEN_PREFIX + new_token(32)
        row = ApiToken(
            tenant_id=tenant_id,
            user_id=user_id,
            name=name,
            token_hash=digest(secret),
            prefix=secret[:10],
            scopes=sorted(set(scopes)),
            expires_at=clock.utcnow() + timedelta(days=expires_in_days),
        )
        await ApiTokenRepository(session, tenant_id).add(row)
        return secret, row

    async def resolve_token(self, session: AsyncSession, secret: str) -> tuple[ApiToken, User] | None:
        if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > 200:
            return None
        row = await ApiTokenRepository.by_token_hash(session, digest(secret))
        if row is None or row.revoked_at is not None or row.expires_at <= clock.utcnow():
            return None
        user = await UserRepository(session).get(row.user_id)
        if user is None or not user.is_active:
            return None
        if user.sessions_valid_after is not None and row.created_at < user.sessions_valid_after:
            return None
        return row, user

    async def touch_token(self, session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID) -> None:
        await ApiTokenRepository(session, tenant_id).touch(token_id, clock.utcnow())

    async def touch_token_now(self, tenant_id: uuid.UUID, token_id: uuid.UUID) -> None:
        """Record the token's last use in a write of its own (``core.db.commit_now``)."""
        now = clock.utcnow()
        await db.commit_now(lambda conn: ApiTokenRepository.touch_on(conn, tenant_id, token_id, now))

    async def list_tokens(self, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[ApiToken]:
        return await ApiTokenRepository(session, tenant_id).for_user(user_id)

    async def revoke_token(
        self, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, token_id: uuid.UUID
    ) -> ApiToken:
        row = await ApiTokenRepository(session, tenant_id).get(token_id)
        if row is None or row.user_id != user_id:
            raise TokenNotFound()
        if row.revoked_at is None:
            row.revoked_at = clock.utcnow()
            await session.flush()
        return row

    # ---- password reset ----------------------------------------------------------------------------------

    async def start_reset(self, session: AsyncSession, email: str) -> tuple[User, str] | None:
        """Create a one-time reset link for an active account; None (silently) for anyone else."""
        user = await UserRepository(session).by_email(normalize_email(email))
        if user is None or not user.is_active:
            return None
        token = new_token(32)
        now = clock.utcnow()
        repo = PasswordResetRepository(session)
        await repo.expire_for_user(user.id, now)  # only the newest link works
        await repo.add(
            PasswordReset(
                user_id=user.id,
                token_hash=digest(token),
                expires_at=now + timedelta(minutes=settings.RESET_LINK_MINUTES),
            )
        )
        return user, token

    async def check_reset(self, session: AsyncSession, token: str) -> PasswordReset:
        row = await PasswordResetRepository(session).by_token_hash(digest(token))
        if row is None or row.used_at is not None or row.expires_at <= clock.utcnow():
            raise LinkInvalid()
        return row

    async def complete_reset(self, session: AsyncSession, token: str, new_password: str) -> User:
        row = await self.check_reset(session, token)
        user = await UserRepository(session).get(row.user_id, for_update=True)
        if user is None or not user.is_active:
            raise LinkInvalid()
        await self.set_password(session, user, new_password)  # raises WeakPassword before marking used
        row.used_at = clock.utcnow()
        await session.flush()
        return user

    async def change_password(
        self,
        read: AsyncSession,
        write: AsyncSession,
        user: User,
        current: str,
        new: str,
        *,
        keep_session_id: uuid.UUID | None = None,
    ) -> None:
        """The owner, signed in, changes the password: every *other* session ends and every open reset link
        stops working. The session making the change (``keep_session_id``) stays signed in, and the
        account's API tokens keep working: they are separate credentials, listed and revoked on their own
        (docs/security.md). A reset, where the old password may be known to someone else, ends them all
        (``set_password``)."""
        await db.release(read)  # no pooled connection is held through the two hashes
        if not await passwords.verify_password(user.password_hash, current):
            raise InvalidCredentials("Your current password is not correct.")
        passwords.check_policy(new, email=user.email)
        new_hash = await passwords.hash_password(new)
        fresh = await UserRepository(write).get(user.id, for_update=True)
        assert fresh is not None
        now = clock.utcnow()
        fresh.password_hash = new_hash
        fresh.password_changed_at = now
        fresh.failed_signins = 0
        fresh.locked_until = None
        await SessionRepository(write).revoke_all(user.id, now, keep=keep_session_id)
        await PasswordResetRepository(write).expire_for_user(user.id, now)
        await write.flush()


def _human_seconds(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


identity = IdentityService()
