"""The current text of a document as chunks, and an in-process cache of it (pure: no database, no I/O).

A batch changes a small region of the text. :func:`touched_region` finds it from the ops alone, and
:func:`plan` says which chunks to rewrite, delete or insert so the chunks hold the new text, touching only
the chunks that overlap the region (usually one). :class:`TextCache` keeps the text and chunk layout of
recently written documents, keyed by document id and checked against the document row's ``(revision,
content_hash)``, so the batch path neither re-reads nor re-hashes from the database; a miss reads the chunks.
Entries are added only after the writing transaction commits (a rolled-back batch leaves nothing behind).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from scribetree.writing.models import CHUNK_MAX, CHUNK_TARGET, ORD_GAP, split_text
from scribetree.writing.ops import Op


@dataclass(slots=True)
class Layout:
    """A document's text and its chunks: ``ords[i]`` holds ``text[starts[i] : starts[i] + lengths[i]]``."""

    text: str
    ords: list[int]
    lengths: list[int]

    @classmethod
    def of_chunks(cls, rows: Sequence[tuple[int, str]]) -> Layout:
        return cls(text="".join(t for _, t in rows), ords=[o for o, _ in rows], lengths=[len(t) for _, t in rows])


@dataclass(slots=True)
class Plan:
    """Chunk writes that turn the old text's chunks into the new text's."""

    update: list[tuple[int, str]] = field(default_factory=list)  # (ord, new text) of existing chunks
    insert: list[tuple[int, str]] = field(default_factory=list)  # (ord, text) of new chunks
    delete: list[int] = field(default_factory=list)  # ords of chunks to remove
    rewrite_all: bool = False  # no room between two ords: every chunk is replaced (rare)
    layout: Layout | None = None  # the new layout


def touched_region(size: int, ops: Sequence[Op]) -> tuple[int, int]:
    """``(lo, keep_tail)``: code points before ``lo`` and the last ``keep_tail`` are the same before and after
    the batch. Each op changes nothing before its ``pos`` and keeps the text after its removed span."""
    lo, tail = size, size
    for op in ops:
        if not op.changes_text:
            continue
        lo = min(lo, op.pos)
        tail = min(tail, size - op.pos - op.len)
        size += len(op.text) - op.len
    return lo, max(0, tail)


def plan(old: Layout, new_text: str, ops: Sequence[Op]) -> Plan:
    """The chunk writes for a batch that turned ``old.text`` into ``new_text`` (ops already validated)."""
    size = len(old.text)
    lo, tail = touched_region(size, ops)
    hi = size - tail  # the old region is [lo, hi); it may be empty (a pure insert)
    delta = len(new_text) - size
    starts, k = [], 0
    for n in old.lengths:
        starts.append(k)
        k += n
    last = len(old.ords) - 1
    first = next((i for i in range(last + 1) if starts[i] + old.lengths[i] > lo), last)
    # An insert exactly at a chunk boundary goes to the end of the previous chunk (appending to a text grows
    # its last chunk).
    if first > 0 and starts[first] == lo and hi == lo:
        first -= 1
    end = first if hi <= lo else next((i for i in range(first, last + 1) if starts[i] + old.lengths[i] >= hi), last)
    span_start = starts[first]
    span_end = starts[end] + old.lengths[end] + delta
    content = new_text[span_start:span_end]
    if len(content) > CHUNK_MAX:
        pieces = [content[i : i + CHUNK_TARGET] for i in range(0, len(content), CHUNK_TARGET)]
    elif content or len(old.ords) == end - first + 1:
        pieces = [content]  # an empty document keeps one empty chunk
    else:
        pieces = []
    reused = old.ords[first : end + 1]
    out = Plan()
    out.update = list(zip(reused, pieces, strict=False))
    out.delete = reused[len(pieces) :]
    extra = pieces[len(reused) :]
    if extra:
        after = old.ords[end + 1] if end < last else reused[-1] + (len(extra) + 1) * ORD_GAP
        step = (after - reused[-1]) // (len(extra) + 1)
        if step < 1:
            return rewrite(new_text)
        out.insert = [(reused[-1] + (i + 1) * step, piece) for i, piece in enumerate(extra)]
    new_ords = [o for o, _ in out.update] + [o for o, _ in out.insert]
    out.layout = Layout(
        text=new_text,
        ords=old.ords[:first] + new_ords + old.ords[end + 1 :],
        lengths=old.lengths[:first] + [len(p) for p in pieces] + old.lengths[end + 1 :],
    )
    return out


def rewrite(text: str) -> Plan:
    rows = split_text(text)
    return Plan(insert=rows, rewrite_all=True, layout=Layout.of_chunks(rows))


@dataclass(slots=True)
class _Entry:
    revision: int
    content_hash: str
    layout: Layout


class TextCache:
    """Least-recently-used texts and layouts of documents, bounded by their total length in code points.

    Thread-safe: the batch path reads and fills it on the database writer's thread (SQLite), and the event loop
    fills it after a commit.
    """

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self._entries: OrderedDict[uuid.UUID, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, document_id: uuid.UUID, revision: int, content_hash: str) -> Layout | None:
        with self._lock:
            entry = self._entries.get(document_id)
            if entry is None or entry.revision != revision or entry.content_hash != content_hash:
                return None
            self._entries.move_to_end(document_id)
            return entry.layout

    def put(self, document_id: uuid.UUID, revision: int, content_hash: str, layout: Layout) -> None:
        with self._lock:
            self._discard(document_id)
            if len(layout.text) > self.max_chars:
                return
            self._entries[document_id] = _Entry(revision, content_hash, layout)
            self.chars += len(layout.text)
            while self.chars > self.max_chars:
                _, old = self._entries.popitem(last=False)
                self.chars -= len(old.layout.text)

    def discard(self, document_id: uuid.UUID) -> None:
        with self._lock:
            self._discard(document_id)

    def _discard(self, document_id: uuid.UUID) -> None:
        old = self._entries.pop(document_id, None)
        if old is not None:
            self.chars -= len(old.layout.text)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.chars = 0
