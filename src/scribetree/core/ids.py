"""Time-ordered identifiers (UUID version 7, RFC 9562 §5.7).

Primary keys sort by creation time, so B-tree inserts stay at the right edge of the index and
"newest first" needs no extra column. Python 3.11 has no ``uuid.uuid7``; this is the RFC layout:
48 bits of Unix milliseconds, version, 12 bits of a per-process counter seeded randomly each
millisecond (method 1 of §6.2, monotonic within a process), variant, 62 random bits.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> uuid.UUID:
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = secrets.randbits(11)  # leave headroom so the counter rarely overflows
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted within one millisecond: borrow the next one
                _last_ms += 1
                _counter = secrets.randbits(11)
        ms, counter = _last_ms, _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    return uuid.UUID(int=value)


def new_token(nbytes: int = 32) -> str:
    """A URL-safe secret for links, sessions and API tokens."""
    return secrets.token_urlsafe(nbytes)
