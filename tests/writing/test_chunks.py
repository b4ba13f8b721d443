"""Chunk plans (pure): applying a batch's plan to the chunks gives the new text, and touches only the chunks
around the edit; the text cache checks revision and hash and stays within its bound."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scribetree.writing import chunks, ops
from scribetree.writing.models import CHUNK_MAX, CHUNK_TARGET, ORD_GAP, split_text

ALPHABET = st.sampled_from(["a", " ", "é", "😀", "\u0301", "東", "\n", "ש"])


def apply_plan(rows: dict[int, str], plan: chunks.Plan) -> dict[int, str]:
    out = {} if plan.rewrite_all else dict(rows)
    for o in plan.delete:
        del out[o]
    for o, t in plan.update:
        assert o in out
        out[o] = t
    for o, t in plan.insert:
        assert o not in out
        out[o] = t
    return out


def joined(rows: dict[int, str]) -> str:
    return "".join(rows[o] for o in sorted(rows))


@st.composite
def batches(draw: Any, size: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        t = 1_764_000_000_000
        if size and draw(st.booleans()):
            pos = draw(st.integers(0, size - 1))
            n = draw(st.integers(1, min(size - pos, 3 * CHUNK_TARGET)))
            out.append({"kind": "delete", "t": t, "pos": pos, "len": n})
            size -= n
        else:
            text = draw(st.text(ALPHABET, min_size=1, max_size=draw(st.sampled_from([5, 50, 3 * CHUNK_MAX]))))
            out.append({"kind": "insert", "t": t, "pos": draw(st.integers(0, size)), "text": text})
            size += len(text)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), st.integers(0, 5 * CHUNK_TARGET))
def test_a_plan_rebuilds_the_new_text(data: st.DataObject, size: int) -> None:
    rows = dict(split_text("x" * size))
    layout = chunks.Layout.of_chunks(sorted(rows.items()))
    for _ in range(4):  # a few batches in a row, each planned on the previous layout
        raw = data.draw(batches(len(layout.text)))
        parsed = ops.parse_ops(raw)
        new_text = ops.apply(layout.text, parsed)
        plan = chunks.plan(layout, new_text, parsed)
        rows = apply_plan(rows, plan)
        assert joined(rows) == new_text
        assert plan.layout is not None and plan.layout.text == new_text
        assert plan.layout.ords == sorted(rows) and plan.layout.lengths == [len(rows[o]) for o in sorted(rows)]
        assert rows, "a document always has a chunk"
        assert all(len(t) <= CHUNK_MAX for t in rows.values())
        layout = plan.layout


def test_typing_at_the_end_of_a_long_text_touches_one_chunk() -> None:
    text = "word " * 20_000
    rows = dict(split_text(text))
    layout = chunks.Layout.of_chunks(sorted(rows.items()))
    parsed = ops.parse_ops([{"kind": "insert", "t": 1, "pos": len(text), "text": "more"}])
    plan = chunks.plan(layout, text + "more", parsed)
    assert (len(plan.update), plan.insert, plan.delete, plan.rewrite_all) == (1, [], [], False)
    assert plan.update[0][0] == max(rows)
    # an edit in the middle touches the chunk that holds it
    parsed = ops.parse_ops([{"kind": "delete", "t": 1, "pos": 3 * CHUNK_TARGET + 7, "len": 2}])
    plan = chunks.plan(layout, ops.apply(text, parsed), parsed)
    assert [o for o, _ in plan.update] == [4 * ORD_GAP] and not plan.insert and not plan.delete


def test_a_growing_chunk_is_split_between_its_neighbours() -> None:
    rows = {ORD_GAP: "a" * 10, 2 * ORD_GAP: "b" * 10}
    layout = chunks.Layout.of_chunks(sorted(rows.items()))
    big = "c" * (CHUNK_MAX + 1)
    parsed = ops.parse_ops([{"kind": "paste", "t": 1, "pos": 5, "text": big, "seen_in_doc": False}])
    plan = chunks.plan(layout, ops.apply(layout.text, parsed), parsed)
    assert plan.insert and all(ORD_GAP < o < 2 * ORD_GAP for o, _ in plan.insert)
    assert joined(apply_plan(rows, plan)) == "a" * 5 + big + "a" * 5 + "b" * 10
    # no room left between two ords: every chunk is rewritten
    rows = {1: "a" * 10, 2: "b" * 10}
    plan = chunks.plan(chunks.Layout.of_chunks(sorted(rows.items())), ops.apply(layout.text, parsed), parsed)
    assert plan.rewrite_all and joined(apply_plan(rows, plan)) == "a" * 5 + big + "a" * 5 + "b" * 10


def test_cache_checks_revision_and_hash_and_is_bounded() -> None:
    cache = chunks.TextCache(max_chars=100)
    a, b = uuid.uuid4(), uuid.uuid4()
    cache.put(a, 3, "h3", chunks.Layout("x" * 60, [1], [60]))
    assert cache.get(a, 3, "h3") is not None
    assert cache.get(a, 4, "h3") is None and cache.get(a, 3, "other") is None
    cache.put(b, 1, "h1", chunks.Layout("y" * 60, [1], [60]))  # over the bound: the older entry goes
    assert cache.get(a, 3, "h3") is None and cache.get(b, 1, "h1") is not None and cache.chars == 60
    cache.put(a, 1, "h", chunks.Layout("z" * 101, [1], [101]))  # larger than the whole cache: not kept
    assert cache.get(a, 1, "h") is None and cache.chars == 60
