"""analytics.style on texts whose measures are computed by hand."""

from __future__ import annotations

import pytest

from scribetree.analytics import style


class TestSyllables:
    @pytest.mark.parametrize(
        ("word", "n"),
        [
            ("cat", 1),
            ("the", 1),
            ("make", 1),
            ("table", 2),
            ("jumped", 1),
            ("wanted", 2),
            ("beautiful", 3),
            ("boxes", 2),
            ("reading", 2),
            ("analysis", 4),
            ("42", 1),
        ],
    )
    def test_known_words(self, word: str, n: int) -> None:
        assert style.syllables(word) == n


class TestMeasure:
    def test_one_short_sentence(self) -> None:
        m = style.measure("The cat sat on the mat.")
        # 6 words, 1 sentence, 6 syllables: FRE = 206.835 - 1.015*6 - 84.6*1; FK = 0.39*6 + 11.8*1 - 15.59
        assert (m.words, m.sentences, m.paragraphs) == (6, 1, 1)
        assert m.flesch_reading_ease == round(206.835 - 1.015 * 6 - 84.6, 2)
        assert m.flesch_kincaid_grade == round(0.39 * 6 + 11.8 - 15.59, 2)
        assert m.type_token_ratio == round(5 / 6, 3)  # "the" twice
        assert m.sentence_length_sd == 0 and m.sentence_length_variety == 0
        assert m.mtld is None  # fewer than 10 words

    def test_sentences_paragraphs_and_variety(self) -> None:
        text = "I write. Then I stop and think about it!\n\nShort one? Yes."
        m = style.measure(text)
        # sentences: 2, 7, 2, 1 words; paragraphs: 9 and 3 words
        assert m.sentences == 4 and m.paragraph_lengths == [9, 3] and m.paragraphs == 2
        assert m.sentence_length_mean == 3.0
        sd = ((1 + 16 + 1 + 4) / 4) ** 0.5
        assert m.sentence_length_sd == round(sd, 2)
        assert m.sentence_length_variety == round(sd / 3, 3)
        assert m.paragraph_length_mean == 6.0

    def test_empty_text(self) -> None:
        m = style.measure("   \n ")
        assert (m.words, m.sentences, m.paragraphs, m.flesch_reading_ease, m.type_token_ratio) == (0, 0, 0, None, None)

    def test_harder_text_scores_harder(self) -> None:
        easy = style.measure("We ran to the park. It was fun. We sat in the sun.")
        hard = style.measure(
            "Institutional accountability necessitates comprehensive documentation of organizational "
            "decision-making processes, particularly regarding environmental sustainability considerations."
        )
        assert easy.flesch_reading_ease is not None and hard.flesch_reading_ease is not None
        assert easy.flesch_reading_ease > 90 > 0 > hard.flesch_reading_ease
        assert hard.flesch_kincaid_grade is not None and hard.flesch_kincaid_grade > 16


class TestMtld:
    def test_repetition_lowers_diversity(self) -> None:
        varied = [f"word{i}" for i in range(16)]
        repetitive = ("the cat the cat the cat the cat the dog " * 2).split()
        high, low = style.mtld(varied), style.mtld(repetitive)
        assert high == float(len(varied))  # never falls to the threshold: one partial factor of 0 -> length
        assert low is not None and low <= 4 < high

    def test_hand_computed_factor(self) -> None:
        # forward: "a a" -> TTR 0.5 <= 0.72: factor 1 after 2 tokens, repeated 5 times -> 10 tokens / 5 factors = 2
        tokens = ["a"] * 10
        assert style.mtld(tokens) == 2.0
