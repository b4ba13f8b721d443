"""Readability and style measures of a text: pure functions, no NLTK, no network (docs/analytics.md, "Style").

Tokens are runs of letters and digits, joined by an apostrophe or a hyphen (``don't``, ``well-known``: one word).
Sentences end at ``.``, ``!``, ``?`` (and ``…``) followed by space, or at a line break; paragraphs are separated
by line breaks. Syllables come from a vowel-group heuristic for English (silent final ``e``, ``-es``/``-ed``
endings), good to about one syllable in ten words, which is what Flesch-style formulas tolerate. The formulas
(Flesch reading ease, Flesch-Kincaid grade) are calibrated for English; for other languages they are shown as
indications only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from scribetree.analytics.schemas import StyleMeasures

TTR_WINDOW = 1000  # type-token ratio over the first this many words (TTR falls with length; a window compares)
MTLD_THRESHOLD = 0.72  # McCarthy & Jarvis (2010)
MTLD_MIN_WORDS = 10
MAX_PARAGRAPHS_LISTED = 200

_WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_PARAGRAPH_BREAK = re.compile(r"\s*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+")
_VOWELS = re.compile(r"[aeiouy]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def paragraphs(text: str) -> list[str]:
    return [p for p in _PARAGRAPH_BREAK.split(text.strip()) if words(p)]


def sentences(text: str) -> list[str]:
    """Sentences of every paragraph, in order (a sentence never spans a paragraph break)."""
    out: list[str] = []
    for paragraph in paragraphs(text):
        out.extend(s for s in _SENTENCE_END.split(paragraph) if words(s))
    return out


def syllables(word: str) -> int:
    """English syllables of one word by vowel groups; at least 1."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 1  # digits and non-Latin words: one unit each
    if len(w) <= 3:
        return 1
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")):
        w = w[:-1]  # silent final e: make, hope
    elif w.endswith(("es", "ed")) and not w.endswith(("ted", "ded", "ses", "zes", "ces", "ges", "xes", "shes", "ches")):
        w = w[:-2]  # jumped, hopes (but: wanted, needed, houses, boxes: an extra syllable)
    return max(1, len(_VOWELS.findall(w)))


def _mtld_pass(tokens: Sequence[str], threshold: float) -> float:
    factors = 0.0
    types: set[str] = set()
    count = 0
    for token in tokens:
        count += 1
        types.add(token)
        if len(types) / count <= threshold:
            factors += 1
            types, count = set(), 0
    if count:
        factors += (1 - len(types) / count) / (1 - threshold)
    return len(tokens) / factors if factors else float(len(tokens))


def mtld(tokens: Sequence[str], threshold: float = MTLD_THRESHOLD) -> float | None:
    """Measure of textual lexical diversity: the mean length of word runs that keep TTR above ``threshold``,
    averaged over a forward and a backward pass; None below ``MTLD_MIN_WORDS`` words."""
    if len(tokens) < MTLD_MIN_WORDS:
        return None
    lowered = [t.lower() for t in tokens]
    return (_mtld_pass(lowered, threshold) + _mtld_pass(lowered[::-1], threshold)) / 2


def _mean_sd(values: Sequence[int]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def measure(text: str) -> StyleMeasures:
    """Every style measure of ``text`` (an empty text gives zeros and ``None``)."""
    paras = paragraphs(text)
    para_lengths = [len(words(p)) for p in paras]
    sentence_lengths = [len(words(s)) for s in sentences(text)]
    tokens = words(text)
    n_words, n_sentences = len(tokens), len(sentence_lengths)
    s_mean, s_sd = _mean_sd(sentence_lengths)
    p_mean, _ = _mean_sd(para_lengths)
    window = [t.lower() for t in tokens[:TTR_WINDOW]]
    spw = sum(syllables(t) for t in tokens) / n_words if n_words else None
    wps = n_words / n_sentences if n_sentences else None
    fre = fk = None
    if spw is not None and wps is not None:
        fre = 206.835 - 1.015 * wps - 84.6 * spw
        fk = 0.39 * wps + 11.8 * spw - 15.59
    return StyleMeasures(
        words=n_words,
        sentences=n_sentences,
        paragraphs=len(paras),
        sentence_length_mean=_r(s_mean),
        sentence_length_sd=_r(s_sd),
        sentence_length_variety=_r(s_sd / s_mean if s_mean and s_sd is not None else None, 3),
        paragraph_length_mean=_r(p_mean),
        paragraph_lengths=para_lengths[:MAX_PARAGRAPHS_LISTED],
        type_token_ratio=_r(len(set(window)) / len(window) if window else None, 3),
        mtld=_r(mtld(tokens)),
        syllables_per_word=_r(spw, 3),
        flesch_reading_ease=_r(fre),
        flesch_kincaid_grade=_r(fk),
    )
