"""The edit-operation model of the writing log, and pure functions over texts (no database, no I/O).

Positions and lengths count **Unicode code points** of the text (Python ``str`` indices), not UTF-16 code
units and not bytes. A browser measures strings in UTF-16 code units, so the editor converts: an emoji
such as U+1F600 is one code point here and two code units in JavaScript. Combining marks, emoji modifiers and
joiners are code points of their own: deleting one of them alone is allowed; it is the client's business.

Operations (every one carries ``t``, the client's clock in milliseconds since the Unix epoch):

=========  =================================================  ======================================
kind       fields                                             effect on the text
=========  =================================================  ======================================
insert     ``pos``, ``text``, ``via`` (optional)              insert ``text`` before code point ``pos``;
                                                              ``via`` says how: see ``VIAS``
paste      ``pos``, ``text``, ``seen_in_doc`` (bool)          same as insert; ``seen_in_doc`` tells
                                                              whether the pasted text already
                                                              appeared in this document
delete     ``pos``, ``len``                                   remove ``len`` code points from ``pos``
cut        ``pos``, ``len``                                   same as delete
undo/redo  ``pos``, ``len`` (optional), ``text`` (optional)   remove ``len`` at ``pos``, then insert
                                                              ``text`` at ``pos`` (at least one given)
focus      ``state``: ``"lost"`` or ``"gained"``              none
=========  =================================================  ======================================

Ops of a batch apply in order, each to the result of the previous one. Invalid input raises a
:class:`~scribetree.writing.exceptions.InvalidOp` subclass naming the op's index and the field.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from scribetree.writing.exceptions import InvalidOpLength, MalformedOp, OpOutOfRange, UnknownOpKind

TEXT_KINDS = ("insert", "paste")
REMOVE_KINDS = ("delete", "cut")
HISTORY_KINDS = ("undo", "redo")
KINDS = (*TEXT_KINDS, *REMOVE_KINDS, *HISTORY_KINDS, "focus")
# How an insert was entered (the browser's InputEvent.inputType and composition events): assistive input (IME
# composition, voice dictation, autocorrect, drag and drop, accessibility tools) is typing, never pasting.
# Absent means "typed" (one keystroke's text); the editor sends it only for the others.
VIAS = ("typed", "ime", "dictation", "autocorrect", "drop", "other")
MAX_T = 2**53  # JavaScript's largest safe integer; Date.now() is far below it
# PostgreSQL cannot store NUL in text, and lone surrogates cannot be encoded as UTF-8 (the hash input).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Op:
    """One edit operation, validated for shape (not yet against a text)."""

    kind: str
    t: int
    pos: int = 0
    len: int = 0  # code points removed at ``pos`` (delete, cut, undo/redo)
    text: str = ""  # inserted at ``pos`` after the removal (insert, paste, undo/redo)
    seen_in_doc: bool | None = None  # paste only
    state: Literal["lost", "gained"] | None = None  # focus only
    via: str | None = None  # insert only: one of VIAS, None when not given (typed)

    @property
    def changes_text(self) -> bool:
        return bool(self.len or self.text)

    def to_json(self) -> dict[str, Any]:
        """The op as stored in the log (only the fields its kind uses)."""
        out: dict[str, Any] = {"kind": self.kind, "t": self.t}
        if self.kind == "focus":
            out["state"] = self.state
            return out
        out["pos"] = self.pos
        if self.kind in REMOVE_KINDS or (self.kind in HISTORY_KINDS and self.len):
            out["len"] = self.len
        if self.kind in TEXT_KINDS or (self.kind in HISTORY_KINDS and self.text):
            out["text"] = self.text
        if self.kind == "paste":
            out["seen_in_doc"] = self.seen_in_doc
        if self.via is not None:
            out["via"] = self.via
        return out


def _int(raw: dict[str, Any], name: str, index: int, *, required: bool = True) -> int | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedOp(f"Operation {index} ({raw.get('kind')}): '{name}' must be a whole number.", op_index=index)
    return value


def _text(raw: dict[str, Any], name: str, index: int, *, required: bool = True) -> str | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise MalformedOp(f"Operation {index} ({raw.get('kind')}): '{name}' must be a string.", op_index=index)
    if _UNSTORABLE.search(value):
        raise MalformedOp(
            f"Operation {index} ({raw.get('kind')}): '{name}' contains a NUL character or an unpaired UTF-16 "
            "surrogate, which cannot be stored. Send well-formed Unicode text.",
            op_index=index,
        )
    return value


def parse_op(raw: Any, index: int = 0) -> Op:
    """Validate one op's shape (kinds, types, signs); positions are checked against the text by :func:`apply`."""
    if not isinstance(raw, dict):
        raise MalformedOp(f"Operation {index} must be a JSON object.", op_index=index)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise UnknownOpKind(
            f"Operation {index} has the unknown kind {str(kind)[:40]!r}; use one of: {', '.join(KINDS)}.",
            op_index=index,
        )
    t = _int(raw, "t", index)
    assert t is not None
    if raw.get("via") is not None and (kind != "insert" or raw["via"] not in VIAS):
        raise MalformedOp(
            f"Operation {index} ({kind}): 'via' is only for inserts and must be one of: {', '.join(VIAS)}.",
            op_index=index,
        )
    if not 0 <= t <= MAX_T:
        raise MalformedOp(
            f"Operation {index} ({kind}): 't' must be milliseconds since 1970 (0 or more).", op_index=index
        )
    if kind == "focus":
        state = raw.get("state")
        if state not in ("lost", "gained"):
            raise MalformedOp(f'Operation {index} (focus): \'state\' must be "lost" or "gained".', op_index=index)
        return Op(kind=kind, t=t, state=state)
    pos = _int(raw, "pos", index)
    assert pos is not None
    if pos < 0:
        raise OpOutOfRange(f"Operation {index} ({kind}): 'pos' is {pos}; positions start at 0.", op_index=index)
    if kind in TEXT_KINDS:
        text = _text(raw, "text", index)
        if not text:
            raise MalformedOp(f"Operation {index} ({kind}): 'text' must not be empty.", op_index=index)
        seen = None
        via = raw.get("via")
        if kind == "paste":
            seen = raw.get("seen_in_doc")
            if not isinstance(seen, bool):
                raise MalformedOp(f"Operation {index} (paste): 'seen_in_doc' must be true or false.", op_index=index)
        return Op(kind=kind, t=t, pos=pos, text=text, seen_in_doc=seen, via=via)
    if kind in REMOVE_KINDS:
        length = _int(raw, "len", index)
        assert length is not None
        if length <= 0:
            raise InvalidOpLength(
                f"Operation {index} ({kind}): 'len' is {length}; it must be 1 or more.", op_index=index
            )
        return Op(kind=kind, t=t, pos=pos, len=length)
    # undo / redo: the edit the undo produced, as a removal and/or an insertion at one position
    length = _int(raw, "len", index, required=False) or 0
    if length < 0:
        raise InvalidOpLength(f"Operation {index} ({kind}): 'len' is {length}; it must be 0 or more.", op_index=index)
    text = _text(raw, "text", index, required=False) or ""
    if not length and not text:
        raise MalformedOp(
            f"Operation {index} ({kind}): give 'len' (code points removed) and/or 'text' (inserted).", op_index=index
        )
    return Op(kind=kind, t=t, pos=pos, len=length, text=text)


