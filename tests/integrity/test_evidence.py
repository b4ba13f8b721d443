"""Process evidence from crafted logs: provenance of every character, process figures, assistive input."""

from __future__ import annotations

import random
from typing import Any

import pytest

from scribetree.integrity import evidence, flags
from scribetree.integrity.evidence import ASSISTIVE, EXTERNAL, HISTORY, INTERNAL, TYPED, UNKNOWN, Batch
from scribetree.writing import ops
from scribetree.writing.exceptions import MalformedOp

T = 1_764_000_000_000


def ins(pos: int, text: str, t: int = T, via: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"kind": "insert", "t": t, "pos": pos, "text": text}
    if via:
        op["via"] = via
    return op


def paste(pos: int, text: str, t: int = T, seen: bool = False) -> dict[str, Any]:
    return {"kind": "paste", "t": t, "pos": pos, "text": text, "seen_in_doc": seen}


def dele(pos: int, n: int, t: int = T) -> dict[str, Any]:
    return {"kind": "delete", "t": t, "pos": pos, "len": n}


def run(log: list[dict[str, Any]], **kw: Any) -> evidence.Evidence:
    return evidence.compute([Batch(ops=log, revision=1)], ops.apply("", ops.parse_ops(log)), **kw)


def naive_origins(log: list[dict[str, Any]]) -> list[str]:
    """Per-character origins by brute force (a list of labels edited like the text): the reference."""
    labels: list[str] = []
    for op in log:
        if op["kind"] == "focus":
            continue
        pos, n = op["pos"], op.get("len", 0)
        del labels[pos : pos + n]
        text = op.get("text", "")
        if op["kind"] == "paste":
            label = INTERNAL if op["seen_in_doc"] else EXTERNAL
        elif op["kind"] == "insert":
            label = ASSISTIVE if op.get("via") not in (None, "typed") else TYPED
        else:
            label = HISTORY
        labels[pos:pos] = [label] * len(text)
    return labels


class TestProvenance:
    def test_composition_and_paste_spans(self) -> None:
        log = [
            ins(0, "Hello world."),
            paste(5, " big", t=T + 1000),  # Hello big world.
            paste(0, "Hello", t=T + 2000, seen=True),  # HelloHello big world.
            {"kind": "undo", "t": T + 3000, "pos": 0, "len": 5, "text": "Oh! "},  # Oh! Hello big world.
            dele(10, 2, t=T + 4000),  # Oh! Hello g world. (the paste lost 2 of its 4 characters)
        ]
        ev = run(log)
        assert ev.consistent
        final = ops.apply("", ops.parse_ops(log))
        assert final == "Oh! Hello g world."
        assert ev.composition[EXTERNAL] == 2 and ev.composition[HISTORY] == 4
        assert ev.composition[INTERNAL] == 0  # the moved text was replaced by the undo
        assert sum(ev.composition.values()) == len(final)
        big = ev.pastes[0]
        assert (big.size, big.remaining) == (4, 2)
        assert [final[a:b] for a, b in big.spans] == [" g"]
        assert {h["origin"] for h in ev.highlights} == {EXTERNAL, HISTORY}

    @pytest.mark.parametrize("seed", range(30))
    def test_runs_match_brute_force_on_random_logs(self, seed: int) -> None:
        rng = random.Random(seed)
        log: list[dict[str, Any]] = []
        text = ""
        for i in range(300):
            roll = rng.random()
            t = T + i * 100
            if text and roll < 0.3:
                pos = rng.randrange(len(text))
                log.append(dele(pos, rng.randint(1, min(8, len(text) - pos)), t))
            elif roll < 0.4:
                log.append(paste(rng.randint(0, len(text)), "PASTE"[: rng.randint(1, 5)], t, rng.random() < 0.5))
            elif roll < 0.45 and text:
                pos = rng.randrange(len(text))
                log.append({"kind": "redo", "t": t, "pos": pos, "len": min(2, len(text) - pos), "text": "r"})
            else:
                via = rng.choice([None, None, None, "ime", "autocorrect", "typed"])
                log.append(ins(rng.randint(0, len(text)), rng.choice(["a", "bc", "d e", "東京"]), t, via))
            text = ops.apply(text, ops.parse_ops(log[-1:]))
        ev = run(log)
        labels = naive_origins(log)
        assert ev.consistent
        rebuilt = [""] * len(text)
        for h in ev.highlights:
            for k in range(h["start"], h["end"]):
                rebuilt[k] = h["origin"]
        assert [x or TYPED for x in rebuilt] == labels
        for k in evidence.ORIGINS:
            assert ev.composition[k] == labels.count(k)

    def test_restored_version_is_unknown_origin(self) -> None:
        b1 = Batch(ops=[paste(0, "pasted text")], base_revision=0, revision=1)
        b2 = Batch(ops=[ins(8, "!")], base_revision=2, revision=3)  # revision 2 was a restore to "restored"
        ev = evidence.compute([b1, b2], "restored!", restores={2: "restored"})
        assert ev.consistent
        assert ev.composition[UNKNOWN] == 8 and ev.composition[TYPED] == 1 and ev.composition[EXTERNAL] == 0

    def test_a_log_that_does_not_reproduce_the_text_attributes_nothing(self) -> None:
        ev = evidence.compute([Batch(ops=[paste(0, "x" * 900)], revision=1)], "something else")
        assert not ev.consistent and ev.composition[UNKNOWN] == len("something else")
        assert flags.evaluate(ev) == []


