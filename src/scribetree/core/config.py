"""The one settings object (STYLE C1). Nothing else in the code base reads ``os.environ``.

Values come from ``SCRIBETREE_*`` environment variables and, for development, from ``.env``
(``.env.testing`` when ``SCRIBETREE_ENV=testing``). Validation runs at import time so that a
misconfigured production start stops with a sentence a person can act on.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeInt, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[3]
_DEV_SECRET = "dev-only-secret-key-change-me-in-production-0123456789"  # noqa: S105 (refused in production)


class Environment(StrEnum):
    development = "development"
    testing = "testing"
    production = "production"


def _env_file() -> tuple[str, ...]:
    env = os.environ.get("SCRIBETREE_ENV", "development")  # C2: the env selects the file
    return (".env",) if env == "development" else (f".env.{env}",)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SCRIBETREE_", env_file=_env_file(), env_file_encoding="utf-8", extra="ignore"
    )

    ENV: Environment = Environment.development
    SECRET_KEY: SecretStr = SecretStr(_DEV_SECRET)
    BASE_URL: str = "http://127.0.0.1:8000"
    DATA_DIR: Path = PROJECT_ROOT / "var"
    DATABASE_URL: str = ""  # empty: the embedded SQLite file under DATA_DIR
    # seconds `serve` keeps an idle HTTP connection open (uvicorn's own default is 5). It must be longer than the idle
    # timeout of whatever sits in front (AWS ALB: 60 s by default): otherwise the balancer, or a client, now and then
    # sends a request on a connection the server is closing at that moment, and that request fails.
    HTTP_KEEP_ALIVE_SECONDS: int = Field(default=75, ge=1, le=3600)
    # PostgreSQL: connections one process opens at most. The pool opens them as requests need them and keeps them:
    # no overflow connections, which are closed whenever they come back and then reopened at the next burst, each
    # time a new backend process, its catalog caches and prepared statements (bench/RESULTS.md).
    DATABASE_POOL_SIZE: int = Field(default=20, ge=1, le=200)
    REDIS_URL: str = ""  # empty: in-process rate limits and pub/sub (embedded mode)

    # The in-process worker runs under `serve` unless a deployment runs `scribetree worker`s.
    WORKER_IN_PROCESS: bool = True
    WORKER_CONCURRENCY: int = Field(default=4, ge=1, le=64)
    WORKER_POLL_SECONDS: float = Field(default=1.0, gt=0, le=60)
    JOB_LEASE_SECONDS: int = Field(default=300, ge=5)
    WORKER_HEARTBEAT_STALE_SECONDS: int = Field(default=60, ge=5)

    SESSION_COOKIE: str = "st_session"
    # How often a process reads the cache epochs (core.cache_epochs): a sign-out, deactivation or roster change
    # committed by another process reaches this process's caches within about this long.
    CACHE_EPOCH_CHECK_SECONDS: float = Field(default=1.0, gt=0)
    SESSION_IDLE_MINUTES: int = Field(default=120, ge=5)  # expires after this long unused
    SESSION_MAX_HOURS: int = Field(default=24 * 7, ge=1)  # absolute lifetime
    COOKIE_SECURE: bool | None = None  # None: secure in production only

    # Lockout: after this many failures for one account, each further attempt waits
    # LOCKOUT_BASE_SECONDS * 2**(failures - threshold), capped (OWASP Authentication Cheat Sheet).
    LOCKOUT_THRESHOLD: int = Field(default=5, ge=1)
    LOCKOUT_BASE_SECONDS: int = Field(default=30, ge=1)
    LOCKOUT_MAX_SECONDS: int = Field(default=15 * 60, ge=1)
    RATE_LIMIT_SIGNIN: str = "20/minute"  # per client address, on top of the per-account lockout
    RATE_LIMIT_RESET: str = "5/minute"
    RATE_LIMIT_ENABLED: bool = True

    # argon2id, OWASP Password Storage Cheat Sheet (2025): m=19 MiB, t=2, p=1.
    ARGON2_MEMORY_KIB: int = Field(default=19 * 1024, ge=8)
    ARGON2_TIME_COST: int = Field(default=2, ge=1)
    ARGON2_PARALLELISM: int = Field(default=1, ge=1)
    PASSWORD_HASH_CONCURRENCY: int = Field(default=2, ge=1, le=64)  # threads hashing at once
    # how much lower the hashing threads run than the event loop (Linux nice, 0-19): a sign-in storm queues
    # for the hash instead of slowing everyone already working
    PASSWORD_HASH_NICENESS: int = Field(default=10, ge=0, le=19)
    # password checks in progress at once per process; more sign-ins wait in line holding nothing
    SIGNIN_CONCURRENCY: int = Field(default=4, ge=1, le=256)
    # > 0: `serve` has glibc mmap blocks above this size and unmap them when freed, and trim its heaps at twice it,
    # so argon2's buffers (ARGON2_MEMORY_KIB; keep this below it) go back to the OS after a sign-in burst instead of
    # staying in the hashing threads' heaps (core/malloc.py; ~33 MB less peak RSS in bench/RESULTS.md). 0: glibc's
    # own adaptive thresholds.
    MALLOC_MMAP_THRESHOLD_KB: int = Field(default=16 * 1024, ge=0, le=32 * 1024)
    # `serve` and `worker` move their start-up objects out of the garbage collector's way once started, so a full
    # collection stops the event loop for tens of ms instead of hundreds (core/gcpolicy.py)
    GC_FREEZE_AT_STARTUP: bool = True
    # ... and collect less often: a young collection every 50,000 new objects instead of 700, so what a request
    # makes dies young instead of being promoted to the old generation, whose growth triggers full collections
    # (bench/RESULTS.md: on PostgreSQL c, 29 full collections and 3.4 s stood still in 30 s -> 0 and 0.2 s).
    # JSON, e.g. '[700, 10, 10]' for the interpreter's own; [0, 0, 0] leaves them as the interpreter has them.
    GC_THRESHOLDS: tuple[NonNegativeInt, NonNegativeInt, NonNegativeInt] = (50_000, 20, 10)

    RESET_LINK_MINUTES: int = Field(default=60, ge=5)
    INVITE_LINK_DAYS: int = Field(default=7, ge=1)
    SUPPORT_ACCESS_MAX_MINUTES: int = Field(default=120, ge=5)

    # MCP over HTTP (docs/mcp.md): Host header values accepted at /mcp/, comma separated ("host:*" = any port);
    # empty: the BASE_URL's host and localhost. Other hosts get 421 (DNS-rebinding protection).
    MCP_ALLOWED_HOSTS: str = ""
    MCP_TOKEN: SecretStr = SecretStr("")  # `scribetree mcp` (stdio) acts as this API token's owner

    MAX_BODY_BYTES: int = Field(default=1_000_000, ge=1024)
    FRAME_ANCESTORS: str = "'self'"  # LMS embedding (LTI) widens this per deployment

    # The writing log (docs/api.md, "Writing"): limits answered with 413, and the snapshot/session rules.
    WRITING_MAX_BATCH_OPS: int = Field(default=1_000, ge=1)  # ops in one batch
    WRITING_MAX_BATCH_BYTES: int = Field(default=200_000, ge=1)  # UTF-8 bytes of the text the ops carry
    WRITING_MAX_DOCUMENT_CHARS: int = Field(default=500_000, ge=1)  # code points of a document (~80,000 words)
    WRITING_SNAPSHOT_SECONDS: int = Field(default=300, ge=1)  # automatic snapshot after this much time with changes
    WRITING_SNAPSHOT_CHARS: int = Field(default=500, ge=1)  # ... or after this many code points changed
    # The staff submission list of an assignment is computed once and served to every educator asking within this many
    # seconds (0: never reused); roster, status, submission and grade changes show at once, the live words and last
    # activity up to this late.
    SUBMISSION_LIST_REUSE_SECONDS: float = Field(default=2.0, ge=0, le=60)
    WRITING_SESSION_IDLE_SECONDS: int = Field(default=600, ge=1)  # a longer gap starts a new writing session
    WRITING_ACTIVE_GAP_SECONDS: int = Field(default=60, ge=1)  # gaps up to this long count as active time
    # Texts of recently written documents kept in memory by the batch path (code points, all documents together)
    WRITING_TEXT_CACHE_CHARS: int = Field(default=4_000_000, ge=0)

    MAIL_FROM: str = "Scribe Tree <no-reply@scribetree.local>"
    SMTP_HOST: str = ""  # empty: mail is written to DATA_DIR/mail (development only)
    SMTP_PORT: int = 587
    SMTP_USERNAME: str = ""
    SMTP_PASSWORD: SecretStr = SecretStr("")
    SMTP_STARTTLS: bool = True

    DEMO_PASSWORD: SecretStr = SecretStr("scribe-demo-2026")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_JSON: bool = True

    @model_validator(mode="after")
    def _refuse_a_collector_switched_off_by_accident(self) -> Settings:
        young, *_ = self.GC_THRESHOLDS
        if young == 0 and any(self.GC_THRESHOLDS):
            raise ValueError(
                "SCRIBETREE_GC_THRESHOLDS: a first threshold of 0 switches Python's garbage collector off; give it "
                "a number of objects (e.g. [50000, 20, 10]), or [0, 0, 0] to keep Python's own thresholds"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if Environment.production == self.ENV:
            secret = self.SECRET_KEY.get_secret_value()
            if secret == _DEV_SECRET or len(secret) < 32:
                raise ValueError(
                    "SCRIBETREE_SECRET_KEY must be set to a random value of at least 32 characters in "
                    "production (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if not self.DATABASE_URL.startswith("postgresql"):
                raise ValueError(
                    "SCRIBETREE_DATABASE_URL must point at PostgreSQL in production "
                    "(postgresql+psycopg://user:pass@host/db); SQLite is the embedded development default"
                )
            if not self.SMTP_HOST:
                raise ValueError(
                    "SCRIBETREE_SMTP_HOST must be set in production so that reset and invitation links reach people"
                )
        return self

    @property
    def database_url(self) -> str:
        if self.DATABASE_URL:
            return self.DATABASE_URL
        return f"sqlite+aiosqlite:///{self.DATA_DIR / 'scribetree.db'}"

    @property
    def is_production(self) -> bool:
        return Environment.production == self.ENV

    @property
    def is_development(self) -> bool:
        return Environment.development == self.ENV

    @property
    def cookie_secure(self) -> bool:
        return self.is_production if self.COOKIE_SECURE is None else self.COOKIE_SECURE


class ConfigurationError(SystemExit):
    """Raised at start-up when settings are invalid; the message says what to change."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = ["Scribe Tree cannot start: the configuration is invalid."]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            name = f"SCRIBETREE_{where.upper()}" if where != "settings" else "settings"
            lines.append(f"  - {name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigurationError("\n".join(lines)) from None


settings = load_settings()
