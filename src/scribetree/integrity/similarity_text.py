"""Winnowing fingerprints and passage alignment over plain text (pure: no database, no I/O).

- **Tokens**: words (letters and digits, with inner apostrophes), case-folded; each keeps its code-point span
  in the original text, so every match maps back to characters.
- **Fingerprints**: hashes of every k-gram of consecutive tokens (``K`` words), winnowed with a window of ``W``
  k-grams (Schleimer, Wilkerson, Aiken 2003): in every window the minimum hash is kept (the rightmost on
  ties). Any run of at least ``W + K - 1`` shared words is guaranteed to share a fingerprint; runs shorter
  than ``K`` never do. Hashes are the first 8 bytes of BLAKE2b (stable across processes), as signed 64-bit.
- **Quoted and cited text**: double quotes ("…", “…”, «…»), block quotes (lines starting with ``>``, or
  indented by a tab or four spaces), a sentence ending in a parenthetical citation ("(Smith, 2019)",
  "(Smith 2019, p. 4)", "[3]"), and everything after a reference-list heading ("References", "Works Cited",
  "Bibliography"). A k-gram or passage is *quoted* when most of its words lie in such text.
- **Alignment**: each shared fingerprint is a seed; the seed is checked word by word (hash collisions are
  dropped) and extended left and right while the words agree, giving maximal shared runs. Runs of at least
  ``MIN_RUN_WORDS`` are kept, and runs that follow each other in both texts with at most ``MAX_GAP_WORDS``
  differing words between them are merged into one passage (a paraphrase that keeps the source's sentences).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

K = 5  # words per k-gram
W = 4  # winnowing window (k-grams): shared runs of >= W + K - 1 = 8 words are always found
MIN_RUN_WORDS = 8  # a shared run shorter than this is a common phrase, not a passage
MAX_GAP_WORDS = 6  # runs this close in both texts are one passage
CONTEXT_CHARS = 80  # characters shown either side of a passage

_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
_DOUBLE_QUOTES = re.compile(r"\"[^\"\n]{1,2000}\"|“[^”]{1,2000}”|«[^»]{1,2000}»|„[^“”]{1,2000}[“”]")
_BLOCK_LINE = re.compile(r"^(?:>|\t| {4,}).*$", re.MULTILINE)
_CITATION = re.compile(
    r"\((?:[^()\n]{0,80}?\b(?:1[5-9]|20)\d\d[a-z]?|[^()\n]{0,80}?\bn\.d\.)"
    r"(?:[,:;]?\s*(?:pp?\.|p\b|at)?\s*[\d\-\u2013, ]+)?\)"
    r"|\[\d+(?:\s*[,\-\u2013]\s*\d+)*\]"
)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
_REFERENCES = re.compile(
    r"^[ \t]*(?:references|works cited|bibliography|sources|reference list)[ \t]*:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Token:
    word: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Fingerprint:
    hash: int
    index: int  # token index of the k-gram's first word
    start: int  # code-point span of the k-gram
    end: int
    quoted: bool


@dataclass(frozen=True, slots=True)
class Passage:
    a_start: int  # code points in text a
    a_end: int
    b_start: int  # code points in text b
    b_end: int
    words: int  # words in a's side
    quoted_a: bool
    quoted_b: bool

    def as_json(self) -> dict[str, object]:
        return {
            "a": [self.a_start, self.a_end],
            "b": [self.b_start, self.b_end],
            "words": self.words,
            "quoted_a": self.quoted_a,
            "quoted_b": self.quoted_b,
        }


@dataclass(frozen=True)
class Analysed:
    """A text ready for fingerprinting and alignment."""

    text: str
    tokens: list[Token]
    quoted: list[bool]  # per token
    quoted_chars: int

    @property
    def words(self) -> list[str]:
        return [t.word for t in self.tokens]


def tokenize(text: str) -> list[Token]:
    return [Token(m.group().casefold().replace("\u2019", "'"), m.start(), m.end()) for m in _WORD.finditer(text)]


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quoted or cited text (merged, sorted)."""
    spans = [(m.start(), m.end()) for m in _DOUBLE_QUOTES.finditer(text)]
    spans += [(m.start(), m.end()) for m in _BLOCK_LINE.finditer(text) if m.group().strip()]
    for m in _CITATION.finditer(text):
        # the cited sentence: from the end of the sentence before it up to the citation's end
        before = text[: m.start()].rstrip()
        if before.endswith((".", "!", "?")):  # "... as shown. (Smith, 2019)": the citation follows the sentence
            before = before[:-1]
        ends = [e.end() for e in _SENTENCE_END.finditer(before)]
        spans.append((ends[-1] if ends else 0, m.end()))
    ref = _REFERENCES.search(text)
    if ref is not None:
        spans.append((ref.start(), len(text)))
    return _merge(spans)


