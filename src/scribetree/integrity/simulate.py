"""Generated writing-process histories for evaluating the flags (``docs/integrity.md``, "Evaluation").

Each generator returns the ops an editor would have sent (one op per keystroke, with client times), for a
kind of writer:

- authentic: ``planner`` (outline first, then fills paragraphs), ``reviser`` (drafts, then rewrites words and
  sentences), ``bursty`` (fast bursts, long breaks, several sessions), ``nonnative`` (slow, uneven typing,
  IME commits, autocorrect replacements, dictated sentences, a cited quotation pasted);
- not authentic: ``copy_paste`` (the text pasted from elsewhere, then lightly edited), ``retyping`` (typed
  from another source at a human rhythm, top to bottom), ``autotyper`` (a tool that types a given text with
  random per-key delays, punctuation and "thinking" pauses, fake typos fixed with backspace, and staged
  Draft 1 → 2 → 3 revisions, as the open-source auto-typers do), and ``autotyper_humanlike``, a tool that
  samples the same human model as the authentic writers: by construction no process signal separates it.

Human keystroke intervals are log-normal with a slower first letter of each word, the pattern keystroke
research reports (e.g. Conijn et al. 2019; Crossley et al. 2024). The models are ours: they are a
regression harness for the flags, not evidence about real students. ``evaluate`` runs histories through
:mod:`scribetree.integrity.evidence` and :mod:`scribetree.integrity.flags`; the test in
``tests/integrity/test_simulate.py`` stores them through the writing service first.

Run: ``.venv/bin/python -m scribetree.integrity.simulate --seeds 20``.
"""

from __future__ import annotations

import argparse
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scribetree.integrity import evidence, flags

T0 = 1_764_000_000_000  # 2025-11-24, a fixed start so histories are reproducible

_VOCABULARY = (
    "the of and to in that is was for it with as his on be at by this had not are but from or have an "
    "they which one you were her all she there would their we him been has when who will more no if out "
    "so said what up its about into than them can only other new some could time these two may then do "
    "first any my now such like our over man me even most made after also did many before must through "
    "back years where much your way well down should because each just those people how too little state "
    "good very make world still own see men work long get here between both life being under never day "
    "same another know while last might us great old year off come since against go came right used take "
    "three argument evidence history writer source essay question reason example claim analysis theory "
    "practice community language culture policy research experiment result suggests however therefore "
    "although meanwhile consider perhaps significant important different particular "
)
_WORDS = re.findall(r"\S+", _VOCABULARY)


