"""Anchoring a comment to a passage so that it stays attached while the student keeps writing (pure, no I/O).

An anchor records the quoted passage, up to :data:`CONTEXT` code points of text on each side, and the passage's
code-point offsets in the text it was made on (W3C Web Annotation's TextQuoteSelector plus TextPositionSelector,
the scheme Hypothesis and Google Docs-style comments use). Positions count Unicode code points, like the
writing log (``writing.ops``).

:func:`reanchor` finds the passage in a later text, in this order:

1. the quote with both context strings around it (nearest the old position if it occurs more than once);
2. the quote alone, preferring more surrounding context, then the occurrence nearest the old position;
3. a fuzzy match: the window of the text most similar to the quote, accepted when its
   ``difflib.SequenceMatcher`` ratio is at least :data:`FUZZY_THRESHOLD`;

and returns ``None`` when none applies: the comment is then shown as *outdated*.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

CONTEXT = 32  # code points of context kept on each side
FUZZY_THRESHOLD = 0.8
MAX_QUOTE = 2_000  # longest passage a comment can anchor to (code points)
FUZZY_SCAN = 200_000  # code points searched by the fuzzy step (~30,000 words), centred on the old position
_MAX_CANDIDATES = 6


@dataclass(frozen=True, slots=True)
class Anchor:
    quote: str
    prefix: str
    suffix: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"quote": self.quote, "prefix": self.prefix, "suffix": self.suffix, "start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Anchor:
        return cls(
            quote=str(raw["quote"]),
            prefix=str(raw.get("prefix", "")),
            suffix=str(raw.get("suffix", "")),
            start=int(raw["start"]),
            end=int(raw["end"]),
        )


def make_anchor(text: str, start: int, end: int) -> Anchor:
    """The anchor of ``text[start:end]``; the caller has checked ``0 <= start < end <= len(text)``."""
    if not 0 <= start < end <= len(text):
        raise ValueError(f"passage {start}..{end} does not fit a text of {len(text)} code points")
    return Anchor(
        quote=text[start:end],
        prefix=text[max(0, start - CONTEXT) : start],
        suffix=text[end : end + CONTEXT],
        start=start,
        end=end,
    )


def reanchor(text: str, anchor: Anchor) -> tuple[int, int] | None:
    """Where ``anchor``'s passage is in ``text`` now, as ``(start, end)`` code-point offsets, or None (outdated)."""
    quote = anchor.quote
    if not quote:
        return None
    size = len(quote)
    # The common case, nothing moved: a constant-time check before any search.
    if _context_fits(text, anchor, anchor.start) and text[anchor.start : anchor.start + size] == quote:
        return anchor.start, anchor.start + size

    occurrences = _find_all(text, quote)
    if occurrences:
        full = [s for s in occurrences if _context_fits(text, anchor, s)]
        if full:
            best = min(full, key=lambda s: (abs(s - anchor.start), s))
        else:
            best = min(occurrences, key=lambda s: (-_context_score(text, anchor, s), abs(s - anchor.start), s))
        return best, best + size
    return _fuzzy(text, anchor)


def _find_all(text: str, quote: str) -> list[int]:
    found = []
    at = text.find(quote)
    while at != -1:
        found.append(at)
        at = text.find(quote, at + 1)
    return found


def _context_fits(text: str, anchor: Anchor, start: int) -> bool:
    before = start - len(anchor.prefix)
    end = start + len(anchor.quote)
    return before >= 0 and text[before:start] == anchor.prefix and text[end : end + len(anchor.suffix)] == anchor.suffix


def _context_score(text: str, anchor: Anchor, start: int) -> int:
    """How many code points of context agree, counted outward from the passage on each side."""
    score = 0
    prefix, suffix = anchor.prefix, anchor.suffix
    i = 1
    while i <= len(prefix) and start - i >= 0 and text[start - i] == prefix[-i]:
        score += 1
        i += 1
    end = start + len(anchor.quote)
    j = 0
    while j < len(suffix) and end + j < len(text) and text[end + j] == suffix[j]:
        score += 1
        j += 1
    return score


# ---- fuzzy ------------------------------------------------------------------------------------------------


def _gram_size(size: int) -> int:
    return 3 if size < 40 else 5


def _candidate_starts(text: str, quote: str) -> list[int]:
    """Likely start offsets of an edited copy of ``quote``: each shared n-gram votes for one alignment."""
    g = _gram_size(len(quote))
    if len(quote) < g or len(text) < g:
        return []
    where: dict[str, list[int]] = defaultdict(list)
    for i in range(len(quote) - g + 1):
        where[quote[i : i + g]].append(i)
    votes: Counter[int] = Counter()
    for j in range(len(text) - g + 1):
        offsets = where.get(text[j : j + g])
        if offsets:
            for i in offsets:
                votes[j - i] += 1
    # Votes for nearby alignments belong to one place (an insertion shifts the rest of the quote).
    spread = max(1, len(quote) // 4)
    picked: list[int] = []
    for start, _count in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
        if all(abs(start - p) > spread for p in picked):
            picked.append(start)
            if len(picked) == _MAX_CANDIDATES:
                break
    return picked


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _best_window(text: str, quote: str, guess: int) -> tuple[float, int, int] | None:
    """The span near ``guess`` that best matches ``quote``: matched blocks of a window, trimmed while that helps."""
    size = len(quote)
    lo = max(0, guess - size // 4 - 1)
    hi = min(len(text), guess + size + size // 4 + 1)
    window = text[lo:hi]
    blocks = [b for b in difflib.SequenceMatcher(None, window, quote, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return None
    first, last = 0, len(blocks) - 1

    def score(f: int, la: int) -> float:
        return _ratio(window[blocks[f].a : blocks[la].a + blocks[la].size], quote)

    best = score(first, last)
    improved = True
    while improved and first < last:
        improved = False
        for f, la in ((first + 1, last), (first, last - 1)):
            s = score(f, la)
            if s > best:
                best, first, last, improved = s, f, la, True
                break
    start, end = lo + blocks[first].a, lo + blocks[last].a + blocks[last].size
    # A replaced first or last word leaves quote characters unmatched at an edge ("lived." -> "lived!"): take
    # in as many adjacent non-space characters of the text, so the highlight covers the edited word.
    head = blocks[first].b
    tail = size - (blocks[last].b + blocks[last].size)
    while head > 0 and start > 0 and not text[start - 1].isspace():
        start, head = start - 1, head - 1
    while tail > 0 and end < len(text) and not text[end].isspace():
        end, tail = end + 1, tail - 1
    return best, start, end


def _fuzzy(text: str, anchor: Anchor) -> tuple[int, int] | None:
    # The n-gram scan is linear in the text: on a very long document, search the stretch around the old position.
    offset = 0
    if len(text) > FUZZY_SCAN:
        offset = max(0, min(anchor.start - FUZZY_SCAN // 2, len(text) - FUZZY_SCAN))
        text_part = text[offset : offset + FUZZY_SCAN]
    else:
        text_part = text
    best: tuple[float, int, int, int] | None = None  # ratio, -distance, start, end
    for guess in _candidate_starts(text_part, anchor.quote):
        found = _best_window(text_part, anchor.quote, guess)
        if found is None:
            continue
        ratio, start, end = found
        start, end = start + offset, end + offset
        key = (ratio, -abs(start - anchor.start), start, end)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None or best[0] < FUZZY_THRESHOLD:
        return None
    return best[2], best[3]