def _in_spans(tokens: Sequence[Token], spans: list[tuple[int, int]]) -> list[bool]:
    starts = [s for s, _ in spans]
    out = []
    for t in tokens:
        i = bisect_right(starts, t.start) - 1
        out.append(i >= 0 and t.end <= spans[i][1])
    return out


def analyse(text: str) -> Analysed:
    tokens = tokenize(text)
    spans = quoted_spans(text)
    return Analysed(text, tokens, _in_spans(tokens, spans), sum(e - s for s, e in spans))


def kgram_hash(words: Sequence[str]) -> int:
    digest = hashlib.blake2b("\x1f".join(words).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _mostly(flags: Sequence[bool]) -> bool:
    return sum(flags) * 2 > len(flags)


def fingerprints(doc: Analysed, k: int = K, w: int = W) -> list[Fingerprint]:
    """The winnowed fingerprints of ``doc``, one per selected k-gram position, in text order."""
    tokens, words = doc.tokens, doc.words
    n = len(tokens) - k + 1
    if n <= 0:
        return []
    hashes = [kgram_hash(words[i : i + k]) for i in range(n)]
    chosen: set[int] = set()
    if n <= w:
        chosen.add(min(range(n), key=lambda i: (hashes[i], -i)))
    else:
        for left in range(n - w + 1):
            window = range(left, left + w)
            chosen.add(min(window, key=lambda i: (hashes[i], -i)))
    return [
        Fingerprint(hashes[i], i, tokens[i].start, tokens[i + k - 1].end, _mostly(doc.quoted[i : i + k]))
        for i in sorted(chosen)
    ]


def align(
    a: Analysed,
    b: Analysed,
    seeds: Iterable[tuple[int, int]],
    *,
    k: int = K,
    min_run: int = MIN_RUN_WORDS,
    max_gap: int = MAX_GAP_WORDS,
) -> list[Passage]:
    """Passages shared by ``a`` and ``b`` from seed pairs ``(token index in a, token index in b)``."""
    wa, wb = a.words, b.words
    runs: set[tuple[int, int, int]] = set()  # (a first, b first, length)
    covered: dict[int, set[int]] = {}  # diagonal (i - j) -> a indices already inside a run
    for i, j in sorted(set(seeds)):
        if i < 0 or j < 0 or i + k > len(wa) or j + k > len(wb) or wa[i : i + k] != wb[j : j + k]:
            continue  # a hash collision or a stale position
        if i in covered.get(i - j, ()):
            continue
        lo_a, lo_b = i, j
        while lo_a > 0 and lo_b > 0 and wa[lo_a - 1] == wb[lo_b - 1]:
            lo_a, lo_b = lo_a - 1, lo_b - 1
        hi_a, hi_b = i + k, j + k
        while hi_a < len(wa) and hi_b < len(wb) and wa[hi_a] == wb[hi_b]:
            hi_a, hi_b = hi_a + 1, hi_b + 1
        covered.setdefault(i - j, set()).update(range(lo_a, hi_a))
        runs.add((lo_a, lo_b, hi_a - lo_a))
    kept = sorted(r for r in runs if r[2] >= min_run)
    merged: list[list[int]] = []  # [a first, a end, b first, b end]
    for ia, ib, length in kept:
        if merged:
            last = merged[-1]
            gap_a, gap_b = ia - last[1], ib - last[3]
            if -length < gap_a <= max_gap and -length < gap_b <= max_gap:
                last[1], last[3] = max(last[1], ia + length), max(last[3], ib + length)
                continue
        merged.append([ia, ia + length, ib, ib + length])
    return [
        Passage(
            a.tokens[sa].start,
            a.tokens[ea - 1].end,
            b.tokens[sb].start,
            b.tokens[eb - 1].end,
            ea - sa,
            _mostly(a.quoted[sa:ea]),
            _mostly(b.quoted[sb:eb]),
        )
        for sa, ea, sb, eb in merged
    ]


def covered_chars(spans: Iterable[tuple[int, int]]) -> int:
    return sum(e - s for s, e in _merge(spans))


def excerpt(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> dict[str, object]:
    """The passage with up to ``context`` characters either side (cut at a space where one is near)."""
    lo = max(0, start - context)
    hi = min(len(text), end + context)
    before, after = text[lo:start], text[end:hi]
    if lo > 0 and " " in before:
        before = "…" + before[before.index(" ") + 1 :]
    if hi < len(text) and " " in after:
        after = after[: after.rindex(" ")] + "…"
    return {"start": start, "end": end, "before": before, "text": text[start:end], "after": after}