class TestProcess:
    def test_time_sessions_pauses_linearity(self) -> None:
        log = [ins(i, c, T + i * 200) for i, c in enumerate("One two. ")]  # 9 keys
        log += [ins(9 + i, c, T + 60_000 + i * 200) for i, c in enumerate("Three " * 10)]  # after a 58 s pause
        log += [ins(0, "X", T + 3 * 3_600_000)]  # a new session, back at the start
        ev = run(log, opened_at_ms=T - 30_000)
        p = ev.process
        assert p["sessions"] == 2
        assert p["active_seconds"] == round((8 * 200 + 58_400 + 59 * 200) / 1000)
        assert p["pauses"] == 1 and p["long_pauses"] == 1 and p["pause_boundary_share"] == 1.0
        assert p["time_to_first_keystroke_s"] == 30
        assert p["returns"] == 1 and p["linearity"] == round(69 / 70, 3)
        assert p["revision_ratio"] == 1.0

    def test_focus_loss_then_large_insertion(self) -> None:
        log = [{"kind": "focus", "t": T, "state": "lost"}, {"kind": "focus", "t": T + 9_000, "state": "gained"}]
        log += [paste(0, "w " * 200, T + 12_000)]
        ev = run(log)
        assert ev.pastes[0].after_focus_loss and ev.process["focus_losses"] == 1
        assert ev.process["focus_events"] == [{"lost_at": T, "gained_at": T + 9_000, "away_ms": 9_000}]


class TestAssistiveInput:
    def test_ops_validate_via(self) -> None:
        assert ops.parse_op(ins(0, "東京", via="ime")).to_json()["via"] == "ime"
        assert "via" not in ops.parse_op(ins(0, "a")).to_json()
        for bad in (ins(0, "a", via="robot"), {**paste(0, "a"), "via": "ime"}, {**dele(0, 1), "via": "typed"}):
            with pytest.raises(MalformedOp, match="'via'"):
                ops.parse_op(bad)
        with pytest.raises(MalformedOp):
            ops.parse_op({**ins(0, "a"), "via": ["ime"]})

    def test_dictation_ime_autocorrect_never_count_as_pasting(self) -> None:
        sentence = "This whole sentence was dictated by voice, which arrives as one long insertion at once. "
        log: list[dict[str, Any]] = [{"kind": "focus", "t": T, "state": "lost"}]
        log.append({"kind": "focus", "t": T + 5_000, "state": "gained"})
        text = ""
        t = T + 6_000
        for _ in range(12):
            log.append(ins(len(text), sentence, t, via="dictation"))
            text += sentence
            t += 8_000
            log.append(ins(len(text), "東京大学", t, via="ime"))
            text += "東京大学"
            t += 3_000
        log.append(dele(0, 4, t))
        log.append(ins(0, "That", t + 200, via="autocorrect"))
        ev = run(log)
        assert ev.composition[EXTERNAL] == 0 and ev.composition[ASSISTIVE] == len(ev_text(log))
        assert ev.via_chars["dictation"] == 12 * len(sentence) and ev.via_chars["ime"] == 48
        assert ev.final_words >= flags.MIN_WORDS
        codes = {f.code for f in flags.evaluate(ev)}
        assert not codes & {"external_paste_share", "large_external_paste", "focus_loss_large_insert"}
        # the same text pasted is flagged: the difference is the input type alone
        pasted = [
            {"kind": "paste", "t": op["t"], "pos": op["pos"], "text": op["text"], "seen_in_doc": False}
            if op.get("via") == "dictation"
            else op
            for op in log
        ]
        assert "external_paste_share" in {f.code for f in flags.evaluate(run(pasted))}


def ev_text(log: list[dict[str, Any]]) -> str:
    return ops.apply("", ops.parse_ops(log))
