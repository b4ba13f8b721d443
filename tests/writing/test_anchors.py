"""Comment anchors: exact, quote-only and fuzzy re-anchoring, with property tests over edits outside the passage."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scribetree.writing.anchors import CONTEXT, Anchor, make_anchor, reanchor

PIECES = [
    "a",
    "b",
    "Z",
    " ",
    "\n",
    ".",
    "e\u0301",
    "\u0301",
    "😀",
    "👍🏽",
    "👩\u200d💻",
    "🇫🇷",
    "שלום",
    "\u05b8",
    "مرحبا",
    "\u200f",
    "漢",
    "字",
    "ひ",
    "한",
    "𠀋",
    "<script>",
]
pieces = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)


def occurrences(text: str, part: str) -> int:
    """Overlapping occurrences (``str.count`` does not count overlaps)."""
    return sum(1 for i in range(len(text) - len(part) + 1) if text.startswith(part, i))


class TestMakeAnchor:
    def test_keeps_quote_and_bounded_context(self) -> None:
        text = "x" * 50 + "PASSAGE" + "y" * 50
        a = make_anchor(text, 50, 57)
        assert a.quote == "PASSAGE"
        assert a.prefix == "x" * CONTEXT and a.suffix == "y" * CONTEXT
        assert (a.start, a.end) == (50, 57)

    def test_context_is_shorter_at_the_edges(self) -> None:
        a = make_anchor("PASSAGE", 0, 7)
        assert (a.prefix, a.suffix) == ("", "")

    @pytest.mark.parametrize(("start", "end"), [(-1, 2), (3, 3), (4, 2), (0, 99)])
    def test_rejects_spans_that_do_not_fit(self, start: int, end: int) -> None:
        with pytest.raises(ValueError):
            make_anchor("PASSAGE", start, end)

    def test_json_round_trip(self) -> None:
        a = make_anchor("one two three", 4, 7)
        assert Anchor.from_json(a.to_json()) == a


class TestReanchor:
    def test_unchanged_text(self) -> None:
        text = "The cat sat on the mat."
        a = make_anchor(text, 4, 7)
        assert reanchor(text, a) == (4, 7)

    def test_text_inserted_before_moves_the_passage(self) -> None:
        text = "The cat sat on the mat."
        a = make_anchor(text, 8, 11)  # "sat"
        new = "Yesterday, " + text
        assert reanchor(new, a) == (19, 22)
        assert new[19:22] == "sat"

    def test_context_chooses_between_repeated_quotes(self) -> None:
        text = "first: the word. second: the word. third: the word."
        a = make_anchor(text, text.index("the word", 20), text.index("the word", 20) + 8)
        new = "the word " * 5 + text  # more copies, all closer to the old position than the real one
        start, end = reanchor(new, a)  # type: ignore[misc]
        assert new[start - 8 : start] == "second: "
        assert new[start:end] == "the word"

    def test_quote_alone_prefers_more_context_then_nearest(self) -> None:
        text = "alpha beta gamma delta"
        a = make_anchor(text, 6, 10)  # "beta", prefix "alpha ", suffix " gamma delta"
        new = "beta beta gamma EDITED"  # suffix changed after " gamma": the second copy keeps most context
        assert reanchor(new, a) == (5, 9)

    def test_nearest_when_no_context_survives(self) -> None:
        a = Anchor(quote="x", prefix="QQ", suffix="RR", start=10, end=11)
        assert reanchor("x" + "-" * 8 + "x" + "-" * 8 + "x", a) == (9, 10)

    def test_fuzzy_match_after_a_small_edit_inside(self) -> None:
        text = "Intro. The industrial revolution changed how people worked and lived. Outro."
        start = text.index("The industrial")
        end = text.index(" Outro")
        a = make_anchor(text, start, end)
        new = "Intro. The Industrial Revolution changed how most people worked and lived! Outro."
        found = reanchor(new, a)
        assert found is not None
        s, e = found
        assert new[s:e].startswith("The Industrial") and new[s:e].endswith("lived!")

    def test_fuzzy_match_far_from_the_old_position(self) -> None:
        quote = "a sentence about the causes of the war in 1914"
        text = "A. " + quote + " B."
        a = make_anchor(text, 3, 3 + len(quote))
        edited = quote.replace("causes", "causez")
        new = "lorem ipsum " * 40 + edited + " tail"
        s, e = reanchor(new, a)  # type: ignore[misc]
        assert new[s:e] == edited

    def test_outdated_when_the_passage_is_gone(self) -> None:
        text = "Keep this. Delete this whole sentence please. Keep that."
        s = text.index("Delete")
        a = make_anchor(text, s, text.index(" Keep that"))
        assert reanchor("Keep this. Keep that.", a) is None
        assert reanchor("", a) is None

    def test_outdated_when_rewritten_beyond_the_threshold(self) -> None:
        text = "The quick brown fox jumps over the lazy dog."
        a = make_anchor(text, 0, len(text))
        assert reanchor("A slow red hen walks under a busy cat.", a) is None

    def test_empty_quote_never_matches(self) -> None:
        assert reanchor("abc", Anchor(quote="", prefix="", suffix="", start=0, end=0)) is None

    @pytest.mark.parametrize(
        "passage",
        [
            "😀👍🏽",
            "e\u0301te\u0301",
            "שָׁלוֹם עולם",
            "مرحبا بالعالم",
            "漢字かな交じり文",
            "👩\u200d💻 codes",
            "<script>alert(1)</script>",
        ],
    )
    def test_unicode_passages_move_with_edits(self, passage: str) -> None:
        text = "前 " + passage + " 後"
        a = make_anchor(text, 2, 2 + len(passage))
        new = "🇫🇷 inserted שלום " + text + " and more 字"
        s, e = reanchor(new, a)  # type: ignore[misc]
        assert new[s:e] == passage
        assert new[s - 2 : s] == "前 "


# ---- properties ------------------------------------------------------------------------------------------


@st.composite
def text_and_edits(draw: st.DrawFn, *, keep_context: bool) -> tuple[str, int, int, str, int, int]:
    """A text, a passage in it, and the text after random edits that leave the passage (and maybe its context)
    intact; returns (old, start, end, new, new_start, new_end)."""
    before = draw(pieces)
    quote = draw(pieces.filter(bool))
    after = draw(pieces)
    old = before + quote + after
    start, end = len(before), len(before) + len(quote)
    anchor = make_anchor(old, start, end)
    # The protected span: the passage, plus its context when asked.
    guard_lo = start - len(anchor.prefix) if keep_context else start
    guard_hi = end + len(anchor.suffix) if keep_context else end
    text, s, e, lo, hi = old, start, end, guard_lo, guard_hi
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            pos = draw(st.sampled_from([p for p in range(len(text) + 1) if p <= lo or p >= hi]))
            ins = draw(pieces.filter(bool))
            text = text[:pos] + ins + text[pos:]
            if pos <= lo:
                s, e, lo, hi = s + len(ins), e + len(ins), lo + len(ins), hi + len(ins)
        else:
            side = draw(st.sampled_from(["left", "right"]))
            if side == "left" and lo > 0:
                a = draw(st.integers(0, lo - 1))
                b = draw(st.integers(a + 1, lo))
                text = text[:a] + text[b:]
                n = b - a
                s, e, lo, hi = s - n, e - n, lo - n, hi - n
            elif side == "right" and hi < len(text):
                a = draw(st.integers(hi, len(text) - 1))
                b = draw(st.integers(a + 1, len(text)))
                text = text[:a] + text[b:]
    return old, start, end, text, s, e


class TestProperties:
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    @given(text_and_edits(keep_context=False))
    def test_edits_outside_the_passage_never_lose_it(self, case: tuple[str, int, int, str, int, int]) -> None:
        old, start, end, new, s, e = case
        assert new[s:e] == old[start:end]  # the generator kept the passage
        found = reanchor(new, make_anchor(old, start, end))
        assert found is not None
        assert new[found[0] : found[1]] == old[start:end]
        if occurrences(new, old[start:end]) == 1:
            assert found == (s, e)

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    @given(text_and_edits(keep_context=True))
    def test_with_context_intact_it_is_the_same_place(self, case: tuple[str, int, int, str, int, int]) -> None:
        old, start, end, new, s, e = case
        anchor = make_anchor(old, start, end)
        whole = anchor.prefix + anchor.quote + anchor.suffix
        assume(occurrences(new, whole) == 1)
        assert reanchor(new, anchor) == (s, e)

    @settings(max_examples=100)
    @given(pieces.filter(bool), st.data())
    def test_any_span_of_an_unchanged_text_is_found_where_it_was(self, text: str, data: st.DataObject) -> None:
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        assert reanchor(text, make_anchor(text, start, end)) == (start, end)


class TestLongDocuments:
    def test_exact_matches_are_found_anywhere(self) -> None:
        filler = "word " * 100_000  # 500,000 code points
        text = "The passage to find. " + filler
        a = make_anchor(text, 4, 19)
        new = filler + text  # moved 500,000 code points on
        s, e = reanchor(new, a)  # type: ignore[misc]
        assert new[s:e] == "passage to find"

    def test_fuzzy_search_covers_the_stretch_around_the_old_position(self) -> None:
        quote = "an edited sentence about the causes of the war"
        filler = "lorem ipsum " * 30_000  # 360,000 code points
        text = filler + quote + filler
        a = make_anchor(text, len(filler), len(filler) + len(quote))
        edited = quote.replace("causes", "causez")
        near = filler + "x" * 50 + edited + filler
        s, e = reanchor(near, a)  # type: ignore[misc]
        assert near[s:e] == edited
        far = edited + filler + filler  # beyond the scanned stretch: outdated rather than a slow search
        assert reanchor(far, a) is None
