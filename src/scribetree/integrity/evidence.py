"""Process evidence from the writing log: pure functions over ops (no database, no I/O).

:func:`compute` replays a document's ops in order and attributes every character of the final text to the
op that produced it (typed here, typed with assistive input, pasted from outside, pasted from the document
itself, produced by undo/redo, or of unknown origin: text that came from a restored version). It measures the
process at the same time: active time and sessions, revision ratio, pauses and bursts, linearity, time to
the first keystroke, keystroke rhythm, and focus losses around large insertions.

Provenance is a list of runs ``(length, origin)`` over the text; adjacent runs of equal origin merge, so the
list stays as short as the number of origin changes (pastes, moves), not the number of characters. An edit
finds its run by walking from the run of the previous edit, which is where the writer usually is: the cost of
a replay is proportional to the ops, not to ops x text (30,000 events on a 5,000-word essay: ``bench/integrity.py``).

Thresholds and the meaning of each figure are published in ``docs/integrity.md``.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# Bump when the computation changes: cached reports of an older algorithm are recomputed on the next read.
ALGORITHM = 1

# Origins of characters (the order is the order of the composition table).
TYPED = "typed"
ASSISTIVE = "assistive"  # IME, dictation, autocorrect, drop, other assistive input: typing, never pasting
EXTERNAL = "pasted_external"
INTERNAL = "pasted_internal"  # pasted text that already appeared in this document (moves, own copies)
HISTORY = "undo_redo"
UNKNOWN = "unknown"  # from a restored version (its characters' first origin is not replayed)
ORIGINS = (TYPED, ASSISTIVE, EXTERNAL, INTERNAL, HISTORY, UNKNOWN)

IDLE_MS = 5 * 60 * 1000  # a gap longer than this is not active time
SESSION_GAP_MS = 30 * 60 * 1000  # a gap longer than this starts a new session
PAUSE_MS = 2000  # a pause (Crossley et al. 2024; the "macro" pause of i-typed-this)
LONG_PAUSE_MS = 30_000
NEAR_END = 10  # an insertion within this many characters of the end counts as writing at the end
RETURN_JUMP = 50  # an edit this far before the end, after one at the end, is a return to earlier text
LARGE_INSERT = 150  # characters inserted by one op that count as a large insertion
FOCUS_WINDOW_MS = 60_000  # a large insertion this soon after focus came back is reported with the focus loss

_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(slots=True)
class Batch:
    """What evidence needs of one stored batch."""

    ops: list[dict[str, Any]]
    base_revision: int = 0
    revision: int = 0
    author: str | None = None


@dataclass(slots=True)
class PasteSpan:
    """One paste (or large assistive insertion) and what is left of it in the final text."""

    id: int
    kind: str  # origin: pasted_external / pasted_internal / assistive
    t: int
    size: int  # characters pasted
    remaining: int = 0  # characters of it in the final text
    spans: list[tuple[int, int]] = field(default_factory=list)  # [start, end) in the final text
    after_focus_loss: bool = False
    via: str | None = None


@dataclass(slots=True)
class Evidence:
    final_chars: int
    final_words: int
    consistent: bool  # the replay reproduced the final text exactly
    composition: dict[str, int]  # characters of the final text per origin
    composition_share: dict[str, float]
    via_chars: dict[str, int]  # characters entered per assistive input type over the whole process
    pastes: list[PasteSpan]
    process: dict[str, Any]
    rhythm: dict[str, Any]
    highlights: list[dict[str, Any]]  # [{"start", "end", "origin", "paste"}] of the final text, non-typed runs

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["pastes"] = [asdict(p) | {"spans": [list(s) for s in p.spans]} for p in self.pastes]
        return out


class _Runs:
    """The provenance of the current text: run lengths and origins, with a cursor at the last edit."""

    __slots__ = ("hint", "hint_start", "lens", "origins", "size")

    def __init__(self, size: int = 0, origin: tuple[str, int] = (UNKNOWN, -1)) -> None:
        self.lens: list[int] = [size] if size else []
        self.origins: list[tuple[str, int]] = [origin] if size else []
        self.hint = 0
        self.hint_start = 0
        self.size = size

    def _find(self, pos: int) -> tuple[int, int]:
        """The run containing ``pos`` (or the end) and its start, walking from the cursor."""
        i, start = self.hint, self.hint_start
        lens = self.lens
        if i > len(lens):
            i, start = 0, 0
        while i > 0 and start > pos:
            i -= 1
            start -= lens[i]
        n = len(lens)
        while i < n and start + lens[i] <= pos:
            start += lens[i]
            i += 1
        self.hint, self.hint_start = i, start
        return i, start

    def _split(self, pos: int) -> int:
        """Make a run boundary at ``pos``; the index of the run that starts there."""
        i, start = self._find(pos)
        if i < len(self.lens) and start < pos:
            head = pos - start
            self.lens[i : i + 1] = [head, self.lens[i] - head]
            self.origins.insert(i + 1, self.origins[i])
            i += 1
            self.hint, self.hint_start = i, pos
        return i

    def delete(self, pos: int, length: int) -> None:
        if length <= 0:
            return
        i = self._split(pos)
        j = self._split(pos + length)
        # _split(pos + length) moved the cursor; the run at pos is still index i
        del self.lens[i:j]
        del self.origins[i:j]
        self.size -= length
        self.hint, self.hint_start = i, pos
        self._merge(i, pos)

    def insert(self, pos: int, length: int, origin: tuple[str, int]) -> None:
        if length <= 0:
            return
        i = self._split(pos)
        if i > 0 and self.origins[i - 1] == origin:
            self.lens[i - 1] += length
            self.hint, self.hint_start = i - 1, pos - (self.lens[i - 1] - length)
        elif i < len(self.lens) and self.origins[i] == origin:
            self.lens[i] += length
            self.hint, self.hint_start = i, pos
        else:
            self.lens.insert(i, length)
            self.origins.insert(i, origin)
            self.hint, self.hint_start = i, pos
        self.size += length

    def _merge(self, i: int, boundary: int) -> None:
        """Join the runs at ``i - 1`` and ``i`` (which meet at ``boundary``) when they have the same origin."""
        if 0 < i < len(self.lens) and self.origins[i - 1] == self.origins[i]:
            head = self.lens[i - 1]
            self.lens[i - 1] = head + self.lens[i]
            del self.lens[i]
            del self.origins[i]
            self.hint, self.hint_start = i - 1, boundary - head

    def spans(self) -> Iterable[tuple[int, int, tuple[str, int]]]:
        start = 0
        for length, origin in zip(self.lens, self.origins, strict=True):
            yield start, start + length, origin
            start += length


def _sentence_start(text_before: str) -> bool:
    """Whether an insertion after ``text_before`` starts a sentence or paragraph (or the document)."""
    tail = text_before[-4:]
    return not tail.strip() or bool(_SENTENCE_END.search(tail))


def _robust_cv(values: Sequence[float]) -> float:
    """MAD / median: a spread of intervals that a few long pauses do not dominate."""
    med = statistics.median(values)
    if med <= 0:
        return 0.0
    mad = statistics.median(abs(v - med) for v in values)
    return mad / med


def compute(
    batches: Sequence[Batch],
    final_text: str,
    *,
    restores: dict[int, str] | None = None,
    opened_at_ms: int | None = None,
    final_words: int | None = None,
) -> Evidence:
    """Replay ``batches`` (acceptance order) and measure. ``restores`` maps a revision made by restoring a
    version to that version's text (no batch produced it); ``opened_at_ms`` is when the document was created
    (for the time to the first keystroke)."""
    restores = restores or {}
    # The text as a list of characters: typing happens mostly at or near the end, where inserting into a list
    # moves only the pointers after it (a str would be copied whole on every keystroke).
    text: list[str] = []
    runs = _Runs()
    revision = 0
    pastes: list[PasteSpan] = []
    typed_chars = 0  # characters typed (incl. assistive) over the whole process
    inserted_chars = 0
    deleted_chars = 0
    word_corrections = 0  # deletions of 1-20 characters right after typing at the same place
    last_t: int | None = None
    first_t: int | None = None
    first_edit_t: int | None = None
    active_ms = 0
    sessions = 0
    session_spans: list[tuple[int, int]] = []
    pauses = 0
    long_pauses = 0
    pauses_at_boundary = 0
    burst_chars: list[int] = []
    current_burst = 0
    last_edit_t: int | None = None
    last_edit_end: int | None = None
    at_end_chars = 0
    returns = 0
    edits = 0
    focus_lost_at: int | None = None
    focus_regained_at: int | None = None
    focus_losses = 0
    focus_events: list[dict[str, Any]] = []
    # keystroke rhythm: intervals between consecutive one-character typed inserts
    within_word: list[int] = []
    word_start: list[int] = []
    last_key_t: int | None = None
    last_key_end: int | None = None
    prev_char = " "
    ops_count = 0

    def tick(t: int) -> None:
        nonlocal last_t, first_t, active_ms, sessions
        if first_t is None:
            first_t = t
            sessions = 1
            session_spans.append((t, t))
        elif last_t is not None:
            gap = t - last_t
            if gap > SESSION_GAP_MS:
                sessions += 1
                session_spans.append((t, t))
            else:
                session_spans[-1] = (session_spans[-1][0], t)
            if 0 < gap <= IDLE_MS:
                active_ms += gap
        last_t = t if last_t is None else max(last_t, t)

    for batch in batches:
        if batch.base_revision != revision and batch.base_revision in restores:
            text = list(restores[batch.base_revision])
            runs = _Runs(len(text))
            last_key_end = None
        revision = max(revision, batch.revision)
        for op in batch.ops:
            ops_count += 1
            kind = op.get("kind")
            t = int(op.get("t", 0))
            tick(t)
            if kind == "focus":
                if op.get("state") == "lost":
                    focus_lost_at = t
                    focus_losses += 1
                else:
                    if focus_lost_at is not None:
                        focus_regained_at = t
                        focus_events.append({"lost_at": focus_lost_at, "gained_at": t, "away_ms": t - focus_lost_at})
                    focus_lost_at = None
                continue
            pos = int(op.get("pos", 0))
            removed = int(op.get("len", 0) or 0)
            new = op.get("text") or ""
            size = len(text)
            if pos > size or pos + removed > size:
                continue  # cannot happen for a stored log (validated on write); never crash a report on it
            edits += 1
            if first_edit_t is None:
                first_edit_t = t
            # pauses and bursts (between consecutive text edits)
            if last_edit_t is not None:
                gap = t - last_edit_t
                if gap >= PAUSE_MS:
                    if gap <= IDLE_MS:
                        pauses += 1
                        if gap >= LONG_PAUSE_MS:
                            long_pauses += 1
                        if new and _sentence_start("".join(text[max(0, pos - 4) : pos])):
                            pauses_at_boundary += 1
                    if current_burst:
                        burst_chars.append(current_burst)
                    current_burst = 0
            last_edit_t = t
            # linearity
            if new:
                if size - pos <= NEAR_END:
                    at_end_chars += len(new)
                elif last_edit_end is not None and size - last_edit_end <= NEAR_END and size - pos >= RETURN_JUMP:
                    returns += 1
            if removed:
                deleted_chars += removed
                if removed <= 20 and last_key_end is not None and pos + removed == last_key_end:
                    word_corrections += 1
                del text[pos : pos + removed]
                runs.delete(pos, removed)
            if new:
                length = len(new)
                inserted_chars += length
                if kind == "paste":
                    origin_kind = INTERNAL if op.get("seen_in_doc") else EXTERNAL
                    span = PasteSpan(id=len(pastes), kind=origin_kind, t=t, size=length)
                    span.after_focus_loss = (
                        focus_regained_at is not None and 0 <= t - focus_regained_at <= FOCUS_WINDOW_MS
                    ) or focus_lost_at is not None
                    pastes.append(span)
                    origin = (origin_kind, span.id)
                    last_key_end = None
                elif kind == "insert":
                    via = op.get("via")
                    typed_chars += length
                    if via and via != "typed":
                        origin = (ASSISTIVE, -1)
                        if length >= LARGE_INSERT:
                            span = PasteSpan(id=len(pastes), kind=ASSISTIVE, t=t, size=length, via=via)
                            pastes.append(span)
                            origin = (ASSISTIVE, span.id)
                        last_key_end = None
                    else:
                        origin = (TYPED, -1)
                        if length == 1:
                            if last_key_t is not None and last_key_end == pos and 0 < t - last_key_t < PAUSE_MS:
                                interval = t - last_key_t
                                if new.isalnum():
                                    (within_word if prev_char.isalnum() else word_start).append(interval)
                            last_key_t = t
                            prev_char = new
                        last_key_end = pos + length
                else:  # undo / redo
                    origin = (HISTORY, -1)
                    last_key_end = None
                current_burst += length
                text[pos:pos] = new
                runs.insert(pos, length, origin)
                last_edit_end = pos + length
            else:
                last_edit_end = pos
                if kind in ("delete", "cut") and last_key_end is not None and pos + removed <= last_key_end:
                    last_key_end = pos
    if current_burst:
        burst_chars.append(current_burst)

    consistent = len(text) == len(final_text) and "".join(text) == final_text
    if not consistent:  # attribute nothing we cannot reproduce
        runs = _Runs(len(final_text))
    composition = dict.fromkeys(ORIGINS, 0)
    highlights: list[dict[str, Any]] = []
    by_id = {p.id: p for p in pastes}
    for start, end, (kind, ident) in runs.spans():
        composition[kind] += end - start
        if ident >= 0:
            p = by_id[ident]
            p.remaining += end - start
            p.spans.append((start, end))
        if kind != TYPED:
            highlights.append({"start": start, "end": end, "origin": kind, "paste": ident if ident >= 0 else None})
    final_chars = len(final_text)
    share = {k: (v / final_chars if final_chars else 0.0) for k, v in composition.items()}
    words = final_words if final_words is not None else len(_WORD.findall(final_text))
    typed_final = composition[TYPED] + composition[ASSISTIVE]
    active_s = active_ms / 1000
    process: dict[str, Any] = {
        "events": ops_count,
        "edits": edits,
        "active_seconds": round(active_s),
        "sessions": sessions,
        "session_spans": [list(s) for s in session_spans],
        "first_event_at": first_t,
        "last_event_at": last_t,
        "time_to_first_keystroke_s": (
            round((first_edit_t - opened_at_ms) / 1000) if first_edit_t and opened_at_ms is not None else None
        ),
        "active_minutes_per_100_words": round(active_s / 60 / words * 100, 2) if words else None,
        "chars_typed": typed_chars,
        "chars_inserted": inserted_chars,
        "chars_deleted": deleted_chars,
        # typed ÷ final (characters): 1.0 means every typed character survived (no revision at all)
        "revision_ratio": round(typed_chars / typed_final, 3) if typed_final else None,
        "production_ratio": round(inserted_chars / final_chars, 3) if final_chars else None,
        "word_corrections": word_corrections,
        "pauses": pauses,
        "long_pauses": long_pauses,
        "pauses_per_100_words": round(pauses / words * 100, 1) if words else None,
        "pause_boundary_share": round(pauses_at_boundary / pauses, 3) if pauses else None,
        "bursts": len(burst_chars),
        "burst_mean_chars": round(statistics.fmean(burst_chars), 1) if burst_chars else 0.0,
        "burst_max_chars": max(burst_chars, default=0),
        "linearity": round(at_end_chars / inserted_chars, 3) if inserted_chars else None,
        "returns": returns,
        "focus_losses": focus_losses,
        "focus_events": focus_events[-200:],
    }
    rhythm: dict[str, Any] = {"keystrokes": len(within_word) + len(word_start)}
    if len(within_word) >= 50 and len(word_start) >= 20:
        ww = statistics.median(within_word)
        ws = statistics.median(word_start)
        rhythm |= {
            "median_within_word_ms": ww,
            "median_word_start_ms": ws,
            "word_start_ratio": round(ws / ww, 3) if ww else None,
            "interval_spread": round(_robust_cv(within_word), 3),
            "log_interval_sd": round(statistics.pstdev(math.log(v) for v in within_word), 3),
        }
    return Evidence(
        final_chars=final_chars,
        final_words=words,
        consistent=consistent,
        composition=composition,
        composition_share={k: round(v, 4) for k, v in share.items()},
        via_chars=_assistive_by_via(batches),
        pastes=pastes,
        process=process,
        rhythm=rhythm,
        highlights=highlights,
    )


def _assistive_by_via(batches: Sequence[Batch]) -> dict[str, int]:
    """Characters entered per assistive input type over the process (small inserts are not tracked per span)."""
    out: dict[str, int] = {}
    for batch in batches:
        for op in batch.ops:
            via = op.get("via")
            if op.get("kind") == "insert" and via and via != "typed":
                out[via] = out.get(via, 0) + len(op.get("text") or "")
    return out


def offsets_to_lines(text: str, offsets: Sequence[int]) -> list[int]:
    """1-based line numbers of character offsets (the report names where a paste sits)."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return [bisect.bisect_right(starts, o) for o in offsets]
