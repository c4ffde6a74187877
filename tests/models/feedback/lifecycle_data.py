"""Small labelled feedback and English corpora for the lifecycle tests (fast to fit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from parcelwatch.models.feedback.training_set import ENGLISH_CORPORA

LABELLED_ROWS: list[dict[str, Any]] = [
    {"id": "en-1", "language": "en", "text": "Arrived early, lovely mug, thank you!", "rating": 5,
     "sentiment": "positive", "delivery_sentiment": "positive", "product_sentiment": "positive",
     "topics": ["product_quality"]},
    {"id": "en-2", "language": "en", "text": "Where is my order??? 3 weeks!!!", "rating": None,
     "sentiment": "negative", "delivery_sentiment": "negative", "product_sentiment": None,
     "topics": ["late_delivery"]},
    {"id": "en-3", "language": "en", "text": "The box came crushed and the lamp is broken.",
     "rating": 1, "sentiment": "negative", "delivery_sentiment": "negative",
     "product_sentiment": "negative", "topics": ["damaged"]},
    {"id": "en-4", "language": "en", "text": "Order number 4411, delivered on Tuesday.",
     "rating": 3, "sentiment": "neutral", "delivery_sentiment": None, "product_sentiment": None,
     "topics": []},
    {"id": "pt-1", "language": "pt", "text": "Chegou rápido e o produto é ótimo, recomendo.",
     "rating": 5, "sentiment": "positive", "delivery_sentiment": "positive",
     "product_sentiment": "positive", "topics": ["product_quality"]},
    {"id": "pt-2", "language": "pt", "text": "Nunca chegou, péssimo atendimento, não recomendo.",
     "rating": 1, "sentiment": "negative", "delivery_sentiment": "negative",
     "product_sentiment": None, "topics": ["not_received", "customer_service"]},
    {"id": "de-1", "language": "de", "text": "Schnelle Lieferung, tolles Produkt, gerne wieder.",
     "rating": 5, "sentiment": "positive", "delivery_sentiment": "positive",
     "product_sentiment": "positive", "topics": ["product_quality"]},
    {"id": "de-2", "language": "de", "text": "Paket kam zwei Wochen zu spät und beschädigt an.",
     "rating": 2, "sentiment": "negative", "delivery_sentiment": "negative",
     "product_sentiment": None, "topics": ["late_delivery", "damaged"]},
]  # fmt: skip

# One sentence per corpus file; the yelp one holds U+0085 (NEL), which is not a line break there.
CORPUS_LINES = {
    "rt-polarity.pos": "a warm , funny and generous film .\n".encode("latin-1"),
    "rt-polarity.neg": "a dull , lifeless mess of a movie .\n".encode("latin-1"),
    "uci_yelp_labelled.txt": "Great food\u0085 and friendly staff.\t1\nCold fries.\t0\n".encode(),
    "uci_imdb_labelled.txt": b"A wonderful cast.\t1\nTerrible plot, awful acting.\t0\n",
}
RESERVED_SENTENCE = "Reserved sentence that training must never read."


def write_labelled(path: Path, rows: list[dict[str, Any]] = LABELLED_ROWS) -> Path:
    path.write_bytes(b"".join(orjson.dumps({"channel": "review", **row}) + b"\n" for row in rows))
    return path


def write_corpora(folder: Path) -> Path:
    """The four corpus files, plus a reserved file beside them that must never be read."""
    folder.mkdir(parents=True, exist_ok=True)
    assert set(CORPUS_LINES) == {corpus.name for corpus in ENGLISH_CORPORA}
    for name, data in CORPUS_LINES.items():
        (folder / name).write_bytes(data)
    (folder / "amazon_cells_labelled.txt").write_text(f"{RESERVED_SENTENCE}\t1\n")
    return folder
