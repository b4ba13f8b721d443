"""Property: folding a log in slices (the periodic job, page views catching up) equals folding it at once."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scribetree.analytics import metrics
from scribetree.writing import ops

T0 = datetime(2026, 11, 20, 23, 50, tzinfo=UTC)  # near midnight: batches fall on two days
AUTHORS = [uuid.UUID(int=1), uuid.UUID(int=2)]
# around every threshold: burst gap 5, pause 30, active 60, idle 600
GAPS = st.sampled_from([0.0, 1.0, 4.9, 5.0, 5.1, 29.0, 31.0, 59.6, 60.0, 61.0, 599.0, 601.0, 4000.0])
TEXT = st.text(alphabet="ab .\n\u00e9", max_size=60)


@st.composite
def logs(draw: st.DrawFn) -> list[metrics.BatchIn]:
    text, revision, at = "", 0, T0
    out = []
    for _ in range(draw(st.integers(1, 25))):
        raw: list[dict[str, Any]] = []
        current = text
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["insert", "paste", "delete", "focus"]))
            if kind == "focus":
                raw.append({"kind": "focus", "t": 1, "state": "lost"})
                continue
            pos = draw(st.integers(0, len(current)))
            if kind == "delete":
                n = draw(st.integers(0, len(current) - pos))
                if n == 0:
                    continue
                raw.append({"kind": "delete", "t": 1, "pos": pos, "len": n})
            else:
                piece = draw(TEXT.filter(bool))
                op: dict[str, Any] = {"kind": kind, "t": 1, "pos": pos, "text": piece}
                if kind == "paste":
                    op["seen_in_doc"] = False
                raw.append(op)
            current = ops.apply(current, ops.parse_ops([raw[-1]]))
        base = revision
        revision += 1 if ops.apply_counted(text, ops.parse_ops(raw)).changed else 0
        at += timedelta(seconds=draw(GAPS))
        out.append(metrics.BatchIn(uuid.uuid4(), revision, base, at, draw(st.sampled_from(AUTHORS)), raw))
        text = current
    return out


def fold_in_slices(log: list[metrics.BatchIn], cuts: list[int]) -> tuple[dict[str, Any], dict[Any, dict[str, int]]]:
    stored = metrics.State().values()
    days: dict[Any, dict[str, int]] = {}
    bounds = [0, *sorted(set(cuts)), len(log)]
    for a, b in itertools.pairwise(bounds):
        state = metrics.State(**{**stored, "gaps": dict(stored["gaps"])})  # as read back from the table
        for key, delta in metrics.fold(state, log[a:b], active_gap=60, idle_gap=600).items():
            row = days.setdefault(key, dict.fromkeys(delta.values(), 0))
            for name, value in delta.values().items():
                row[name] += value
        stored = state.values()
    return stored, days


class TestFold:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(log=logs(), data=st.data())
    def test_slices_equal_one_pass(self, log: list[metrics.BatchIn], data: st.DataObject) -> None:
        cuts = data.draw(st.lists(st.integers(0, len(log)), max_size=5))
        burst_min = metrics.BURST_MIN_CHARS
        metrics.BURST_MIN_CHARS = 12  # short logs: let runs reach a burst often
        try:
            whole = fold_in_slices(log, [])
            assert fold_in_slices(log, cuts) == whole
        finally:
            metrics.BURST_MIN_CHARS = burst_min
        state, days = whole
        # cross-checks against the log itself
        final = ""
        for b in log:
            final = ops.apply(final, ops.parse_ops(b.ops))
        assert state["text"] == final and state["batches"] == len(log)
        assert sum(d["word_delta"] for d in days.values()) == ops.word_count(final)
        assert sum(d["batches"] for d in days.values()) == len(log)
        assert state["sessions"] == 1 + sum(
            1 for x, y in itertools.pairwise(log) if (y.received_at - x.received_at).total_seconds() > 600
        )

    def test_a_batch_from_another_base_asks_for_its_text(self) -> None:
        b = metrics.BatchIn(uuid.uuid4(), 5, 4, T0, AUTHORS[0], [{"kind": "insert", "t": 1, "pos": 0, "text": "x"}])
        state = metrics.State()
        try:
            metrics.fold(state, [b], active_gap=60, idle_gap=600)
        except metrics.NeedText as need:
            assert need.revision == 4 and state.batches == 0
        else:  # pragma: no cover
            raise AssertionError("NeedText expected")
        metrics.fold(state, [b], active_gap=60, idle_gap=600, texts={4: "restored"})
        assert (state.text, state.wm_revision) == ("xrestored", 5)
