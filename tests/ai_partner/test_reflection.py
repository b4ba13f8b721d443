"""Reflection scoring, table-driven: dimensions with their reasons, and the gaming cases (ai_partner.reflection)."""

from __future__ import annotations

import pytest

from scribetree.ai_partner.reflection import (
    DIMENSIONS,
    MAX_SCORE,
    ReflectionInput,
    jaccard,
    score_reflection,
    shingles,
)

DRAFT = (
    "Social media harms teenage sleep. Studies from Norway show that screen use after ten pm delays sleep onset. "
    "My second paragraph argues that schools should start later, because adolescent body clocks shift."
)
GOOD = (
    "I realised that my second paragraph assumes schools can change start times easily, but I did not consider "
    "the cost for buses. Because my claim about sleep onset relies on one Norway study, my evidence is weaker than "
    "I thought, so I will look for another source. I tend to write the conclusion first and then struggle to "
    "connect it. On the other hand, someone might argue that parents, not schools, should limit screen use. Next I "
    "will revise the second paragraph so that it answers that objection, and my goal is to understand how to weigh "
    "two sources against each other. Is one study enough?"
)
SHALLOW = (
    "I wrote about social media and sleep in my essay and I think the essay is mostly finished now and it says "
    "what I wanted it to say about the topic that we were given in class this week by the teacher."
)


def score(text: str, *, seconds: int = 600, pasted: int = 0, min_words: int = 40, **kw: object):  # type: ignore[no-untyped-def]
    return score_reflection(
        ReflectionInput(text=text, seconds_spent=seconds, pasted_chars=pasted, min_words=min_words, **kw)  # type: ignore[arg-type]
    )


class TestDimensions:
    def test_a_thoughtful_reflection_scores_high_and_counts(self) -> None:
        s = score(GOOD, draft=DRAFT)
        assert s.accepted and not s.gamed and not s.flags
        assert s.total >= 15 and s.total == sum(d.score for d in s.scores.values())
        assert set(s.scores) == set(DIMENSIONS)
        assert all(0 <= d.score <= 4 for d in s.scores.values())
        assert "Norway" not in s.scores["specificity"].reason  # words are shown lower-cased, from the draft
        assert "'norway'" in s.scores["specificity"].reason or "'onset'" in s.scores["specificity"].reason

    def test_a_shallow_reflection_scores_low_with_a_way_to_improve(self) -> None:
        s = score(SHALLOW, draft=DRAFT)
        assert s.accepted  # long enough and not gaming: it counts, with a low score
        assert s.total <= 6
        low = [d for d in s.scores.values() if d.score < 4]
        assert low and all(d.improve for d in low)  # every dimension below 4 says how to improve
        assert "because" in s.scores["depth"].reason  # names what is missing in plain words

    @pytest.mark.parametrize(
        ("text", "dimension", "at_least"),
        [
            (
                "I changed my mind because the evidence was weak, so I cut it, which means the claim is open.",
                "depth",
                2,  # three links, capped at 2 for a text under 40 words (test_short_reflections_cap_depth)
            ),
            (
                "I am not sure what my thesis is. I assumed readers agree. I tend to rush. It is hard for me.",
                "self_awareness",
                4,
            ),
            (
                "Instead of one source I could use two. However critics disagree. Is the evidence reliable?",
                "critical_engagement",
                4,
            ),
            ("Next I will revise the introduction because I want to learn how; my goal is clarity.", "growth", 4),
        ],
    )
    def test_each_dimension_reads_its_own_cues(self, text: str, dimension: str, at_least: int) -> None:
        s = score(text, min_words=0)
        assert s.scores[dimension].score >= at_least, s.scores[dimension]

    def test_specificity_grows_with_the_drafts_own_words_and_a_real_quote(self) -> None:
        vague = score("My paragraph is good and I like it a lot.", draft=DRAFT, min_words=0)
        specific = score(
            "My point about teenage sleep onset and Norway screen studies needs care.", draft=DRAFT, min_words=0
        )
        quoted = score(
            'My point about teenage sleep needs care: "screen use after ten pm delays sleep onset" is one study.',
            draft=DRAFT,
            min_words=0,
        )
        invented = score(
            'My point about teenage sleep needs care: "screen time ruins every single family" is one study.',
            draft=DRAFT,
            min_words=0,
        )
        assert vague.scores["specificity"].score <= 1 < specific.scores["specificity"].score
        assert quoted.scores["specificity"].score > invented.scores["specificity"].score
        assert "really is in it" in quoted.scores["specificity"].reason

    def test_with_an_empty_draft_specificity_reads_the_instructions(self) -> None:
        s = score(
            "I want to argue about later school start times for teenagers.",
            draft="",
            instructions="Argue for or against later school start times for teenagers.",
            min_words=0,
        )
        assert s.scores["specificity"].score >= 2 and "assignment" in s.scores["specificity"].reason

    def test_short_reflections_cap_depth(self) -> None:
        s = score("Because so therefore since thus hence, as a result.", min_words=0)
        assert s.scores["depth"].score <= 2 and "capped" in s.scores["depth"].reason

    def test_deterministic(self) -> None:
        assert score(GOOD, draft=DRAFT) == score(GOOD, draft=DRAFT)
        assert MAX_SCORE == 20


