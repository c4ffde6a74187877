"""The polarity training set: labelled feedback plus English sentence corpora, with provenance.

The learned polarity component tells negative (0) from positive (1), so only the polar texts of a
labelled file are used (neutral ones are counted, not trained on). The English corpora are read
in place, never copied into the project, and only the files named in :data:`ENGLISH_CORPORA` are
opened: the Amazon part of the UCI sentences, which may sit beside them elsewhere, is reserved for
independent evaluation and must never be trained on.

Every source is recorded with its file name, SHA-256, counts per language and label, and licence,
so a model's metadata (and its model card) says exactly what it learned from. Paths are recorded
by file name, so the record is the same in every checkout.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parcelwatch.models.feedback.labelled import read_labelled
from parcelwatch.schemas.feedback import SentimentLabel

PROJECT_LICENCE = "Apache-2.0 (written for parcelwatch)"
RT_POLARITY_LICENCE = "CC BY 4.0 (per the NLTK data packaging of sentence_polarity)"
RT_POLARITY = "rt-polarity (Pang & Lee 2005, sentence polarity dataset v1.0)"
UCI_LICENCE = "CC BY 4.0 (UCI Machine Learning Repository; Kotzias et al., KDD 2015)"

#: Where ``parcelwatch feedback train`` looks for the English corpora unless told otherwise:
#: ``../shared/data/sentiment`` beside the repository. Absent in an installed package: optional.
DEFAULT_ENGLISH_CORPORA = Path(__file__).resolve().parents[2].parent / "shared/data/sentiment"

#: The labelled files written for parcelwatch that the built-in model learns from: every
#: ``*.jsonl`` in ``training_data/`` (the evaluation set lives under ``tests/``, never here).
TRAINING_DATA_DIR = Path(__file__).resolve().parent / "training_data"


def builtin_training_files() -> list[Path]:
    return sorted(TRAINING_DATA_DIR.glob("*.jsonl"))


#: How much one labelled feedback text counts in the fit against one corpus sentence: the
#: labelled files are the domain (orders, products, deliveries in five languages), the corpora
#: are English movie and restaurant sentences, many more of them.
LABELLED_WEIGHT = 1.0

POLAR_LABELS = {SentimentLabel.NEGATIVE: 0, SentimentLabel.POSITIVE: 1}


@dataclass(frozen=True)
class CorpusFile:
    """One English sentence file: ``label`` for a file of one polarity, else lines of
    ``sentence<TAB>0|1``."""

    name: str
    corpus: str
    licence: str
    encoding: str
    label: int | None = None


ENGLISH_CORPORA: tuple[CorpusFile, ...] = (
    CorpusFile("rt-polarity.pos", RT_POLARITY, RT_POLARITY_LICENCE, "latin-1", label=1),
    CorpusFile("rt-polarity.neg", RT_POLARITY, RT_POLARITY_LICENCE, "latin-1", label=0),
    CorpusFile("uci_yelp_labelled.txt", "UCI sentiment sentences, yelp", UCI_LICENCE, "utf-8"),
    CorpusFile("uci_imdb_labelled.txt", "UCI sentiment sentences, imdb", UCI_LICENCE, "utf-8"),
)


@dataclass
class TrainingSet:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)  # 1 positive, 0 negative
    languages: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)  # per text, in the fit
    sources: list[dict[str, Any]] = field(default_factory=list)  # provenance, one per file

    def __len__(self) -> int:
        return len(self.texts)

    def counts_per_language(self) -> dict[str, int]:
        return dict(sorted(Counter(self.languages).items()))

    def provenance(self) -> dict[str, Any]:
        """What the model's metadata records about its training data."""
        return {
            "rows": len(self),
            "rows_per_language": self.counts_per_language(),
            "positive": sum(self.labels),
            "negative": len(self) - sum(self.labels),
            "sources": self.sources,
        }

    def _add(self, text: str, label: int, language: str, weight: float = 1.0) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.languages.append(language)
        self.weights.append(weight)


def build_training_set(
    labelled: Sequence[Path],
    english_corpora: Path | None,
    corpus_files: Sequence[CorpusFile] = ENGLISH_CORPORA,
) -> TrainingSet:
    """The polar texts of ``labelled`` (in order), then ``corpus_files`` of the English corpora
    folder if one is given (a cross-domain check leaves one corpus out)."""
    training = TrainingSet()
    for path in labelled:
        rows = read_labelled([path])
        polar = [row for row in rows if row.sentiment in POLAR_LABELS]
        for row in polar:
            training._add(row.text, POLAR_LABELS[row.sentiment], row.language, LABELLED_WEIGHT)
        training.sources.append(
            {
                **_fingerprint(path),
                "licence": PROJECT_LICENCE,
                "rows": len(polar),
                "weight": LABELLED_WEIGHT,
                "neutral_not_used": len(rows) - len(polar),
                "rows_per_language": dict(sorted(Counter(r.language for r in polar).items())),
            }
        )
    if english_corpora is not None:
        for corpus_file in corpus_files:
            _add_corpus_file(training, english_corpora / corpus_file.name, corpus_file)
    if len(set(training.labels)) < 2:
        raise ValueError("the training data needs both negative and positive texts")
    return training


def _add_corpus_file(training: TrainingSet, path: Path, corpus_file: CorpusFile) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from the English corpora folder")
    # Split on \n only: the files hold U+0085 (NEL) inside sentences, a line break to splitlines.
    lines = path.read_bytes().decode(corpus_file.encoding).split("\n")
    added = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if corpus_file.label is not None:
            text, label = line.strip(), corpus_file.label
        else:
            text, _, label_text = line.rstrip().rpartition("\t")
            if label_text not in ("0", "1") or not text.strip():
                raise ValueError(f"{path}:{number}: not `sentence<TAB>0|1`")
            text, label = text.strip(), int(label_text)
        training._add(text, label, "en")
        added += 1
    training.sources.append(
        {
            **_fingerprint(path),
            "corpus": corpus_file.corpus,
            "licence": corpus_file.licence,
            "rows": added,
            "rows_per_language": {"en": added},
        }
    )


def _fingerprint(path: Path) -> dict[str, str]:
    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