def parse_ops(raw: Sequence[Any]) -> list[Op]:
    return [parse_op(item, i) for i, item in enumerate(raw)]


@dataclass(slots=True)
class Applied:
    """The result of applying a batch, with the counts the writing log keeps."""

    text: str
    chars_inserted: int = 0
    chars_deleted: int = 0
    words_added: int = 0
    words_removed: int = 0
    word_delta: int = 0  # change of word_count(text), computed locally (no full recount)
    pastes: int = 0
    changed: bool = False


def apply(text: str, ops: Iterable[Op]) -> str:
    """Apply ``ops`` in order to ``text``; raises OpOutOfRange when a position does not fit."""
    return apply_counted(text, ops).text


def apply_counted(text: str, ops: Iterable[Op]) -> Applied:
    """:func:`apply` plus counts. Cost is proportional to the edits, not to the text (beyond slicing)."""
    out = Applied(text=text)
    for index, op in enumerate(ops):
        if not op.changes_text:
            continue
        current = out.text
        size = len(current)
        if op.pos > size:
            raise OpOutOfRange(
                f"Operation {index} ({op.kind}): 'pos' is {op.pos} but the text has {size} code points "
                "at that point of the batch.",
                op_index=index,
            )
        end = op.pos + op.len
        if end > size:
            raise OpOutOfRange(
                f"Operation {index} ({op.kind}): removes code points {op.pos}..{end} but the text has {size}.",
                op_index=index,
            )
        removed = current[op.pos : end]
        out.text = current[: op.pos] + op.text + current[end:]
        # Only the word marks next to the edit change (see _marks_in): the cost is the edit's, however long
        # the word it lands in (a pasted URL, a held-down key).
        out.word_delta += _marks_in(out.text, op.pos - 1, op.pos + len(op.text) + 1) - _marks_in(
            current, op.pos - 1, end + 1
        )
        out.chars_inserted += len(op.text)
        out.chars_deleted += op.len
        out.words_added += word_count(op.text)
        out.words_removed += word_count(removed)
        out.pastes += op.kind == "paste"
        out.changed = True
    return out


