"""Where the feedback analyzer's learned polarity model is kept: the registry and the built-in copy.

Trained versions live in a :class:`~parcelwatch.models.registry.ModelRegistry` of kind
:data:`FEEDBACK` rooted at ``<model_dir>/feedback`` (same versions, checksums, signatures and
PROMOTED file as the delay-risk model, whose registry is ``<model_dir>`` itself and ignores the
folder). The package also ships one trained model in ``builtin/`` (``polarity.skops`` and
``metadata.json`` with its SHA-256), the worker's default until a version is promoted. Both are
loaded by :func:`~parcelwatch.models.registry.load_verified_skops`: checksum, then the trusted
types, then skops; nothing is unpickled.

The fitted TF-IDF vectorizers hold vocabularies of some 10^5 terms, dicts of numpy integers,
which skops writes one entry at a time in time that grows with the square of their size (20,000
terms: 100 s; the shipped model's 200,000: hours). So an artifact stores each vocabulary apart,
as its terms in UTF-8 in index order (one byte array and one length array), and puts it back into
the estimator when loading: seconds, and a few MB.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer
from parcelwatch.models.feedback.polarity import TEXT_PREPARATION, PolarityModel
from parcelwatch.models.registry import (
    ModelKind,
    ModelRegistry,
    ModelRegistryError,
    StoredArtifact,
    artifact_metadata,
    load_verified_skops,
    sha256_hex,
)
from parcelwatch.schemas.model_update import FEEDBACK_MODEL

#: Types beyond skops' defaults that the fitted polarity estimator holds. ``fit_polarity`` builds
#: a Pipeline of a FeatureUnion of two TfidfVectorizers and a LogisticRegression: skops trusts
#: all of them by default (``skops.io.get_untrusted_types`` reports none), so nothing is added.
FEEDBACK_TRUSTED_TYPES: tuple[str, ...] = ()
FEEDBACK = ModelKind(
    FEEDBACK_MODEL,
    FEEDBACK_TRUSTED_TYPES,
    frozenset({"polarity", "vocabularies", "text_preparation"}),
)
REGISTRY_FOLDER = "feedback"

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
BUILTIN_ARTIFACT = "polarity.skops"
BUILTIN_METADATA = "metadata.json"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_SCHEMA_FILE = "schema.json"
# An object id in skops' schema: an "__id__" value, or the name of an array's file.
_OBJECT_ID = re.compile(r'("__id__": |"file": ")(\d+)(,|\n|\.npy")')


def feedback_registry(model_dir: Path, signing_key: bytes | None = None) -> ModelRegistry:
    return ModelRegistry(Path(model_dir) / REGISTRY_FOLDER, signing_key=signing_key, kind=FEEDBACK)


def analyzer_from_artifact(stored: StoredArtifact) -> FeedbackAnalyzer:
    """The analyzer running a registry version's polarity model, named by that version."""
    return FeedbackAnalyzer(PolarityModel(unpacked(stored.payload)), version=stored.version)


def packed(estimator: Any) -> dict[str, Any]:
    """The artifact payload of a fitted estimator: the estimator without its vocabularies, and
    the vocabularies as arrays, keyed by the estimator's parameter name of each vectorizer."""
    slim = copy.deepcopy(estimator)
    vocabularies = {}
    for name, vectorizer in _vectorizers(slim).items():
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        if [vectorizer.vocabulary_[term] for term in terms] != list(range(len(terms))):
            raise ValueError(f"{name}: vocabulary indices are not 0..n-1")
        encoded = [term.encode("utf-8") for term in terms]
        vocabularies[name] = {
            "utf8": np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(),
            "lengths": np.array([len(term) for term in encoded], dtype=np.int64),
        }
        vectorizer.vocabulary_ = {}
        # id() of the stop word list, kept to skip re-checking it: a memory address, which would
        # make every artifact differ; without it the (empty) list is checked again once.
        vectorizer.__dict__.pop("_stop_words_id", None)
    return {"polarity": slim, "vocabularies": vocabularies, "text_preparation": TEXT_PREPARATION}


def unpacked(payload: dict[str, Any]) -> Any:
    """The fitted estimator of :func:`packed`'s payload, vocabularies back in place."""
    if payload.get("text_preparation") != TEXT_PREPARATION:
        raise ModelRegistryError(
            f"the model was trained on texts prepared as {payload.get('text_preparation')!r}; "
            f"this release prepares them as {TEXT_PREPARATION!r}: retrain it"
        )
    estimator = payload["polarity"]
    vectorizers = _vectorizers(estimator)
    vocabularies = payload["vocabularies"]
    if not isinstance(vocabularies, dict) or set(vocabularies) != set(vectorizers):
        raise ModelRegistryError("the artifact's vocabularies do not match its vectorizers")
    for name, vectorizer in vectorizers.items():
        data = bytes(np.asarray(vocabularies[name]["utf8"], dtype=np.uint8))
        ends = np.cumsum(np.asarray(vocabularies[name]["lengths"], dtype=np.int64))
        starts = np.concatenate(([0], ends[:-1]))
        vectorizer.vocabulary_ = {
            data[start:end].decode("utf-8"): index
            for index, (start, end) in enumerate(zip(starts, ends, strict=True))
        }
    return estimator


