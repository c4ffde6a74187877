"""The learned polarity part: TF-IDF word and character n-grams with logistic regression.

The estimator is a plain scikit-learn pipeline (only sklearn/numpy/scipy types), so it is saved
and loaded with skops. Texts are prepared before the pipeline sees them, here and not inside
it, so no custom function has to be trusted when the model is loaded: folded (lower case,
accent-free), with every word in a negator's scope marked ("not good" → "not neg_good", up to
the clause's end), and the language as a word of its own in front, so one model serves every
language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from parcelwatch.models.feedback.language import UNDETERMINED
from parcelwatch.models.feedback.lexicon import SUPPORTED_LANGUAGES, load_lexicon
from parcelwatch.models.feedback.text import CLAUSE_PUNCTUATION, tokenize

#: How a text becomes the estimator's input. A model is stored with the preparation it was
#: trained on, and one trained on another is refused: its features would silently not match.
TEXT_PREPARATION = "folded-negation-scope-1"
NEGATED_PREFIX = "neg_"


def prepared(texts: Sequence[str], languages: Sequence[str]) -> list[str]:
    return [
        f"lang{language} {_negation_marked(text, language)}"
        for text, language in zip(texts, languages, strict=True)
    ]


def _negation_marked(text: str, language: str) -> str:
    """The folded tokens, those after a negator marked up to the clause's end.

    A linear model cannot flip "good" after "not"; as "neg_good" it learns the negated word on
    its own (bigrams alone miss "not really that good"). Negators are the language's lexicon's.
    """
    lexicon = load_lexicon(language if language in SUPPORTED_LANGUAGES else UNDETERMINED)
    words: list[str] = []
    negated = False
    for token in tokenize(text, lexicon.language):
        word = token.norm
        if word in CLAUSE_PUNCTUATION or word[0] in "!?":
            negated = False
        elif word in lexicon.negators:
            negated = True
        elif negated:
            word = NEGATED_PREFIX + word
        words.append(word)
    return " ".join(words)


def fit_polarity(
    texts: Sequence[str],
    labels: Sequence[int],
    languages: Sequence[str],
    weights: Sequence[float] | None = None,
) -> Any:
    """A fitted estimator of P(positive); label 1 is positive, 0 negative; ``weights`` per text.

    Word uni- and bigrams carry the sentiment words and their negations ("not good"); character
    3-5-grams inside words carry spelling variants and inflections ("atrasado", "atrasada").
    """
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                      token_pattern=r"(?u)\b\w+\b")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                                      sublinear_tf=True, max_features=50_000)),
        ]
    )  # fmt: skip
    classifier = LogisticRegression(C=4.0, solver="liblinear", max_iter=1_000)
    estimator = Pipeline([("features", features), ("classifier", classifier)])
    estimator.fit(
        prepared(texts, languages),
        np.asarray(labels, dtype=np.int64),
        classifier__sample_weight=None if weights is None else np.asarray(weights, dtype=float),
    )
    return estimator


class PolarityModel:
    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self._positive_column = list(estimator.classes_).index(1)
        self._word_vocabulary, self._word_tokenizer = _word_features(estimator)

    def positive_probability(self, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """P(positive) per text, in one vectoriser call for the whole batch."""
        return self.read(texts, languages)[0]

    def read(self, texts: Sequence[str], languages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(P(positive), the share of the text's words the model learned) per text.

        The share says how much the probability rests on: character n-grams give every string
        an opinion, "asdf qwerty" included, and the analyzer weighs the probability by it.
        """
        if not texts:
            return np.zeros(0), np.zeros(0)
        inputs = prepared(texts, languages)
        probabilities = self.estimator.predict_proba(inputs)[:, self._positive_column]
        return probabilities, np.array([self._known_share(text) for text in inputs])

    def _known_share(self, prepared_text: str) -> float:
        if self._word_vocabulary is None:
            return 1.0  # an estimator without a word vocabulary: trust it as a whole
        words = [
            word
            for word in self._word_tokenizer(prepared_text)[1:]  # [0] is the language token
            if not word.isdigit()
        ]
        if not words:
            return 0.0
        return sum(word in self._word_vocabulary for word in words) / len(words)


def _word_features(estimator: Any) -> tuple[Any, Any]:
    """The word vectorizer's vocabulary and tokenizer, if the estimator has one (``fit_polarity``'s
    pipeline does; a registry model of another shape is read without the share)."""
    for name, part in estimator.get_params(deep=True).items():
        if name.endswith("words") and isinstance(getattr(part, "vocabulary_", None), dict):
            return part.vocabulary_, part.build_tokenizer()
    return None, None
