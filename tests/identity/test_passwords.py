"""Password hashing stays off the event loop and below it in CPU priority."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from scribetree.core.config import settings
from scribetree.identity import passwords


async def test_hash_and_verify_round_trip():
    stored = await passwords.hash_password("a long enough passphrase")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify_password(stored, "a long enough passphrase")
    assert not await passwords.verify_password(stored, "a long enough passphrasE")
    assert not await passwords.verify_password(None, "anything at all")  # unknown account: same work, False


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is a Linux feature")
async def test_hashing_threads_run_below_the_event_loop_priority():
    def niceness() -> tuple[int, str]:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), threading.current_thread().name

    loop_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    hash_nice, name = await passwords._off_loop(niceness)
    assert name.startswith("argon2")
    assert hash_nice == min(19, loop_nice + settings.PASSWORD_HASH_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_nice  # the loop is untouched
