"""What :func:`parcelwatch.models.feedback.evaluation.evaluate_feedback` measures.

Frozen dataclasses whose fields are the keys of the JSON report (``to_json``). ``None`` marks a
figure undefined on the data (no row to measure it on), never NaN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Accuracy", "FeedbackEvaluation", "Scores", "TopicScores"]


@dataclass(frozen=True)
class Accuracy:
    """Share of ``rows`` read right (``None`` without rows)."""

    rows: int
    accuracy: float | None


@dataclass(frozen=True)
class TopicScores:
    support: int  # rows labelled with the topic
    predicted: int  # rows the analyzer gave the topic
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class Scores:
    """The figures of one language, or of all rows together.

    - ``accuracy`` and ``macro_f1``: the overall label (negative, neutral, positive); macro-F1
      averages the F1 of the labels that occur in the gold labels or the predictions.
    - ``polar``: rows labelled negative or positive, read with that same label (a neutral
      reading counts as wrong): the figure to hold against "1-2 stars against 4-5 stars".
    - ``delivery``/``product``: rows whose label for that aspect is not null; a missing reading
      counts as wrong.
    - ``language``: rows whose language was detected as the labelled one.
    - ``confusion``: labelled label -> read label -> rows.
    """

    rows: int
    accuracy: float | None
    macro_f1: float | None
    polar: Accuracy
    delivery: Accuracy
    product: Accuracy
    language: Accuracy
    topics: dict[str, TopicScores]
    confusion: dict[str, dict[str, int]]


@dataclass(frozen=True)
class FeedbackEvaluation:
    analyzer_version: str
    data: dict[str, Any]  # files (name, sha256), rows, whether ratings were given to the analyzer
    overall: Scores
    languages: dict[str, Scores]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """A readable summary: one line per language, then topic figures over all rows."""
        columns = ("rows", "acc", "macroF1", "polar", "delivery", "product", "lang")
        lines = [
            f"feedback analyzer {self.analyzer_version}, {self.data['rows']} labelled texts",
            "",
            f"{'':8}" + "".join(f"{name:>10}" for name in columns),
        ]
        for name, scores in [*self.languages.items(), ("all", self.overall)]:
            cells = (
                str(scores.rows),
                _figure(scores.accuracy),
                _figure(scores.macro_f1),
                _figure(scores.polar.accuracy),
                _figure(scores.delivery.accuracy),
                _figure(scores.product.accuracy),
                _figure(scores.language.accuracy),
            )
            lines.append(f"{name:8}" + "".join(f"{cell:>10}" for cell in cells))
        lines += ["", f"{'topic':24}{'support':>9}{'precision':>11}{'recall':>9}{'F1':>9}"]
        for topic, figures in self.overall.topics.items():
            lines.append(
                f"{topic:24}{figures.support:>9}{_figure(figures.precision):>11}"
                f"{_figure(figures.recall):>9}{_figure(figures.f1):>9}"
            )
        return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
