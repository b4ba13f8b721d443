"""Password hashing with argon2id, off the event loop.

Parameters follow the OWASP Password Storage Cheat Sheet (m=19 MiB, t=2, p=1); they are settings so a
deployment can raise them. Hashing runs on its own small pool of threads (``PASSWORD_HASH_CONCURRENCY``)
at a lower CPU priority (``PASSWORD_HASH_NICENESS``, default nice +10, per thread on Linux): argon2
releases the GIL, so during a sign-in storm the event loop keeps serving everyone else first and the
storm queues for the hashing threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from scribetree.core.config import settings
from scribetree.identity.exceptions import WeakPassword

MIN_LENGTH = 10
MAX_LENGTH = 256
# NIST SP 800-63B §3.1.1.2: refuse passwords that are commonly used; a short, obvious list here.
_COMMON = {
    "password",
    "password1",
    "password123",
    "passw0rd",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou123",
    "letmein123",
    "welcome123",
    "abc1234567",
    "changeme123",
    "0123456789",
    "1111111111",
    "qwerty12345",
    "football123",
    "baseball123",
    "student123",
    "teacher123",
    "scribetree",
}


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.ARGON2_TIME_COST,
        memory_cost=settings.ARGON2_MEMORY_KIB,
        parallelism=settings.ARGON2_PARALLELISM,
    )


T = TypeVar("T")


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted: run at normal priority
        tid = threading.get_native_id()
        lower = os.getpriority(os.PRIO_PROCESS, tid) + settings.PASSWORD_HASH_NICENESS
        os.setpriority(os.PRIO_PROCESS, tid, min(19, lower))


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=settings.PASSWORD_HASH_CONCURRENCY, thread_name_prefix="argon2", initializer=_lower_priority
    )


async def _off_loop(fn: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_executor(), fn, *args)


def check_policy(password: str, *, email: str | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters; a few unrelated words make a good password.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        raise WeakPassword("This password is too easy to guess. Choose something less common.")
    if email and lowered == email.lower():
        raise WeakPassword("Do not use your email address as your password.")


async def hash_password(password: str) -> str:
    return await _off_loop(_hasher().hash, password)


def _verify(stored: str | None, password: str) -> bool:
    if stored is None:
        # Unknown account or no password: spend the same time, so timing does not reveal which.
        _burn(password)
        return False
    try:
        return _hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("scribetree-dummy-password-for-timing")


def _burn(password: str) -> None:
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        _hasher().verify(_dummy_hash(), password)


async def verify_password(stored: str | None, password: str) -> bool:
    return await _off_loop(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
