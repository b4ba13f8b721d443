"""Folding edit batches into a document's aggregates: pure, no database (docs/analytics.md, "Definitions").

:func:`fold` takes the aggregate state at a watermark and the batches after it, in the order the batch path
applied them, and returns the new state plus what each (author, UTC day) gained. Folding a log in any number
of slices gives the same result as folding it at once (a property test checks this), which is what lets the
periodic job and the on-demand catch-up read only the batches after the watermark.

Definitions (thresholds below, in seconds and code points):

- gap: time between a batch and the previous batch of the same document (any author).
- active time: the sum of gaps up to ``active_gap`` (the writing log's own rule, ``WRITING_ACTIVE_GAP_SECONDS``).
- session: starts at the first batch and after every gap longer than ``idle_gap`` (``WRITING_SESSION_IDLE_SECONDS``).
- pause: a gap longer than ``PAUSE_SECONDS`` and at most ``idle_gap`` (a stop inside a session).
- burst: a run of batches each at most ``BURST_GAP_SECONDS`` after the previous one that inserts at least
  ``BURST_MIN_CHARS`` code points; counted once, when the run reaches that size.
- words added / deleted: words of inserted text / of removed text, per op (``writing.ops`` counts them).
- first words: the first batch that adds a word.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from scribetree.writing import ops as writing_ops

PAUSE_SECONDS = 30
BURST_GAP_SECONDS = 5
BURST_MIN_CHARS = 100
# (upper bound in seconds, label); the last bucket is unbounded
GAP_BUCKETS: tuple[tuple[float | None, str], ...] = (
    (2, "0-2 s"),
    (5, "2-5 s"),
    (10, "5-10 s"),
    (30, "10-30 s"),
    (60, "30-60 s"),
    (300, "1-5 min"),
    (600, "5-10 min"),
    (3600, "10-60 min"),
    (None, "over 1 h"),
)


def gap_label(seconds: float) -> str:
    for upper, label in GAP_BUCKETS:
        if upper is None or seconds <= upper:
            return label
    raise AssertionError("the last bucket is unbounded")


@dataclass
class BatchIn:
    """What folding needs of an ``edit_batches`` row."""

    id: uuid.UUID
    revision: int
    base_revision: int
    received_at: datetime
    author_user_id: uuid.UUID | None
    ops: list[dict[str, Any]]


@dataclass
class State:
    """Mirrors the columns of ``analytics_document_metrics`` that folding changes."""

    text: str = ""
    wm_revision: int = 0
    wm_received_at: datetime | None = None
    wm_batch_id: uuid.UUID | None = None
    batches: int = 0
    sessions: int = 0
    active_seconds: int = 0
    chars_inserted: int = 0
    chars_deleted: int = 0
    words_added: int = 0
    words_deleted: int = 0
    pastes: int = 0
    pasted_chars: int = 0
    gaps: dict[str, int] = field(default_factory=dict)
    pauses: int = 0
    pause_seconds: int = 0
    bursts: int = 0
    longest_burst_chars: int = 0
    run_chars: int = 0
    run_counted: bool = False
    first_batch_at: datetime | None = None
    first_words_at: datetime | None = None
    last_batch_at: datetime | None = None

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class DayDelta:
    batches: int = 0
    active_seconds: int = 0
    chars_inserted: int = 0
    chars_deleted: int = 0
    words_added: int = 0
    words_deleted: int = 0
    word_delta: int = 0
    pastes: int = 0
    pasted_chars: int = 0

    def values(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class NeedText(Exception):
    """A batch is based on a revision whose text folding does not have (a restore changed the text)."""

    def __init__(self, revision: int) -> None:
        super().__init__(revision)
        self.revision = revision


def fold(
    state: State,
    batches: Iterable[BatchIn],
    *,
    active_gap: int,
    idle_gap: int,
    days: dict[tuple[uuid.UUID, date], DayDelta] | None = None,
    texts: dict[int, str] | None = None,
) -> dict[tuple[uuid.UUID, date], DayDelta]:
    """Fold ``batches`` (after the watermark, in application order) into ``state`` in place.

    Returns the per (author, UTC day) deltas (added to ``days`` if given); batches whose author was deleted count
    for the document but for no day. A batch that changes the text from a base revision other than the
    watermark's (a restore changed the text outside the log) takes its text from ``texts``; if it is not there,
    :class:`NeedText` is raised with every earlier batch folded and that batch not, so the caller can fetch the
    text and fold the rest.
    """
    days = {} if days is None else days
    for b in batches:
        parsed = writing_ops.parse_ops(b.ops)
        changes = any(op.changes_text for op in parsed)
        if changes and b.base_revision != state.wm_revision:
            if texts is None or b.base_revision not in texts:
                raise NeedText(b.base_revision)
            state.text = texts[b.base_revision]
        applied = writing_ops.apply_counted(state.text, parsed)
        pasted = sum(len(op.text) for op in parsed if op.kind == "paste")
        at = b.received_at
        active = 0
        if state.last_batch_at is None:
            state.sessions += 1
            state.first_batch_at = at
        else:
            gap = max(0.0, (at - state.last_batch_at).total_seconds())
            state.gaps[gap_label(gap)] = state.gaps.get(gap_label(gap), 0) + 1
            if gap > idle_gap:
                state.sessions += 1
            elif gap > PAUSE_SECONDS:
                state.pauses += 1
                state.pause_seconds += round(gap)
            if gap <= active_gap:
                active = round(gap)
            if gap > BURST_GAP_SECONDS:
                state.run_chars, state.run_counted = 0, False
        state.run_chars += applied.chars_inserted
        if state.run_chars >= BURST_MIN_CHARS:
            if not state.run_counted:
                state.bursts += 1
                state.run_counted = True
            state.longest_burst_chars = max(state.longest_burst_chars, state.run_chars)
        if state.first_words_at is None and applied.words_added > 0:
            state.first_words_at = at
        state.text = applied.text
        state.wm_revision = b.revision
        state.wm_received_at = at
        state.wm_batch_id = b.id
        state.last_batch_at = at
        state.batches += 1
        state.active_seconds += active
        state.chars_inserted += applied.chars_inserted
        state.chars_deleted += applied.chars_deleted
        state.words_added += applied.words_added
        state.words_deleted += applied.words_removed
        state.pastes += applied.pastes
        state.pasted_chars += pasted
        if b.author_user_id is not None:
            d = days.setdefault((b.author_user_id, at.date()), DayDelta())
            d.batches += 1
            d.active_seconds += active
            d.chars_inserted += applied.chars_inserted
            d.chars_deleted += applied.chars_deleted
            d.words_added += applied.words_added
            d.words_deleted += applied.words_removed
            d.word_delta += applied.word_delta
            d.pastes += applied.pastes
            d.pasted_chars += pasted
    return days