def make_text(rng: random.Random, words: int, paragraphs: int = 4) -> str:
    """A plausible-looking essay of about ``words`` words in ``paragraphs`` paragraphs."""
    per_par = max(1, words // paragraphs)
    pars = []
    for _ in range(paragraphs):
        sentences, count = [], 0
        while count < per_par:
            n = rng.randint(8, 22)
            ws = [rng.choice(_WORDS) for _ in range(n)]
            for i in range(1, n - 1):
                if rng.random() < 0.06:
                    ws[i] += ","
            sentences.append(" ".join(ws).capitalize() + rng.choice(".....?"))
            count += n
        pars.append(" ".join(sentences))
    return "\n\n".join(pars)


@dataclass
class Profile:
    """A human typist: median interval inside words (ms), spread (log SD), slowdown at word starts, pauses."""

    median_ms: float = 170
    sigma: float = 0.5
    word_start: float = 1.6
    p_word_pause: float = 0.05
    p_sentence_pause: float = 0.6
    p_typo: float = 0.04


@dataclass
class Tape:
    """Builds an op log the way the editor records it: one op per keystroke, caret and clock kept here."""

    rng: random.Random
    t: int = T0
    text: str = ""
    caret: int = 0
    ops: list[dict[str, Any]] = field(default_factory=list)

    def wait(self, ms: float) -> None:
        self.t += max(1, int(ms))

    def insert(self, s: str, *, via: str | None = None) -> None:
        op: dict[str, Any] = {"kind": "insert", "t": self.t, "pos": self.caret, "text": s}
        if via:
            op["via"] = via
        self.ops.append(op)
        self.text = self.text[: self.caret] + s + self.text[self.caret :]
        self.caret += len(s)

    def paste(self, s: str) -> None:
        seen = s in self.text
        self.ops.append({"kind": "paste", "t": self.t, "pos": self.caret, "text": s, "seen_in_doc": seen})
        self.text = self.text[: self.caret] + s + self.text[self.caret :]
        self.caret += len(s)

    def backspace(self, n: int = 1) -> None:
        n = min(n, self.caret)
        if n:
            self.ops.append({"kind": "delete", "t": self.t, "pos": self.caret - n, "len": n})
            self.text = self.text[: self.caret - n] + self.text[self.caret :]
            self.caret -= n

    def delete_range(self, start: int, end: int) -> None:
        if end > start:
            self.ops.append({"kind": "delete", "t": self.t, "pos": start, "len": end - start})
            self.text = self.text[:start] + self.text[end:]
            self.caret = start

    def focus(self, state: str) -> None:
        self.ops.append({"kind": "focus", "t": self.t, "state": state})


def _human_key(tape: Tape, p: Profile, ch: str, prev: str) -> None:
    m = p.median_ms
    if ch.isalnum() and not prev.isalnum():
        m *= p.word_start
    elif not ch.isalnum():
        m *= 1.2
    tape.wait(math.exp(tape.rng.gauss(math.log(m), p.sigma)))


def human_type(tape: Tape, s: str, p: Profile) -> None:
    """Type ``s`` at the caret like a person: rhythm, pauses before sentences and some words, typos fixed."""
    rng = tape.rng
    prev = tape.text[tape.caret - 1] if tape.caret else " "
    for i, ch in enumerate(s):
        if ch.isalnum() and not prev.isalnum():
            before = tape.text[max(0, tape.caret - 3) : tape.caret]
            if not before.strip() and "\n" in before:
                tape.wait(rng.uniform(8_000, 40_000))  # a new paragraph
            elif any(c in before for c in ".?!") and rng.random() < p.p_sentence_pause:
                tape.wait(math.exp(rng.gauss(math.log(4_000), 0.6)))
            elif rng.random() < p.p_word_pause:
                tape.wait(math.exp(rng.gauss(math.log(3_000), 0.4)))
            if rng.random() < p.p_typo and i + 3 < len(s) and s[i + 1 : i + 3].isalpha():
                # a typo noticed a keystroke or two later, fixed with backspace
                wrong = ch + rng.choice("qwertyuiopasdfghjkl")
                for c in wrong:
                    _human_key(tape, p, c, prev)
                    tape.insert(c)
                    prev = c
                tape.wait(math.exp(rng.gauss(math.log(350), 0.3)))
                tape.backspace()
                tape.wait(math.exp(rng.gauss(math.log(250), 0.3)))
                tape.backspace()
                prev = tape.text[tape.caret - 1] if tape.caret else " "
        _human_key(tape, p, ch, prev)
        tape.insert(ch)
        prev = ch


def _sentences(par: str) -> list[str]:
    out, cur = [], ""
    for token in par.split(" "):
        cur = f"{cur} {token}" if cur else token
        if token[-1:] in ".?!":
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def _revise_words(tape: Tape, p: Profile, chance: float) -> None:
    """Maybe delete the last few words with backspace and write others (word-level revision)."""
    rng = tape.rng
    if rng.random() >= chance:
        return
    tail = tape.text[: tape.caret]
    k = rng.randint(1, 4)
    cut = len(" ".join(tail.split(" ")[-k:]))
    if cut >= tape.caret:
        return
    tape.wait(rng.uniform(1_500, 6_000))
    for _ in range(cut):
        tape.wait(math.exp(rng.gauss(math.log(90), 0.3)))
        tape.backspace()
    human_type(tape, " ".join(rng.choice(_WORDS) for _ in range(k)), p)


def _rewrite_sentences(tape: Tape, p: Profile, n: int, typer: Callable[[Tape, str], None]) -> None:
    """Go back to ``n`` sentences: select one, delete it, type a new one (staged revision)."""
    rng = tape.rng
    for _ in range(n):
        ends = [i + 1 for i, c in enumerate(tape.text) if c in ".?!" and i + 1 < len(tape.text)]
        if len(ends) < 3:
            return
        k = rng.randrange(len(ends) - 1)
        start, end = ends[k] + 1, ends[k + 1]
        tape.wait(rng.uniform(3_000, 20_000))
        tape.caret = start
        tape.delete_range(start, end)
        typer(tape, make_text(rng, rng.randint(8, 16), 1).replace("\n", " "))
    tape.caret = len(tape.text)


# ---- authentic writers -----------------------------------------------------------------------------------


def planner(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    p = Profile(median_ms=175, sigma=0.5)
    tape = Tape(rng)
    tape.focus("gained")
    pars = [_sentences(par) for par in make_text(rng, words, 4).split("\n\n")]
    # the outline: every paragraph's first sentence
    for i, sents in enumerate(pars):
        if i:
            human_type(tape, "\n\n", p)
        human_type(tape, sents[0], p)
    # then fill each paragraph in place (the caret goes back into the text)
    for i, sents in enumerate(pars):
        tape.wait(rng.uniform(10_000, 60_000))
        ends = [j for j in range(len(tape.text)) if tape.text.startswith("\n\n", j)]
        tape.caret = ends[i] if i < len(ends) else len(tape.text)
        for s in sents[1:]:
            human_type(tape, " " + s, p)
            _revise_words(tape, p, 0.2)
    return tape.ops


def reviser(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    p = Profile(median_ms=160, sigma=0.55, p_typo=0.06)
    tape = Tape(rng)
    tape.focus("gained")
    for i, par in enumerate(make_text(rng, words, 4).split("\n\n")):
        if i:
            human_type(tape, "\n\n", p)
        for j, s in enumerate(_sentences(par)):
            human_type(tape, (" " if j else "") + s, p)
            _revise_words(tape, p, 0.45)
    tape.wait(rng.uniform(60_000, 240_000))
    _rewrite_sentences(tape, p, rng.randint(3, 6), lambda tp, s: human_type(tp, s, p))
    return tape.ops


def bursty(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    p = Profile(median_ms=115, sigma=0.45, word_start=1.5, p_word_pause=0.02, p_sentence_pause=0.3)
    tape = Tape(rng)
    for i, par in enumerate(make_text(rng, words, 4).split("\n\n")):
        tape.focus("gained")
        if i:
            human_type(tape, "\n\n", p)
        for j, s in enumerate(_sentences(par)):
            human_type(tape, (" " if j else "") + s, p)
            _revise_words(tape, p, 0.25)
        tape.focus("lost")
        tape.wait(rng.uniform(40 * 60_000, 24 * 3_600_000))  # a new session for every paragraph
    tape.focus("gained")
    _rewrite_sentences(tape, p, 2, lambda tp, s: human_type(tp, s, p))
    return tape.ops


def nonnative(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    p = Profile(median_ms=290, sigma=0.6, word_start=1.8, p_word_pause=0.12, p_typo=0.07)
    tape = Tape(rng)
    tape.focus("gained")
    quote_at = rng.randrange(2, 4)
    for i, par in enumerate(make_text(rng, words, 4).split("\n\n")):
        if i:
            human_type(tape, "\n\n", p)
        for j, s in enumerate(_sentences(par)):
            sep = " " if j else ""
            roll = rng.random()
            if roll < 0.12:  # a dictated sentence arrives as one insertion
                tape.wait(rng.uniform(4_000, 12_000))
                tape.insert(sep + s, via="dictation")
                continue
            for k, w in enumerate(s.split(" ")):
                gap = sep if k == 0 else " "
                r = rng.random()
                if r < 0.12:  # a word composed with an IME arrives as one commit
                    human_type(tape, gap, p)
                    tape.wait(rng.uniform(800, 3_000))
                    tape.insert(w, via="ime")
                elif r < 0.2 and len(w) > 3:  # misspelled, then replaced by autocorrect
                    human_type(tape, gap + w[:-2] + w[-1] + w[-2], p)
                    tape.wait(rng.uniform(150, 600))
                    tape.delete_range(tape.caret - len(w), tape.caret)
                    tape.insert(w, via="autocorrect")
                else:
                    human_type(tape, gap + w, p)
            _revise_words(tape, p, 0.3)
        if i == quote_at:  # a short cited quotation, copied from a source
            tape.focus("lost")
            tape.wait(rng.uniform(20_000, 90_000))
            tape.focus("gained")
            tape.wait(rng.uniform(500, 2_000))
            quote = make_text(rng, 14, 1).replace("\n", " ")[:110]
            tape.paste(f' "{quote}" (Source, 2024).')
    return tape.ops


# ---- not authentic --------------------------------------------------------------------------------------


def copy_paste(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    p = Profile()
    tape = Tape(rng)
    tape.focus("gained")
    source = make_text(rng, words, 4)
    human_type(tape, "Essay\n\n", p)
    tape.focus("lost")
    tape.wait(rng.uniform(30_000, 300_000))
    tape.focus("gained")
    tape.wait(rng.uniform(300, 1_500))
    pieces = source.split("\n\n")
    for k, piece in enumerate(pieces):
        tape.paste(piece + ("\n\n" if k < len(pieces) - 1 else ""))
        tape.wait(rng.uniform(2_000, 20_000))
    # a few light edits
    _rewrite_sentences(tape, p, 2, lambda tp, s: human_type(tp, s, p))
    return tape.ops


def retyping(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    # A person copying by typing: a steady hand, no planning pauses, typos fixed at once.
    p = Profile(median_ms=150, sigma=0.45, p_word_pause=0.003, p_sentence_pause=0.02, p_typo=0.03)
    tape = Tape(rng)
    tape.focus("gained")
    source = make_text(rng, words, 4)
    for i, par in enumerate(source.split("\n\n")):
        if i:
            tape.insert("\n")
            tape.wait(rng.uniform(150, 400))
            tape.insert("\n")
            tape.wait(rng.uniform(500, 1_900))
        human_type_flat(tape, par, p)
    return tape.ops


def human_type_flat(tape: Tape, s: str, p: Profile) -> None:
    """Human rhythm without the paragraph pauses of composing (the text is read off another screen)."""
    prev = tape.text[tape.caret - 1] if tape.caret else " "
    for ch in s:
        if ch.isalnum() and not prev.isalnum() and tape.rng.random() < p.p_typo:
            _human_key(tape, p, "x", prev)
            tape.insert("x")
            tape.wait(300)
            tape.backspace()
        _human_key(tape, p, ch, prev)
        tape.insert(ch)
        prev = ch


def autotyper(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    """A Watch-Me-Type-style tool: uniform random delay per key (40-120 wpm), longer after commas, sentences
    and paragraphs, random thinking pauses, typos fixed with backspace, staged drafts."""
    tape = Tape(rng)
    tape.focus("gained")

    def key_delay() -> float:
        return rng.uniform(100, 300)  # 40-120 words per minute at 5 characters a word

    def robot(tp: Tape, s: str) -> None:
        for ch in s:
            if ch.isalnum() and rng.random() < 0.02:  # a deliberate typo
                tp.wait(key_delay())
                tp.insert(rng.choice("asdfjkl"))
                tp.wait(key_delay())
                tp.backspace()
            tp.wait(key_delay())
            if rng.random() < 0.01:
                tp.wait(rng.uniform(2_000, 8_000))  # "thinking"
            tp.insert(ch)
            if ch == ",":
                tp.wait(rng.uniform(300, 800))
            elif ch in ".?!":
                tp.wait(rng.uniform(1_000, 4_000))
            elif ch == "\n":
                tp.wait(rng.uniform(3_000, 8_000))

    robot(tape, make_text(rng, words, 4))  # draft 1
    tape.wait(rng.uniform(60_000, 600_000))
    _rewrite_sentences(tape, Profile(), rng.randint(2, 4), robot)  # draft 2
    tape.wait(rng.uniform(60_000, 600_000))
    _rewrite_sentences(tape, Profile(), rng.randint(2, 4), robot)  # draft 3
    return tape.ops


def autotyper_humanlike(rng: random.Random, words: int = 350) -> list[dict[str, Any]]:
    """An auto-typer that samples a human keystroke model (log-normal, slower word starts, typos, planning
    pauses) and stages its drafts: the adversary the process signals here cannot tell from a person."""
    p = Profile(median_ms=165, sigma=0.5)
    tape = Tape(rng)
    tape.focus("gained")
    for i, par in enumerate(make_text(rng, words, 4).split("\n\n")):
        if i:
            human_type(tape, "\n\n", p)
        for j, s in enumerate(_sentences(par)):
            human_type(tape, (" " if j else "") + s, p)
            _revise_words(tape, p, 0.3)
    _rewrite_sentences(tape, p, rng.randint(2, 4), lambda tp, s: human_type(tp, s, p))
    return tape.ops


AUTHENTIC: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "planner": planner,
    "reviser": reviser,
    "bursty": bursty,
    "nonnative": nonnative,
}
NOT_AUTHENTIC: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "copy_paste": copy_paste,
    "retyping": retyping,
    "autotyper": autotyper,
    "autotyper_humanlike": autotyper_humanlike,
}
WRITERS = {**AUTHENTIC, **NOT_AUTHENTIC}


def final_text(ops: list[dict[str, Any]]) -> str:
    text = ""
    for op in ops:
        if op["kind"] == "focus":
            continue
        pos, n = op["pos"], op.get("len", 0)
        text = text[:pos] + op.get("text", "") + text[pos + n :]
    return text


def flag_codes(ops: list[dict[str, Any]]) -> list[str]:
    """Flags raised by a history evaluated in memory (one batch)."""
    ev = evidence.compute([evidence.Batch(ops=ops, revision=1)], final_text(ops))
    return [f.code for f in flags.evaluate(ev)]


@dataclass
class Rates:
    runs: dict[str, int] = field(default_factory=dict)  # writer -> histories
    flagged: dict[str, dict[str, int]] = field(default_factory=dict)  # writer -> flag -> histories flagged
    any_flag: dict[str, int] = field(default_factory=dict)  # writer -> histories with at least one flag

    def add(self, writer: str, codes: list[str]) -> None:
        self.runs[writer] = self.runs.get(writer, 0) + 1
        per = self.flagged.setdefault(writer, {})
        for c in set(codes):
            per[c] = per.get(c, 0) + 1
        self.any_flag[writer] = self.any_flag.get(writer, 0) + bool(codes)

    def table(self) -> str:
        head = "| writer | histories | any flag | " + " | ".join(flags.FLAG_CODES) + " |"
        rows = [head, "|" + "---|" * (3 + len(flags.FLAG_CODES))]
        for w in WRITERS:
            n = self.runs.get(w, 0)
            if not n:
                continue
            cells = [f"{self.flagged.get(w, {}).get(c, 0) / n:.0%}" for c in flags.FLAG_CODES]
            rows.append(f"| {w} | {n} | {self.any_flag.get(w, 0) / n:.0%} | " + " | ".join(cells) + " |")
        return "\n".join(rows)


def evaluate(seeds: int = 10, words: int = 350) -> Rates:
    rates = Rates()
    for seed in range(seeds):
        for name, make in WRITERS.items():
            rates.add(name, flag_codes(make(random.Random(f"{name}-{seed}"), words)))
    return rates


def main() -> None:  # pragma: no cover - a command
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--words", type=int, default=350)
    args = parser.parse_args()
    print(evaluate(args.seeds, args.words).table())


if __name__ == "__main__":  # pragma: no cover
    main()