# ---- hashing and words ----------------------------------------------------------------------------------


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of ``text``; the browser computes the same with SubtleCrypto."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Han ideographs (incl. extensions and compatibility), Hiragana, Katakana (full and half width) and CJK
# punctuation-free symbols count one word per character, the usual convention for Chinese and Japanese
# (Korean Hangul is written with spaces, so it counts like Latin text).
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002fa1f\U00030000-\U0003134f"
)
_JOINERS = "'\u2019\\-"  # don't, don\u2019t, well-known: one word each


@functools.cache
def _marks() -> str:
    """A character class body of every combining mark (categories Mn, Mc, Me), built once."""
    ranges: list[tuple[int, int]] = []
    # Marks live in planes 0, 1 and 14 only (planes 2-3 are CJK ideographs, 15-16 private use).
    planes = (range(0, 0x20000), range(0xE0000, 0xF0000))
    for cp in (cp for plane in planes for cp in plane):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    run = f"(?:[^\\W{_CJK}]|[{_marks()}])"  # a letter/digit (not CJK) or a combining mark: one character
    # A CJK character that is also a combining mark (the kana voicing marks U+3099, U+309A) belongs to the run
    # it follows, like every other mark: so every character is exactly one of run, joiner, CJK, or other.
    ideograph = f"(?![{_marks()}])[{_CJK}]"
    word = re.compile(f"{ideograph}|{run}+(?:[{_JOINERS}]{run}+)*")
    runs = re.compile(f"{run}+")
    joins = re.compile(f"(?<={run})[{_JOINERS}](?={run})")  # a joiner that makes two runs one word
    cjk = re.compile(ideograph)
    return word, runs, joins, cjk


def warm_up() -> None:
    """Build the word patterns now (about 0.1 s) rather than in the first request that counts words."""
    _patterns()


def word_count(text: str) -> int:
    """Words in ``text``: runs of letters, digits and marks (joined by ', U+2019 or -); one per CJK character."""
    if not text:
        return 0
    return sum(1 for _ in _patterns()[0].finditer(text))


def _marks_in(text: str, low: int, high: int) -> int:
    """The word marks at positions ``low..high-1`` of ``text``; over the whole text they add up to its word count.

    A word is a chain of runs (letters, digits, marks) linked by single joiners, or one CJK character. So the
    count is: runs, minus joiners with a run character on both sides, plus CJK characters. Each of those marks
    sits at one position and depends only on that character and its two neighbours, so an edit changes only the
    marks within one character of it, and its word delta is a difference of two short sums (tests compare it
    with ``word_count`` on random texts).
    """
    low, high = max(low, 0), min(high, len(text))
    if low >= high:
        return 0
    _, runs, joins, cjk = _patterns()
    piece = text[low:high]
    count = sum(1 for _ in runs.finditer(piece))
    if low > 0 and runs.match(text, low - 1, low) and runs.match(piece, 0, 1):
        count -= 1  # the run at ``low`` starts before it
    context = text[low - 1 if low else 0 : high + 1]
    shift = 1 if low else 0
    count -= sum(1 for m in joins.finditer(context) if shift <= m.start() < shift + len(piece))
    count += sum(1 for _ in cjk.finditer(piece))
    return count


# ---- word diff --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s+|[^\s]+")

DiffKind = Literal["equal", "insert", "delete"]


def word_diff(old: str, new: str) -> list[dict[str, str]]:
    """Segments ``{"op": "equal"|"insert"|"delete", "text": ...}`` turning ``old`` into ``new`` word by word.

    Tokens are runs of whitespace and runs of non-whitespace, so joining the ``equal`` and ``delete``
    segments gives ``old`` exactly and joining ``equal`` and ``insert`` gives ``new``. A replaced stretch
    comes out as a delete followed by an insert. Adjacent segments of the same kind are merged.
    """
    a = _TOKEN.findall(old)
    b = _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    segments: list[dict[str, str]] = []

    def push(kind: DiffKind, tokens: list[str]) -> None:
        if not tokens:
            return
        piece = "".join(tokens)
        if segments and segments[-1]["op"] == kind:
            segments[-1]["text"] += piece
        else:
            segments.append({"op": kind, "text": piece})

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            push("equal", a[i1:i2])
        else:
            push("delete", a[i1:i2])
            push("insert", b[j1:j2])
    return segments