class TestGaming:
    """Each case must be flagged, void the score for the gate, and never count as accepted."""

    @pytest.mark.parametrize(
        ("case", "kwargs", "flag"),
        [
            (
                "generic filler",
                {
                    "text": "This was very helpful. The questions helped me think. I learned a lot. It made me think. "
                    * 3
                },
                "generic_filler",
            ),
            ("pasted in", {"text": GOOD, "pasted": len(GOOD) - 10}, "pasted"),
            ("pasted, reported as typed, but impossibly fast", {"text": GOOD, "seconds": 8}, "implausible_speed"),
            ("no time reported at all", {"text": GOOD, "seconds": 0}, "implausible_speed"),
            ("the draft itself", {"text": DRAFT + " " + DRAFT, "draft": DRAFT}, "copied_from_draft"),
            ("one word over and over", {"text": "good " * 60}, "repetitive"),
            (
                "a list of the cue words",
                {
                    "text": "because therefore so that I realised unsure struggle instead however evidence? I will "
                    "change learn goal my approach " * 3
                },
                "keyword_stuffing",
            ),
            (
                "the same as last time",
                {"text": GOOD, "earlier": [SHALLOW, GOOD.replace("Is one", "Is a single")]},
                "near_duplicate",
            ),
            ("lorem ipsum", {"text": "Lorem ipsum dolor sit amet. " * 10 + " asdf asdf"}, "generic_filler"),
        ],
    )
    def test_gaming_is_flagged_and_voids(self, case: str, kwargs: dict[str, object], flag: str) -> None:
        text = str(kwargs.pop("text"))
        s = score(text, **kwargs)  # type: ignore[arg-type]
        codes = [f.code for f in s.flags]
        assert flag in codes, (case, codes)
        assert s.gamed and not s.accepted, case
        assert s.summary.startswith("This reflection does not count"), case
        assert all(f.message for f in s.flags)

    @pytest.mark.parametrize(
        ("case", "kwargs"),
        [
            ("typed at a fast but human speed", {"seconds": 60}),
            ("a short quote pasted in", {"pasted": 40}),
            ("earlier reflections on other things", {"earlier": [SHALLOW, "I want to rethink my conclusion."]}),
        ],
    )
    def test_honest_variations_are_not_flagged(self, case: str, kwargs: dict[str, object]) -> None:
        s = score(GOOD, draft=DRAFT, **kwargs)  # type: ignore[arg-type]
        assert not s.flags and s.accepted, (case, s.flags)

    def test_too_short_is_not_gaming_but_does_not_count(self) -> None:
        s = score("I will change my second paragraph because the evidence is thin.", min_words=40)
        assert [f.code for f in s.flags] == ["too_short"]
        assert not s.gamed and not s.accepted
        assert "40" in s.flags[0].message and s.summary.startswith("Not long enough")

    def test_typed_ratio_is_the_unpasted_share(self) -> None:
        assert score(GOOD, pasted=0).typed_ratio == 1.0
        assert score(GOOD, pasted=len(GOOD)).typed_ratio == 0.0

    def test_jaccard_of_shingles(self) -> None:
        a = shingles("one two three four")
        assert jaccard(a, a) == 1.0 and jaccard(a, shingles("five six seven")) == 0.0 and jaccard(set(), a) == 0.0
