"""``parcelwatch feedback train | evaluate | promote`` on small data, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parcelwatch.models.feedback.model_store import (
    BUILTIN_ARTIFACT,
    BUILTIN_METADATA,
    feedback_registry,
)
from parcelwatch.schemas.model_update import decode_model_update
from parcelwatch.streams import cli
from parcelwatch.streams.offline import feedback_commands, ml_commands
from parcelwatch.streams.runtime.settings import Settings
from tests.models.feedback.lifecycle_data import LABELLED_ROWS, write_corpora, write_labelled


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    return write_labelled(tmp_path / "labelled.jsonl"), write_corpora(tmp_path / "sentiment")


def train(model_dir: Path, labelled: Path, *extra: str) -> str:
    arguments = ["feedback", "train", "--labelled", str(labelled), "--model-dir", str(model_dir)]
    assert cli.main([*arguments, *extra]) == 0
    (version,) = feedback_registry(model_dir).versions()
    return version


def test_train_stores_a_version_with_its_data_provenance(tmp_path: Path, data, capsys) -> None:
    labelled, corpora = data
    version = train(tmp_path / "models", labelled, "--english-corpora", str(corpora))
    assert capsys.readouterr().out.splitlines()[-1] == version
    provenance = feedback_registry(tmp_path / "models").metadata(version)["training_data"]
    assert provenance["rows_per_language"] == {"de": 2, "en": 3 + 6, "pt": 2}
    assert [source["file"] for source in provenance["sources"]][:2] == [
        "labelled.jsonl",
        "rt-polarity.pos",
    ]


def test_train_without_the_english_corpora(tmp_path: Path, data) -> None:
    labelled, _ = data
    version = train(tmp_path / "models", labelled, "--no-english-corpora")
    provenance = feedback_registry(tmp_path / "models").metadata(version)["training_data"]
    assert [source["file"] for source in provenance["sources"]] == ["labelled.jsonl"]


def test_evaluate_reports_per_language_as_a_table_and_json(tmp_path: Path, data, capsys) -> None:
    labelled, corpora = data
    version = train(tmp_path / "models", labelled, "--english-corpora", str(corpora))
    out = tmp_path / "report.json"
    code = cli.main([
        "feedback", "evaluate", "--labelled", str(labelled), "--version", version,
        "--model-dir", str(tmp_path / "models"), "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text())
    assert report["analyzer_version"] == version
    assert report["data"]["rows"] == len(LABELLED_ROWS)
    assert report["data"]["with_ratings"] is True
    assert set(report["languages"]) == {"en", "pt", "de"}
    assert report["languages"]["en"]["rows"] == 4
    printed = capsys.readouterr().out
    assert f"feedback analyzer {version}, {len(LABELLED_ROWS)} labelled texts" in printed


def test_evaluate_without_a_version_reads_with_the_builtin_model(tmp_path: Path, data) -> None:
    labelled, _ = data
    result = feedback_commands.evaluate_feedback_command([labelled], with_ratings=False)
    assert result.data["with_ratings"] is False
    assert result.overall.rows == len(LABELLED_ROWS)
    assert result.analyzer_version.startswith(("builtin-", "rules-"))


def test_train_builtin_is_reproducible(tmp_path: Path, data) -> None:
    labelled, corpora = data
    first = feedback_commands.train_builtin_command([labelled], corpora, tmp_path / "a")[0]
    second = feedback_commands.train_builtin_command([labelled], corpora, tmp_path / "b")[0]
    assert first == second
    for name in (BUILTIN_ARTIFACT, BUILTIN_METADATA):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


async def test_promote_writes_promoted_and_announces_under_the_feedback_key(
    tmp_path: Path, data, monkeypatch: pytest.MonkeyPatch
) -> None:
    labelled, _ = data
    monkeypatch.setenv("PARCELWATCH_MODEL_SIGNING_KEY", "k" * 32)  # train signs, promote checks
    version = train(tmp_path / "models", labelled, "--no-english-corpora")
    sent: list[tuple[str, bytes, bytes]] = []

    class Producer:  # what promote sends, without a broker
        def __init__(self, **_options) -> None: ...
        async def start(self) -> None: ...
        async def stop(self) -> None: ...
        async def send_and_wait(self, topic: str, *, key: bytes, value: bytes) -> None:
            sent.append((topic, key, value))

    async def no_topics(_settings) -> list[str]:
        return []

    monkeypatch.setattr(ml_commands, "AIOKafkaProducer", Producer)
    monkeypatch.setattr(ml_commands, "ensure_topics", no_topics)
    settings = Settings.from_env()
    announcement = await feedback_commands.promote_feedback_command(
        settings, tmp_path / "models", version
    )
    ((topic, key, value),) = sent
    assert (topic, key) == (settings.topics.model_updates, b"feedback")
    assert decode_model_update(value) == announcement
    assert announcement.model == "feedback"
    assert announcement.signature is not None
    assert feedback_registry(tmp_path / "models").promoted() == version