def _vectorizers(estimator: Any) -> dict[str, Any]:
    """The fitted parts of ``estimator`` that hold a vocabulary, by parameter name."""
    parts = {"": estimator, **estimator.get_params(deep=True)}
    return {
        name: part
        for name, part in parts.items()
        if isinstance(getattr(part, "vocabulary_", None), dict)
    }


def load_builtin_analyzer(directory: Path = BUILTIN_DIR) -> FeedbackAnalyzer:
    """The analyzer with the polarity model shipped in the package; rules only if none is shipped.

    A shipped model that fails its checksum or type check is an error, not a silent fallback.
    """
    artifact = directory / BUILTIN_ARTIFACT
    if not artifact.is_file():
        return FeedbackAnalyzer()
    where = f"built-in feedback model {artifact}"
    try:
        metadata = json.loads((directory / BUILTIN_METADATA).read_bytes())
        expected = metadata["artifact_sha256"]
        version = metadata["version"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelRegistryError(f"{where}: unreadable {BUILTIN_METADATA}: {error}") from error
    payload = load_verified_skops(artifact.read_bytes(), expected, FEEDBACK_TRUSTED_TYPES, where)
    # Exactly the artifact's keys; one without ``text_preparation`` (an older release's) gets
    # unpacked's "retrain" message rather than this one.
    keys = set(payload) | {"text_preparation"} if isinstance(payload, dict) else set()
    if keys != FEEDBACK.payload_keys:
        raise ModelRegistryError(f"{where}: not a feedback model artifact")
    try:
        estimator = unpacked(payload)  # also refuses a model of another text preparation
    except ModelRegistryError as error:
        raise ModelRegistryError(f"{where}: {error}") from error
    return FeedbackAnalyzer(PolarityModel(estimator), version=version)


def builtin_metadata(directory: Path = BUILTIN_DIR) -> dict[str, Any]:
    return json.loads((directory / BUILTIN_METADATA).read_bytes())


def write_builtin(estimator: Any, metadata: dict[str, Any], directory: Path = BUILTIN_DIR) -> str:
    """Replace the built-in model; the same estimator and metadata give the same bytes.

    The version is ``builtin-`` and the artifact's first 8 hex digits: it names the model, so
    flagged feedback says which one read it.
    """
    artifact = deterministic_skops(packed(estimator))
    load_verified_skops(  # refuse now what the worker would refuse later
        artifact, sha256_hex(artifact), FEEDBACK_TRUSTED_TYPES, "new built-in feedback model"
    )
    sha256 = sha256_hex(artifact)
    version = f"builtin-{sha256[:8]}"
    document = artifact_metadata(metadata, version, sha256, model=FEEDBACK_MODEL)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / BUILTIN_ARTIFACT).write_bytes(artifact)
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (directory / BUILTIN_METADATA).write_text(text, encoding="utf-8")
    return version


def deterministic_skops(obj: Any) -> bytes:
    """``skops.io.dumps`` made reproducible, so equal objects give equal bytes.

    skops names each object by its ``id()`` (the ``__id__`` of schema.json, and the file name of
    each array) and dates each zip entry when written. Here ids are renumbered in order of first
    appearance in schema.json, consistently in both places, and entries are dated 1980-01-01.
    """
    written = zipfile.ZipFile(io.BytesIO(sio.dumps(obj)))
    schema = written.read(_SCHEMA_FILE).decode("utf-8")
    renumbered: dict[str, str] = {}

    def canonical(object_id: str) -> str:
        return renumbered.setdefault(object_id, str(len(renumbered) + 1))

    schema = _OBJECT_ID.sub(lambda m: m.group(1) + canonical(m.group(2)) + m.group(3), schema)
    entries = {_SCHEMA_FILE: schema.encode("utf-8")}
    for entry in written.infolist():
        if entry.filename != _SCHEMA_FILE:
            stem, _, suffix = entry.filename.partition(".")
            if stem not in renumbered:
                raise ValueError(f"skops wrote {entry.filename}, which its schema does not name")
            entries[f"{renumbered[stem]}.{suffix}"] = written.read(entry)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as rewritten:
        for name in sorted(entries):
            rewritten.writestr(zipfile.ZipInfo(name, date_time=_ZIP_EPOCH), entries[name])
    return out.getvalue()
