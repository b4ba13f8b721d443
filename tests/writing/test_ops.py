"""The op model and the pure text functions, with property tests against a reference model (a list of code points)."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scribetree.writing import ops
from scribetree.writing.exceptions import InvalidOpLength, MalformedOp, OpOutOfRange, UnknownOpKind

# Text that exercises every kind of Unicode the issue names: emoji (with modifiers and ZWJ sequences), combining
# marks, right-to-left scripts and their marks, CJK, Hangul, line breaks of every style, and ASCII.
PIECES = [
    "a",
    "Z",
    "7",
    " ",
    "\n",
    "\r\n",
    "\t",
    "'",
    "-",
    ".",
    "é",
    "e\u0301",
    "n\u0303",
    "\u0301",
    "😀",
    "👍🏽",
    "👩\u200d💻",
    "🇫🇷",
    "\ufe0f",
    "\u200d",
    "שלום",
    "\u05b8",
    "مرحبا",
    "\u064b",
    "\u200f",
    "\u202e",
    "漢",
    "字",
    "ひ",
    "カ",
    "한",
    "𠀋",
    "ｶ",
    "\u00a0",
    "<script>",
    "&amp;",
]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
any_text = st.one_of(texts, st.text(alphabet=chars, max_size=40))
nonempty = any_text.filter(bool)


def ref_apply(doc: list[str], op: dict) -> list[str]:
    """The reference model: a list of code points, edited by list operations."""
    if op["kind"] == "focus":
        return doc
    pos = op["pos"]
    out = doc[:pos] + doc[pos + op.get("len", 0) :]
    return out[:pos] + list(op.get("text", "")) + out[pos:]


@st.composite
def op_sequences(draw: st.DrawFn) -> tuple[str, list[dict]]:
    start = draw(any_text)
    size = len(start)
    raw: list[dict] = []
    for _ in range(draw(st.integers(0, 12))):
        t = draw(st.integers(0, 2**41))
        choices = ["insert", "paste", "focus", "undo", "redo"] + (["delete", "cut"] if size else [])
        kind = draw(st.sampled_from(choices))
        if kind == "focus":
            raw.append({"kind": kind, "t": t, "state": draw(st.sampled_from(["lost", "gained"]))})
            continue
        pos = draw(st.integers(0, size))
        if kind in ("insert", "paste"):
            text = draw(nonempty)
            op = {"kind": kind, "t": t, "pos": pos, "text": text}
            if kind == "paste":
                op["seen_in_doc"] = draw(st.booleans())
            size += len(text)
        elif kind in ("delete", "cut"):
            pos = min(pos, size - 1)
            length = draw(st.integers(1, size - pos))
            op = {"kind": kind, "t": t, "pos": pos, "len": length}
            size -= length
        else:
            length = draw(st.integers(0, size - pos))
            text = draw(any_text if length else nonempty)
            op = {"kind": kind, "t": t, "pos": pos}
            if length:
                op["len"] = length
            if text:
                op["text"] = text
            size += len(text) - length
        raw.append(op)
    return start, raw


# Long runs of cluster characters (a held-down key, a pasted URL) cross the backward scan's first steps.
LONG = st.sampled_from(["w" * 63, "w" * 64, "w" * 65, "ab-" * 300, "e\u0301" * 700, "x" * 5000])
window_texts = st.lists(st.one_of(st.sampled_from([*PIECES, "\u3099", "--"]), LONG), max_size=12).map("".join)


class TestLocalWordMarks:
    @settings(max_examples=400, deadline=None)
    @given(st.one_of(window_texts, any_text), st.data())
    def test_marks_add_up_to_the_word_count(self, text: str, data: st.DataObject) -> None:
        cut = data.draw(st.integers(0, len(text)))
        assert ops._marks_in(text, 0, len(text)) == ops.word_count(text)
        assert ops._marks_in(text, -3, cut) + ops._marks_in(text, cut, len(text) + 3) == ops.word_count(text)

    @settings(max_examples=200, deadline=None)
    @given(window_texts, st.data(), st.sampled_from(["w", " ", "-", "漢", "e\u0301", "x y"]))
    def test_word_counts_stay_exact_inside_long_runs(self, text: str, data: st.DataObject, insert: str) -> None:
        pos = data.draw(st.integers(0, len(text)))
        length = data.draw(st.integers(0, min(3, len(text) - pos)))
        raw = [{"kind": "insert", "pos": pos, "text": insert, "t": 0}]
        if length:
            raw.append({"kind": "delete", "pos": pos, "len": length, "t": 1})
        parsed = ops.parse_ops(raw)
        applied = ops.apply_counted(text, parsed)
        assert ops.word_count(text) + applied.word_delta == ops.word_count(applied.text)


class TestApplyProperties:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(op_sequences())
    def test_apply_matches_the_reference_model_byte_for_byte(self, case: tuple[str, list[dict]]) -> None:
        start, raw = case
        # through JSON, as the browser sends it
        parsed = ops.parse_ops(json.loads(json.dumps(raw)))
        expected = list(start)
        for op in raw:
            expected = ref_apply(expected, op)
        result = ops.apply(start, parsed)
        assert result == "".join(expected)
        assert result.encode("utf-8") == "".join(expected).encode("utf-8")
        assert ops.content_hash(result) == ops.content_hash("".join(expected))

    @settings(max_examples=300, deadline=None)
    @given(op_sequences())
    def test_counts_are_exact_without_a_full_recount(self, case: tuple[str, list[dict]]) -> None:
        start, raw = case
        parsed = ops.parse_ops(raw)
        applied = ops.apply_counted(start, parsed)
        assert ops.word_count(start) + applied.word_delta == ops.word_count(applied.text)
        assert applied.chars_inserted == sum(len(o.get("text", "")) for o in raw)
        assert applied.chars_deleted == sum(o.get("len", 0) for o in raw)
        assert len(start) + applied.chars_inserted - applied.chars_deleted == len(applied.text)

    @settings(max_examples=200, deadline=None)
    @given(op_sequences())
    def test_stored_form_round_trips(self, case: tuple[str, list[dict]]) -> None:
        start, raw = case
        parsed = ops.parse_ops(raw)
        again = ops.parse_ops(json.loads(json.dumps([o.to_json() for o in parsed])))
        assert again == parsed
        assert ops.apply(start, again) == ops.apply(start, parsed)


class TestWordCount:
    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("", 0),
            ("   \n\t", 0),
            ("hello world", 2),
            ("don't stop", 2),
            ("don\u2019t stop", 2),
            ("well-known facts", 2),
            ("a -- b", 2),
            ("cafe\u0301s are open", 3),  # a combining accent does not split a word
            ("東京は大きい", 6),  # one word per CJK character
            ("我爱 writing", 3),
            ("한국어 문장", 2),  # Hangul is written with spaces
            ("שלום עולם", 2),
            ("مرحبا بالعالم", 2),
            ("👋 hi 🎉", 1),  # emoji are not words
            ("3.14 and 42", 4),
        ],
    )
    def test_examples(self, text: str, words: int) -> None:
        assert ops.word_count(text) == words


class TestWordDiff:
    @settings(max_examples=300, deadline=None)
    @given(any_text, any_text)
    def test_segments_rebuild_both_texts(self, old: str, new: str) -> None:
        segments = ops.word_diff(old, new)
        assert "".join(s["text"] for s in segments if s["op"] != "insert") == old
        assert "".join(s["text"] for s in segments if s["op"] != "delete") == new
        assert all(s["text"] for s in segments)
        assert all(a["op"] != b["op"] for a, b in itertools.pairwise(segments))

    def test_word_level(self) -> None:
        assert ops.word_diff("the cat sat", "the dog sat down") == [
            {"op": "equal", "text": "the "},
            {"op": "delete", "text": "cat"},
            {"op": "insert", "text": "dog"},
            {"op": "equal", "text": " sat"},
            {"op": "insert", "text": " down"},
        ]

    def test_identical_texts_are_one_equal_segment(self) -> None:
        assert ops.word_diff("same text", "same text") == [{"op": "equal", "text": "same text"}]
        assert ops.word_diff("", "") == []


class TestValidation:
    @pytest.mark.parametrize(
        ("raw", "error"),
        [
            ("not an object", MalformedOp),
            ({"kind": "rewrite", "t": 1}, UnknownOpKind),
            ({"t": 1, "pos": 0, "text": "x"}, UnknownOpKind),
            ({"kind": "insert", "pos": 0, "text": "x"}, MalformedOp),  # no t
            ({"kind": "insert", "t": -1, "pos": 0, "text": "x"}, MalformedOp),
            ({"kind": "insert", "t": True, "pos": 0, "text": "x"}, MalformedOp),
            ({"kind": "insert", "t": 1, "pos": "0", "text": "x"}, MalformedOp),
            ({"kind": "insert", "t": 1, "pos": 1.5, "text": "x"}, MalformedOp),
            ({"kind": "insert", "t": 1, "pos": 0, "text": ""}, MalformedOp),
            ({"kind": "insert", "t": 1, "pos": 0, "text": 5}, MalformedOp),
            ({"kind": "insert", "t": 1, "pos": 0, "text": "a\x00b"}, MalformedOp),
            ({"kind": "insert", "t": 1, "pos": 0, "text": "a\ud800b"}, MalformedOp),
            ({"kind": "insert", "t": 1, "pos": -1, "text": "x"}, OpOutOfRange),
            ({"kind": "paste", "t": 1, "pos": 0, "text": "x"}, MalformedOp),  # no seen_in_doc
            ({"kind": "delete", "t": 1, "pos": 0, "len": -2}, InvalidOpLength),
            ({"kind": "delete", "t": 1, "pos": 0, "len": 0}, InvalidOpLength),
            ({"kind": "cut", "t": 1, "pos": 0}, MalformedOp),
            ({"kind": "undo", "t": 1, "pos": 0}, MalformedOp),
            ({"kind": "redo", "t": 1, "pos": 0, "len": -1}, InvalidOpLength),
            ({"kind": "focus", "t": 1, "state": "blurred"}, MalformedOp),
        ],
    )
    def test_shape_errors(self, raw: object, error: type[Exception]) -> None:
        with pytest.raises(error) as info:
            ops.parse_ops([{"kind": "focus", "t": 0, "state": "lost"}, raw])
        assert info.value.extra["op_index"] == 1  # type: ignore[attr-defined]
        assert "Operation 1" in str(info.value)

    @pytest.mark.parametrize(
        "raw",
        [
            {"kind": "insert", "t": 1, "pos": 4, "text": "x"},
            {"kind": "delete", "t": 1, "pos": 3, "len": 1},
            {"kind": "delete", "t": 1, "pos": 0, "len": 4},
            {"kind": "undo", "t": 1, "pos": 2, "len": 2, "text": "y"},
        ],
    )
    def test_positions_out_of_range(self, raw: dict) -> None:
        with pytest.raises(OpOutOfRange):
            ops.apply("😀é漢", ops.parse_ops([raw]))  # 3 code points (4 in UTF-16)

    def test_positions_count_code_points_not_utf16_units(self) -> None:
        text = "a😀b"  # JavaScript: length 4; here: 3
        assert ops.apply(text, ops.parse_ops([{"kind": "insert", "t": 0, "pos": 2, "text": "!"}])) == "a😀!b"
        assert ops.apply(text, ops.parse_ops([{"kind": "delete", "t": 0, "pos": 1, "len": 1}])) == "ab"

    def test_later_ops_see_earlier_ones(self) -> None:
        batch = [
            {"kind": "insert", "t": 0, "pos": 0, "text": "abc"},
            {"kind": "delete", "t": 1, "pos": 2, "len": 1},  # valid only after the insert
            {"kind": "undo", "t": 2, "pos": 0, "len": 1, "text": "X"},
        ]
        assert ops.apply("", ops.parse_ops(batch)) == "Xb"

    def test_content_hash_is_sha256_of_utf8(self) -> None:
        assert ops.content_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        assert ops.content_hash("é") != ops.content_hash("e\u0301")  # no normalisation: byte for byte


def test_no_combining_mark_lies_outside_the_planes_scanned() -> None:
    """``_marks`` scans planes 0, 1 and 14; a future Unicode version adding marks elsewhere must fail here."""
    import sys
    import unicodedata

    outside = [
        cp
        for cp in (*range(0x20000, 0xE0000), *range(0xF0000, sys.maxunicode + 1))
        if unicodedata.category(chr(cp)).startswith("M")
    ]
    assert outside == []
    assert ops.word_count("a\U0001d165b") == 1  # MUSICAL SYMBOL COMBINING STEM (plane 1) joins a word
