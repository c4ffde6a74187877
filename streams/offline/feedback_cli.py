"""The arguments and handlers of ``parcelwatch feedback train | evaluate | promote``."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from parcelwatch.streams.runtime.settings import Settings


def add_arguments(feedback: argparse.ArgumentParser) -> None:
    actions = feedback.add_subparsers(dest="action", required=True)

    train = actions.add_parser(
        "train", help="fit the polarity model on labelled feedback (and English sentences)"
    )
    train.add_argument(
        "--labelled", type=_existing_file, nargs="+",
        help="labelled feedback JSONL; default with --builtin: the training set in the package",
    )  # fmt: skip
    corpora = train.add_mutually_exclusive_group()
    corpora.add_argument(
        "--english-corpora", type=Path,
        help="folder of the English sentence corpora (default ../shared/data/sentiment beside "
        "the repository, used when present)",
    )  # fmt: skip
    corpora.add_argument("--no-english-corpora", action="store_true", help="labelled data only")
    target = train.add_mutually_exclusive_group(required=True)
    target.add_argument("--model-dir", type=Path, help="store a version in MODEL_DIR/feedback")
    target.add_argument(
        "--builtin", action="store_true", help="regenerate the model shipped in the package"
    )
    train.set_defaults(handler=_train)

    evaluate = actions.add_parser("evaluate", help="accuracy, macro-F1 and topics per language")
    evaluate.add_argument("--labelled", type=_existing_file, nargs="+", required=True)
    evaluate.add_argument("--version", help="a registry version (default: the built-in model)")
    evaluate.add_argument("--model-dir", type=Path, help="the registry of --version")
    evaluate.add_argument("--out", type=Path, help="also write the report as JSON here")
    evaluate.add_argument(
        "--without-ratings", action="store_true", help="read the texts only, ignore the ratings"
    )
    evaluate.set_defaults(handler=_evaluate)

    promote = actions.add_parser("promote", help="make a version the one every worker runs")
    promote.add_argument("version")
    promote.add_argument("--model-dir", type=Path, required=True)
    promote.set_defaults(handler=_promote)


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def _english_corpora(args: argparse.Namespace) -> Path | None:
    from parcelwatch.models.feedback.training_set import DEFAULT_ENGLISH_CORPORA

    if args.no_english_corpora:
        return None
    if args.english_corpora is not None:
        if not args.english_corpora.is_dir():
            raise ValueError(f"{args.english_corpora}: no such folder")
        return args.english_corpora
    if DEFAULT_ENGLISH_CORPORA.is_dir():
        return DEFAULT_ENGLISH_CORPORA
    print(f"note: no English corpora at {DEFAULT_ENGLISH_CORPORA}; training on labelled data only")
    return None


def _train(args: argparse.Namespace) -> int:
    from parcelwatch.models.feedback.model_store import BUILTIN_DIR
    from parcelwatch.models.feedback.training_set import builtin_training_files
    from parcelwatch.streams.offline.feedback_commands import (
        train_builtin_command,
        train_feedback_command,
    )

    corpora = _english_corpora(args)
    if args.builtin:
        labelled = args.labelled or builtin_training_files()
        version, training = train_builtin_command(labelled, corpora)
        print(f"built-in model written to {BUILTIN_DIR}")
    else:
        if not args.labelled:
            raise ValueError("--labelled is required unless --builtin")
        version, training = train_feedback_command(
            args.labelled, corpora, args.model_dir,
            signing_key=Settings.from_env().model_signing_key,
        )  # fmt: skip
    per_language = ", ".join(f"{k} {v}" for k, v in training.counts_per_language().items())
    print(f"trained on {len(training)} polar texts ({per_language})")
    print(version)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from parcelwatch.streams.offline.feedback_commands import evaluate_feedback_command

    result = evaluate_feedback_command(
        args.labelled, model_dir=args.model_dir, version=args.version,
        with_ratings=not args.without_ratings,
    )  # fmt: skip
    print(result.table())
    if args.out is not None:
        args.out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"report written to {args.out}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from parcelwatch.streams.offline.feedback_commands import promote_feedback_command

    settings = Settings.from_env()
    announcement = asyncio.run(promote_feedback_command(settings, args.model_dir, args.version))
    signed = (
        "signed" if announcement.signature else "UNSIGNED: PARCELWATCH_MODEL_SIGNING_KEY is not set"
    )
    print(
        f"promoted feedback model {announcement.version} "
        f"(sha256 {announcement.artifact_sha256[:12]}…, {signed})"
    )
    return 0
