"""Benchmark (not a test): what reading one piece of feedback costs, batched, on one core.

    OMP_NUM_THREADS=1 .venv/bin/python -m tests.benchmarks.bench_feedback [--texts N]

Texts are the labelled evaluation set (five languages, one sentence to a long email), repeated
to ``--texts``. For each batch size (1, 32, 256) it times, in the same run:

* rules only: ``FeedbackAnalyzer()`` without a learned part (baseline);
* polarity only: the learned model's vectorise + predict on the same texts (its share);
* full analyzer: the built-in model, as the worker runs it.

The target is at most 1 ms per text for the full analyzer. The process is pinned to one CPU and
BLAS/OpenMP to one thread, and CPU time is measured, so the figures are one core's work.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy is imported

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText  # noqa: E402
from parcelwatch.models.feedback.labelled import read_labelled  # noqa: E402
from parcelwatch.models.feedback.model_store import load_builtin_analyzer  # noqa: E402

EVALUATION_SET = (
    Path(__file__).resolve().parents[1] / "data" / "feedback" / "labelled_feedback.jsonl"
)
BATCH_SIZES = (1, 32, 256)
TARGET_MS = 1.0


def per_text_ms(run: Callable[[Sequence[FeedbackText]], object], items, batch: int) -> float:
    """Best of three passes over ``items`` in batches of ``batch``, in CPU ms per text.

    CPU time of this one-threaded process, not wall time: on a shared machine other processes
    stretch the wall clock, not the work done.
    """
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for start in range(0, len(items), batch):
            run(items[start : start + batch])
        best = min(best, time.process_time() - started)
    return best / len(items) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1024, help="texts per pass")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    rows = read_labelled([EVALUATION_SET])
    items = [FeedbackText(row.text, row.rating) for row in rows]
    items = (items * (args.texts // len(items) + 1))[: args.texts]
    rules = FeedbackAnalyzer()
    full = load_builtin_analyzer()
    if full.polarity is None:
        raise SystemExit("no built-in feedback model: run `parcelwatch feedback train --builtin`")
    languages = [analysis.language for analysis in rules.analyze(items)]
    by_text = dict(zip((id(item) for item in items), languages, strict=True))

    def polarity_only(batch: Sequence[FeedbackText]) -> object:
        return full.polarity.positive_probability(
            [item.text or "" for item in batch], [by_text[id(item)] for item in batch]
        )

    mean_chars = sum(len(item.text or "") for item in items) / len(items)
    print(f"{len(items)} texts ({len(rows)} distinct, {mean_chars:.0f} characters on average)")
    print(f"analyzer {full.version}; CPU ms per text, best of 3, one core\n")
    print(f"{'batch':>6}{'rules only':>14}{'polarity only':>16}{'full':>10}  target")
    for batch in BATCH_SIZES:
        baseline = per_text_ms(rules.analyze, items, batch)
        learned = per_text_ms(polarity_only, items, batch)
        whole = per_text_ms(full.analyze, items, batch)
        verdict = "ok" if whole <= TARGET_MS else f"over {TARGET_MS:g} ms"
        print(f"{batch:>6}{baseline:>14.3f}{learned:>16.3f}{whole:>10.3f}  {verdict}")


if __name__ == "__main__":
    main()
